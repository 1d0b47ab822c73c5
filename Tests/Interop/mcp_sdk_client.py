"""Drives `agenthub mcp` with the Python `mcp` SDK as the client, the way MCP hosts use it.

usage: mcp_sdk_client.py MODE AGENTHUB WORKDIR
MODE is `auto` (the SDK's default: the server/discover probe, then 2026-07-28 without a handshake) or
`legacy` (initialize only).
Runs every scenario, then prints one JSON object: {"checks": N, "failures": [...], "connect_seconds": S}.
"""
import asyncio
import json
import os
import subprocess
import sys
import time

import warnings

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

warnings.simplefilter("ignore")
failures: list[str] = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)


async def all_pages(fetch, key):
    items, cursor, pages = [], None, 0
    while True:
        result = await fetch(cursor)
        items += getattr(result, key)
        pages += 1
        cursor = result.next_cursor
        if not cursor:
            return items, pages


async def expect_error(coro, code, contains, what):
    try:
        await coro
    except MCPError as e:
        check(e.code == code, f"{what}: expected error {code}, got {e.code} ({e})")
        check(contains in str(e), f"{what}: expected the error to say {contains!r}, got {e}")
        return str(e)
    check(False, f"{what}: expected error {code}, got a result")
    return ""


def server(binary, workdir, role, *extra):
    return StdioServerParameters(command=binary, args=["mcp", "--role", role, *extra], cwd=workdir)


async def editor_session(binary, workdir, mode):
    started = time.monotonic()
    async def decline(context, params):
        # memory_delete asks for approval: this client says no.
        return types.ElicitResult(action="decline")

    async with Client(server(binary, workdir, "editor", "--group", "writers", "--agent", "interop-editor"), mode=mode,
                      elicitation_callback=decline) as client:
        connect_seconds = time.monotonic() - started
        if mode == "legacy":
            check(client.session.initialize_result is not None, "the session should have used the initialize handshake")
            init = client.session.initialize_result
            check(init.server_info.name == "agenthub", f"serverInfo.name: {init.server_info.name}")
            check(init.protocol_version == "2025-11-25", f"negotiated {init.protocol_version}, expected 2025-11-25")
            capabilities = init.capabilities
        else:
            # auto: the SDK's default probes server/discover and speaks the stateless 2026-07-28 revision.
            check(client.session.discover_result is not None and client.session.initialize_result is None,
                  "auto mode should speak 2026-07-28 over stdio, without the handshake")
            check(client.protocol_version == "2026-07-28", f"negotiated {client.protocol_version}, expected 2026-07-28")
            info = client.session.server_info
            check(info is not None and info.name == "agenthub", f"serverInfo: {info}")
            capabilities = client.session.discover_result.capabilities
        check(capabilities.tools is not None and capabilities.resources is not None and capabilities.prompts is not None,
              "tools, resources and prompts capabilities")

        # tools/list, a page at a time (the test manifest sets mcp.page_size: 3)
        tools, pages = await all_pages(lambda c: client.list_tools(cursor=c), "tools")
        names = [t.name for t in tools]
        expected = {"read_file", "list_files", "memory_write", "memory_get", "memory_search", "memory_delete",
                    "export_trace", "skills_search", "skills_get"}
        check(set(names) == expected, f"editor tools: {sorted(names)}")
        check(len(names) == len(set(names)), f"tools listed twice across pages: {names}")
        check(pages >= 3, f"tools/list should take several pages of 3, took {pages}")
        read_file = next(t for t in tools if t.name == "read_file")
        check(read_file.output_schema is not None, "read_file declares an output schema")

        # every built-in tool the role may call
        r = await client.call_tool("read_file", {"path": "incident-review/SKILL.md", "max_bytes": 200})
        check(not r.is_error and r.structured_content and r.structured_content["path"] == "incident-review/SKILL.md",
              f"read_file: {r}")
        check(r.structured_content and r.structured_content.get("truncated") is True, "read_file max_bytes truncates")
        r = await client.call_tool("list_files", {"path": "incident-review"})
        check(not r.is_error and "SKILL.md" in json.dumps(r.structured_content), f"list_files: {r}")
        r = await client.call_tool("memory_write", {"type": "episodic", "text": "The interop client met a heron by the river."})
        check(not r.is_error, f"memory_write: {r}")
        memory_id = (r.structured_content or {}).get("id")
        check(isinstance(memory_id, str) and memory_id.startswith("mem_"), f"memory_write id: {r.structured_content}")
        r = await client.call_tool("memory_get", {"id": memory_id})
        check(not r.is_error and "heron" in r.content[0].text, f"memory_get: {r}")
        r = await client.call_tool("memory_search", {"query": "heron river"})
        check(not r.is_error and memory_id in json.dumps(r.structured_content), f"memory_search: {r}")
        r = await client.call_tool("skills_search", {"query": "incident"})
        check(not r.is_error and "incident-review" in json.dumps(r.structured_content), f"skills_search: {r}")
        r = await client.call_tool("skills_get", {"name": "release-notes"})
        check(not r.is_error and (r.structured_content or {}).get("name") == "release-notes", f"skills_get: {r}")
        r = await client.call_tool("export_trace", {"agent": "interop-editor", "limit": 50})
        check(not r.is_error and "memory_write" in json.dumps(r.structured_content), f"export_trace: {str(r)[:300]}")
        r = await client.call_tool("memory_delete", {"id": memory_id})
        check(r.is_error and "was denied by client:interop-editor" in r.content[0].text, f"memory_delete (ask) should be declined by the client: {r}")

        # tool failures are results; protocol problems are errors
        r = await client.call_tool("memory_search", {"query": "x", "top_k": 80})
        check(r.is_error and "top_k" in r.content[0].text, f"invalid arguments should be an isError result naming the field: {r}")
        r = await client.call_tool("memory_get", {"id": "mem_999999"})
        check(r.is_error and "mem_999999" in r.content[0].text, f"a missing memory is an isError result: {r}")
        denied = await expect_error(client.call_tool("write_file", {"path": "x", "content": "y"}), -32602, "Unknown tool", "denied write_file")
        unknown = await expect_error(client.call_tool("no_such_tool", {}), -32602, "Unknown tool", "unknown tool")
        check(denied.replace("write_file", "T") == unknown.replace("no_such_tool", "T"), f"denied and unknown must read alike: {denied!r} vs {unknown!r}")

        # resources: skills as skill://SOURCE/NAME/SKILL.md and skill://SOURCE/NAME/PATH (the Skills extension)
        resources, _ = await all_pages(lambda c: client.list_resources(cursor=c), "resources")
        uris = [str(r.uri) for r in resources]
        check("skill://local/incident-review/SKILL.md" in uris and "skill://local/incident-review/references/timeline-template.md" in uris,
              f"resources: {uris}")
        read = await client.read_resource("skill://local/incident-review/SKILL.md")
        check("name: incident-review" in read.contents[0].text, f"skill://local/incident-review/SKILL.md: {str(read)[:200]}")
        read = await client.read_resource("skill://local/incident-review/references/timeline-template.md")
        check("Timeline template" in read.contents[0].text, f"a skill file as a resource: {str(read)[:200]}")
        # The deprecated form still reads, for one release.
        read = await client.read_resource("skill://incident-review")
        check("name: incident-review" in read.contents[0].text, f"skill://incident-review (deprecated) should be its SKILL.md: {str(read)[:200]}")
        missing_code = -32002 if mode == "legacy" else -32602
        await expect_error(client.read_resource("skill://local/no-such-skill/SKILL.md"), missing_code, "no-such-skill", "a missing resource")
        templates = await client.list_resource_templates()
        check({t.uri_template for t in templates.resource_templates} == {"skill://{source}/{name}/SKILL.md", "skill://{source}/{name}/{+path}"},
              f"templates: {templates}")
        check((client.server_capabilities.extensions or {}).get("io.modelcontextprotocol/skills") == {"directoryRead": True},
              f"the Skills extension capability: {client.server_capabilities.extensions}")

        # prompts: each visible skill
        prompts, _ = await all_pages(lambda c: client.list_prompts(cursor=c), "prompts")
        check({"incident-review", "release-notes", "yaml-config-review"} <= {p.name for p in prompts}, f"prompts: {[p.name for p in prompts]}")
        prompt = await client.get_prompt("release-notes", {"task": "notes for v2.1"})
        text = prompt.messages[0].content.text
        check(prompt.messages[0].role == "user" and "release-notes" in text and "Task: notes for v2.1" in text, f"prompt: {text[:300]}")
        await expect_error(client.get_prompt("no-such-skill"), -32602, "Unknown prompt", "a missing prompt")

        if mode == "legacy":
            await client.send_ping()

        # a cancelled call: the client gives up at once and sends notifications/cancelled; the session goes on
        with anyio.move_on_after(0.0005):
            await client.call_tool("memory_search", {"query": "heron"})
        r = await client.call_tool("memory_search", {"query": "heron"})
        check(not r.is_error, f"the session works after a cancelled call: {r}")
        return connect_seconds


async def researcher_session(binary, workdir, mode):
    async with Client(server(binary, workdir, "researcher"), mode=mode) as client:
        tools, _ = await all_pages(lambda c: client.list_tools(cursor=c), "tools")
        names = {t.name for t in tools}
        check("memory_delete" not in names and "export_trace" not in names and "write_file" not in names,
              f"researcher must not see memory_delete, export_trace or write_file: {sorted(names)}")
        check({"read_file", "memory_write", "skills_get"} <= names, f"researcher tools: {sorted(names)}")
        await expect_error(client.call_tool("export_trace", {}), -32602, "Unknown tool", "researcher calling export_trace")
        if mode == "auto":
            # 2026-07-28 over stdio: list changes arrive on a subscriptions/listen stream. A skill
            # published by `agenthub sync` in another process reaches it.
            async with client.listen(resources_list_changed=True) as subscription:
                check(bool(subscription.honored.resources_list_changed), f"listen honored: {subscription.honored}")
                folder = os.path.join(workdir, "skills", "listen-probe")
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, "SKILL.md"), "w") as f:
                    f.write("---\nname: listen-probe\ndescription: Published while a client listens.\n---\nRead me.\n")
                synced = subprocess.run([binary, "sync"], cwd=workdir, capture_output=True, text=True)
                check(synced.returncode == 0, f"agenthub sync: {synced.stderr[-500:]}")

                async def first_event():
                    async for event in subscription:
                        return type(event).__name__
                try:
                    event = await asyncio.wait_for(first_event(), timeout=30)
                except asyncio.TimeoutError:
                    event = None
                check(event is not None and "Resource" in event, f"a publish should reach the listen stream: {event}")
            resources, _ = await all_pages(lambda c: client.list_resources(cursor=c), "resources")
            check(any("listen-probe" in str(r.uri) for r in resources), "the published skill is listed after the change")


async def main():
    mode, binary, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    connect = await editor_session(binary, workdir, mode)
    await researcher_session(binary, workdir, mode)
    print(json.dumps({"checks": checks, "failures": failures, "connect_seconds": round(connect, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
