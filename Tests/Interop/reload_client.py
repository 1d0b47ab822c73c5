"""A Python `mcp` SDK client of `agenthub mcp`, driven line by line so a test can edit the manifest
between steps and see what the client sees.

usage: reload_client.py AGENTHUB WORKDIR ARGS...   (ARGS go to `agenthub mcp`)

Commands on stdin, one per line; each prints one JSON line on stdout:
  list              -> {"tools": [names]}
  wait              -> {"changed": N} once a tools/list_changed arrives that was not waited for yet
                       (or {"changed": N, "timeout": true} after 60 s)
  call NAME [JSON]  -> {"error": bool, "text": "...", "rpc_error": code-or-null}
  messages          -> {"messages": [data of each notifications/message received]}
  quit
Starts by printing {"ready": true} once the session is initialised.
"""
import json
import sys
import warnings

import anyio
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
import mcp.types as types

warnings.simplefilter("ignore")


def out(value):
    print(json.dumps(value), flush=True)


async def main():
    binary, workdir, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    changed = 0
    waited = 0
    messages = []
    arrived = anyio.Event()

    async def on_message(message):
        nonlocal changed, arrived
        inner = getattr(message, "root", message)
        if isinstance(inner, types.ToolListChangedNotification):
            changed += 1
            arrived.set()
            arrived = anyio.Event()

    async def on_log(params):
        messages.append(str(params.data))

    params = StdioServerParameters(command=binary, args=["mcp", *args], cwd=workdir)
    async with Client(params, mode="legacy", message_handler=on_message, logging_callback=on_log) as client:
        out({"ready": True})
        while True:
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            if not line or line.strip() == "quit":
                return
            command, _, rest = line.strip().partition(" ")
            if command == "list":
                result = await client.list_tools()
                out({"tools": sorted(t.name for t in result.tools)})
            elif command == "wait":
                if changed <= waited:
                    with anyio.move_on_after(60) as scope:
                        event = arrived
                        await event.wait()
                    if scope.cancelled_caught:
                        out({"changed": changed, "timeout": True})
                        continue
                waited = changed
                out({"changed": changed})
            elif command == "call":
                name, _, arguments = rest.partition(" ")
                try:
                    result = await client.call_tool(name, json.loads(arguments) if arguments else {})
                    text = " ".join(getattr(c, "text", "") for c in result.content)
                    out({"error": bool(result.is_error), "text": text, "rpc_error": None})
                except MCPError as e:
                    out({"error": True, "text": str(e), "rpc_error": e.code})
            elif command == "messages":
                out({"messages": messages})


if __name__ == "__main__":
    anyio.run(main)
