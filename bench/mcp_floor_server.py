"""The floor of the MCP stdio bench: a server that does nothing but answer. It reads each line,
takes its id, and writes a canned answer of the same shape and size as `read_file`'s (the file is
read once at start), so what remains of a call is the driver, the pipes and the JSON a client must
parse. No server can answer this driver faster; AgentHub's share of this rate is how close it is.

usage: mcp_floor_server.py FILE
"""
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    content = f.read()
payload = {"path": "sample.txt", "content": content, "truncated": False, "size": len(content.encode())}
result = json.dumps({"content": [{"type": "text", "text": json.dumps(payload)}], "structuredContent": payload, "isError": False})
head = b'{"jsonrpc":"2.0","id":'
call_tail = (',"result":' + result + "}\n").encode()
empty_tail = b',"result":{}}\n'
init_tail = (',"result":' + json.dumps({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                                        "serverInfo": {"name": "floor", "version": "1"}}) + "}\n").encode()
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    message = json.loads(line)
    if "id" not in message:
        continue
    method = message.get("method")
    tail = call_tail if method == "tools/call" else init_tail if method == "initialize" else empty_tail
    out.write(head + json.dumps(message["id"]).encode() + tail)
    out.flush()
