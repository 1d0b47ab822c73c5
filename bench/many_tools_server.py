"""A minimal MCP stdio server (raw JSON-RPC, no SDK: it starts in milliseconds) offering N tools
`t0` … `t{N-1}`, each answering its own name. The reload bench bridges it for a manifest of 500 tools.

usage: many_tools_server.py N
"""
import json
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
tools = [{"name": f"t{i}", "description": f"Tool number {i}.", "inputSchema": {"type": "object", "properties": {}}}
         for i in range(count)]


def answer(message_id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "result": result}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    message = json.loads(line)
    method, message_id = message.get("method"), message.get("id")
    if message_id is None:
        continue
    if method == "initialize":
        answer(message_id, {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                            "serverInfo": {"name": "many", "version": "1"}})
    elif method == "tools/list":
        answer(message_id, {"tools": tools})
    elif method == "tools/call":
        answer(message_id, {"content": [{"type": "text", "text": message["params"]["name"]}]})
    else:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "error": {"code": -32601, "message": method}}) + "\n")
        sys.stdout.flush()
