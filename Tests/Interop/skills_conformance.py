"""A Skills extension (io.modelcontextprotocol/skills) conformance client, on the Python `mcp` SDK.

usage:
  skills_conformance.py stdio MODE AGENTHUB WORKDIR ROLE [--shadowed URI] [--hidden URI]
  skills_conformance.py http MODE MCP_URL KEY [--rest BASE] [--shadowed URI] [--hidden URI]

MODE is `auto` (2026-07-28) or `legacy` (2025-11-25, initialize). The client checks the capability,
pages through skills/list, compares each entry's frontmatter field by field with the YAML of the
SKILL.md it reads back, recomputes every file's digest and size from resources/read, walks the skill
through resources/directory/read and checks that it lists exactly the entry's files, gets a shadowed
copy by URI (--shadowed: served by skills/get, absent from the listing), checks that a hidden skill
(--hidden) is refused like a missing one, and with --rest compares GET /v1/skills/SOURCE/NAME and the
raw file route with the MCP answers. Prints one JSON object: {"checks", "failures", "listed"}.
"""
import asyncio
import base64
import datetime
import hashlib
import json
import sys
import urllib.error
import urllib.request
from typing import Any

import warnings

import mcp_types as types
import yaml
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from pydantic import TypeAdapter

warnings.simplefilter("ignore")
EXTENSION = "io.modelcontextprotocol/skills"
failures: list[str] = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)


class Raw(types.Request[dict[str, Any] | None, str]):
    """Any request by method name: the SDK has no typed skills/* requests."""


async def request(client, method, params):
    return await client.session.send_request(Raw(method=method, params=params), TypeAdapter(dict[str, Any]))


async def expect_error(coro, code, what):
    try:
        await coro
    except MCPError as e:
        check(e.code == code, f"{what}: expected error {code}, got {e.code} ({e})")
        return str(e)
    check(False, f"{what}: expected error {code}, got a result")
    return ""


def jsonish(value):
    """A YAML value as JSON would carry it (dates become their ISO text)."""
    if isinstance(value, dict):
        return {str(k): jsonish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonish(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def frontmatter_of(text):
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    return jsonish(yaml.safe_load("\n".join(lines[1:end])))


async def read_bytes(client, uri):
    result = await client.read_resource(uri)
    content = result.contents[0]
    check(str(content.uri) == uri, f"resources/read {uri} answered for {content.uri}")
    if getattr(content, "blob", None) is not None:
        return base64.b64decode(content.blob)
    return content.text.encode("utf-8")


async def walk(client, uri, found):
    """Every file under a directory resource, through resources/directory/read."""
    cursor = None
    while True:
        params = {"uri": uri} | ({"cursor": cursor} if cursor else {})
        page = await request(client, "resources/directory/read", params)
        check(page.get("resultType", "complete") == "complete", f"directory read {uri}: resultType {page.get('resultType')}")
        for child in page["resources"]:
            check(child["uri"].startswith(uri + "/") and "/" not in child["uri"][len(uri) + 1:],
                  f"{child['uri']} is not a direct child of {uri}")
            if child.get("mimeType") == "inode/directory":
                await walk(client, child["uri"], found)
            else:
                found.add(child["uri"])
        cursor = page.get("nextCursor")
        if not cursor:
            return


async def verify_entry(client, entry, rest):
    uri = entry["uri"]
    fm = entry.get("frontmatter")
    check(isinstance(fm, dict) and "name" in fm and "description" in fm, f"{uri}: frontmatter lacks name or description: {fm}")
    check(uri.startswith("skill://") and uri.endswith(f"/{fm['name']}/SKILL.md"), f"{uri}: the last segment before SKILL.md must be the name {fm['name']!r}")
    resources = entry.get("resources")
    check(isinstance(resources, list), f"{uri}: resources must be a list, got {type(resources).__name__}")
    uris = [r["uri"] for r in resources]
    check(uri in uris, f"{uri}: resources must include the SKILL.md itself")
    check(len(uris) == len(set(uris)), f"{uri}: a file is listed twice")
    root = uri[: -len("/SKILL.md")]
    for r in resources:
        check(r["uri"].startswith(root + "/"), f"{r['uri']} is outside the skill {root}")
        check(isinstance(r["digest"], str) and r["digest"].startswith("sha256:") and len(r["digest"]) == 71
              and all(c in "0123456789abcdef" for c in r["digest"][7:]), f"{r['uri']}: digest {r['digest']!r} is not sha256:<64 lowercase hex>")
        data = await read_bytes(client, r["uri"])
        check(len(data) == r["size"], f"{r['uri']}: read {len(data)} bytes, the entry says {r['size']}")
        check("sha256:" + hashlib.sha256(data).hexdigest() == r["digest"], f"{r['uri']}: the bytes read do not hash to {r['digest']}")
        if r["uri"] == uri:
            written = frontmatter_of(data.decode("utf-8"))
            check(written == fm, f"{uri}: frontmatter differs from the SKILL.md read back: entry {fm} vs file {written}")
    walked = set()
    await walk(client, root, walked)
    if not entry.get("_meta", {}).get("io.agenthub/unserved"):
        check(walked == set(uris), f"{root}: directory reads found {sorted(walked ^ set(uris))} differently from the entry")
    await expect_error(request(client, "resources/directory/read", {"uri": uri}), -32602, f"directory read of the file {uri}")
    got = await request(client, "skills/get", {"uri": uri})
    check(got["skill"] == entry, f"skills/get {uri} differs from its skills/list entry")
    check("ttlMs" in got and "cacheScope" in got, f"skills/get {uri}: ttlMs and cacheScope are required")
    if rest:
        source, name = root[len("skill://"):].split("/", 1)
        base, key = rest
        status, body, headers = http_get(f"{base}/v1/skills/{source}/{name}", key)
        check(status == 200 and json.loads(body) == entry, f"GET /v1/skills/{source}/{name} ({status}) differs from the MCP entry")
        for r in resources:
            path = r["uri"][len(root) + 1:]
            status, body, headers = http_get(f"{base}/v1/skills/{source}/{name}/files/{path}", key)
            check(status == 200 and "sha256:" + hashlib.sha256(body).hexdigest() == r["digest"] and len(body) == r["size"],
                  f"GET .../files/{path}: {status}, {len(body)} bytes not matching {r['digest']}")
            check(headers.get("ETag") == f'"{r["digest"]}"', f"GET .../files/{path}: ETag {headers.get('ETag')} is not the digest")
            status, _, _ = http_get(f"{base}/v1/skills/{source}/{name}/files/{path}", key, {"If-None-Match": f'"{r["digest"]}"'})
            check(status == 304, f"GET .../files/{path} with its digest as If-None-Match: {status}, not 304")


def http_get(url, key, headers=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} | (headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


async def scenario(client, shadowed, hidden, rest):
    caps = client.server_capabilities
    extension = (caps.extensions or {}).get(EXTENSION)
    check(extension is not None and extension.get("directoryRead") is True, f"capability: extensions = {caps.extensions}")
    check(caps.resources is not None, "the extension requires the resources capability")
    listed, cursor, pages = [], None, 0
    while True:
        page = await request(client, "skills/list", {"cursor": cursor} if cursor else {})
        pages += 1
        check("ttlMs" in page and "cacheScope" in page, f"skills/list: ttlMs and cacheScope are required: {sorted(page)}")
        check(page.get("resultType") == "complete", f"skills/list: resultType {page.get('resultType')}")
        listed += page["skills"]
        cursor = page.get("nextCursor")
        if not cursor or pages > 100:
            break
    uris = [s["uri"] for s in listed]
    check(len(uris) == len(set(uris)), f"skills/list repeats an entry across pages: {uris}")
    for entry in listed:
        await verify_entry(client, entry, rest)
    if shadowed:
        check(shadowed not in uris, f"the shadowed copy {shadowed} must not be listed")
        got = await request(client, "skills/get", {"uri": shadowed})
        check(got["skill"]["uri"] == shadowed, f"skills/get {shadowed}: {got['skill'].get('uri')}")
        await verify_entry(client, got["skill"], rest)
    missing_uri = "skill://no-such-source/no-such-skill/SKILL.md"
    messages = {}
    for uri in [missing_uri] + ([hidden] if hidden else []):
        messages[uri] = await expect_error(request(client, "skills/get", {"uri": uri}), -32602, f"skills/get {uri}")
        await expect_error(request(client, "resources/directory/read", {"uri": uri[: -len("/SKILL.md")]}), -32602, f"directory read of {uri}")
        try:
            await client.read_resource(uri)
            check(False, f"resources/read {uri} must fail")
        except MCPError as e:
            check("Resource not found" in str(e), f"resources/read {uri}: {e}")
    if hidden:
        check(messages[hidden].replace(hidden, "U") == messages[missing_uri].replace(missing_uri, "U"),
              f"a hidden skill must read like a missing one: {messages}")
    return uris


def arguments(argv):
    options, rest = {}, []
    i = 0
    while i < len(argv):
        if argv[i].startswith("--"):
            options[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return rest, options


async def main():
    (kind, mode, *positional), options = arguments(sys.argv[1:])
    rest = None
    if kind == "stdio":
        binary, workdir, role = positional
        transport = StdioServerParameters(command=binary, args=["mcp", "--role", role, "--no-sync"], cwd=workdir)
    else:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client
        url, key = positional
        if "rest" in options:
            rest = (options["rest"], key)
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
                listed = await scenario(client, options.get("shadowed"), options.get("hidden"), rest)
        print(json.dumps({"checks": checks, "failures": failures, "listed": sorted(listed)}))
        return
    async with Client(transport, mode=mode) as client:
        listed = await scenario(client, options.get("shadowed"), options.get("hidden"), rest)
    print(json.dumps({"checks": checks, "failures": failures, "listed": sorted(listed)}))


if __name__ == "__main__":
    asyncio.run(main())
