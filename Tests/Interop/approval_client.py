"""The Python `mcp` SDK as a client that answers AgentHub's approval requests (elicitation/create).

usage: approval_client.py stdio AGENTHUB WORKDIR ROLE
       approval_client.py http URL KEY [MODE]

memory_write needs approval in the test manifest. The client's elicitation callback answers, in
order: accept for this call, decline, accept for the rest of the session (for the agent under the
stateless 2026-07-28, where every request is a session of its own). It then calls once more (the
grant lets it run without asking). MODE is the SDK's: `legacy` (default; a session, elicitation
requests on the POST's stream) or `auto` (2026-07-28: "input required" results and retries).
Prints one JSON object with what it saw.
"""
import asyncio
import json
import sys
import warnings

import mcp_types as types
from mcp import Client, StdioServerParameters

warnings.simplefilter("ignore")

answers = [
    types.ElicitResult(action="accept", content={"scope": "call", "reason": "looks fine"}),
    types.ElicitResult(action="decline"),
    types.ElicitResult(action="accept", content={"scope": "session"}),
]
seen: list[dict] = []


async def on_elicit(context, params):
    schema = params.requested_schema if hasattr(params, "requested_schema") else None
    seen.append({"message": params.message, "schema": schema if isinstance(schema, dict) else getattr(schema, "model_dump", lambda **_: None)(by_alias=True)})
    if not answers:
        return types.ElicitResult(action="cancel")
    return answers.pop(0)


def outcome(result):
    text = result.content[0].text if result.content else ""
    return {"is_error": bool(result.is_error), "text": text}


async def main() -> None:
    if sys.argv[1] == "stdio":
        binary, workdir, role = sys.argv[2], sys.argv[3], sys.argv[4]
        transport = StdioServerParameters(command=binary, args=["mcp", "--role", role, "--no-sync"], cwd=workdir)
        mode = "legacy"
    else:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        http = create_mcp_http_client(headers={"Authorization": f"Bearer {sys.argv[3]}"})
        transport = streamable_http_client(sys.argv[2], http_client=http)
        mode = sys.argv[4] if len(sys.argv) > 4 else "legacy"
        if mode != "legacy":
            answers[2] = types.ElicitResult(action="accept", content={"scope": "agent"})
    out = {}
    async with Client(transport, mode=mode, elicitation_callback=on_elicit) as client:
        out["protocol"] = client.protocol_version
        for step in ["approved", "declined", "session"]:
            result = await client.call_tool("memory_write", {"type": "episodic", "text": f"note {step}"})
            out[step] = outcome(result)
            out[step + "_elicitations"] = len(seen)
        result = await client.call_tool("memory_write", {"type": "episodic", "text": "note after the grant"})
        out["after_grant"] = outcome(result)
        out["after_grant_elicitations"] = len(seen)
    out["first_message"] = seen[0]["message"] if seen else None
    out["first_schema"] = seen[0]["schema"] if seen else None
    print(json.dumps(out), flush=True)


asyncio.run(main())
