"""Drives AgentHub's /mcp with the Python `mcp` SDK's own Streamable HTTP client.

usage: mcp_http_client.py URL KEY MODE [--wait-list-changed SECONDS]

MODE is the SDK's `mode`: `auto` (its default: probes server/discover and speaks 2026-07-28 when the
server does, else falls back to initialize), `legacy` (initialize only) or a pinned `2026-07-28`. Prints one JSON line per step; with --wait-list-changed it prints READY,
then waits for notifications/tools/list_changed (the test reloads the manifest meanwhile) and prints
LIST_CHANGED with the tools listed after it.
"""
import asyncio
import json
import sys

import mcp_types as types
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


def say(**fields):
    print(json.dumps(fields), flush=True)


async def main() -> None:
    url, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    wait = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--wait-list-changed" else None
    changed = asyncio.Event()

    async def on_message(message) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, types.ToolListChangedNotification) or getattr(root, "method", None) == "notifications/tools/list_changed":
            changed.set()

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    async with http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, message_handler=on_message) as client:
            say(step="connected", protocol=client.protocol_version)
            tools = await client.list_tools()
            say(step="tools", names=sorted(t.name for t in tools.tools))
            wrote = await client.call_tool("memory_write", {"text": "streamable http note", "type": "core"})
            say(step="memory_write", is_error=bool(wrote.is_error), structured=wrote.structured_content)
            got = await client.call_tool("memory_search", {"query": "streamable"})
            say(step="memory_search", is_error=bool(got.is_error), text=got.content[0].text if got.content else "")
            try:
                await client.call_tool("write_file", {"path": "x", "content": "y"})
                say(step="write_file", refused=False)
            except MCPError as error:
                say(step="write_file", refused=True, message=str(error))
            if wait is not None and client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                # 2026-07-28: changes arrive on a subscriptions/listen stream the client opens.
                async with client.listen(tools_list_changed=True) as subscription:
                    say(step="READY", honored=bool(subscription.honored.tools_list_changed))

                    async def first_event():
                        async for event in subscription:
                            return type(event).__name__

                    event = await asyncio.wait_for(first_event(), timeout=wait)
                    tools = await client.list_tools()
                    say(step="LIST_CHANGED", event=event, names=sorted(t.name for t in tools.tools))
            elif wait is not None:
                say(step="READY")
                await asyncio.wait_for(changed.wait(), timeout=wait)
                tools = await client.list_tools()
                say(step="LIST_CHANGED", names=sorted(t.name for t in tools.tools))


asyncio.run(main())
