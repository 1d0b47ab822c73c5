"""The HTTP API under load: `agenthub serve` (release build) side by side with peers measured in the same
run, at the same concurrency, with `wrk` (Debian package) as the load generator for all of them.

  REST  POST /v1/tools/memory_get/call and GET /v1/skills?q= (the list), ?q=WORD (a search; AgentHub answers
        a repeated query from its cache until skills change) and ?q=WORD+N with N new on every request
        (every answer computed: the cache never hits), against a
        FastAPI + uvicorn app serving the same SQLite queries from the same registry.db with the same key
        check (bench/http_peer_fastapi.py; uvicorn with as many workers as cores).
  MCP   tools/call read_file over Streamable HTTP, in one 2025-11-25 session and as stateless 2026-07-28
        requests, against the Python `mcp` SDK's Streamable HTTP server with the same read_file
        (bench/http_peer_mcp.py). A Python SDK client first checks that
        both answer the call alike.

Before each REST row, both answer the row's request 2xx with the same content; a row whose load run saw
any non-2xx answer or socket error (either side) is printed but not counted (no ratio).
Prints requests/s, p50 and p99 per target and the ratio. Asserts nothing about time.

usage: http_api.py --binary .build/release/agenthub [--seconds 10] [--connections 32] [--skills 300]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = sys.executable
WORDS = ["data", "report", "chart", "pdf", "email", "review", "deploy", "test", "query", "image", "audio", "budget"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/", timeout=60, ok=(200, 401, 404, 405, 406)):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status in ok:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read().decode()


def prepare(root, skills):
    os.makedirs(os.path.join(root, "skills"))
    for i in range(skills):
        d = os.path.join(root, "skills", f"skill-{i:04d}")
        os.makedirs(d)
        words = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(4))
        with open(os.path.join(d, "SKILL.md"), "w") as f:
            f.write(f"---\nname: skill-{i:04d}\ndescription: Helps with {words} tasks, number {i}.\n---\n# Skill {i}\n\n" + (f"Use it for {words}. " * 40) + "\n")
    with open(os.path.join(root, "registry.yaml"), "w") as f:
        f.write("""version: 1
host: { database: state/registry.db, cache: state/cache }
http: { rate_limit: 1000000, rate_burst: 1000000 }
router: { max_concurrent: 64 }
sources:
  - { name: local, path: ./skills }
policy:
  default: deny
  rules:
    - allow: [memory_get, memory_write, read_file, skills_search]
roles:
  bench: { skills: ["*"] }
plugins:
  memory: {}
  skills: {}
  file: { roots: [./skills] }
agents:
  bench: { role: bench }
""")


def wrk(url, script, env, seconds, connections):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, env={**os.environ, **env}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50": latency(50), "p99": latency(99), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(0) if errors else ""}


LUA = """
wrk.method = os.getenv("METHOD") or "GET"
wrk.headers["Authorization"] = os.getenv("AUTH")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
if os.getenv("SESSION") then
  wrk.headers["Mcp-Session-Id"] = os.getenv("SESSION")
end
if os.getenv("PROTOCOL") then wrk.headers["MCP-Protocol-Version"] = os.getenv("PROTOCOL") end
if os.getenv("MCPMETHOD") then
  wrk.headers["Mcp-Method"] = os.getenv("MCPMETHOD")
  wrk.headers["Mcp-Name"] = os.getenv("MCPNAME")
end
local body = os.getenv("BODY")
local rpc = os.getenv("RPC")
local pathfmt = os.getenv("PATHFMT")
local threads = 0
function setup(thread) thread:set("base", threads * 100000000); threads = threads + 1 end
local counter = 0
request = function()
  if pathfmt then
    counter = counter + 1
    return wrk.format(nil, string.format(pathfmt, (base or 0) + counter), nil, nil)
  end
  if rpc then
    counter = counter + 1
    return wrk.format(nil, nil, nil, string.format(rpc, (base or 0) + counter))
  end
  return wrk.format(nil, nil, nil, body)
end
"""


def mcp_session(port, headers):
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers}
    status, got, body = request(port, "POST", "/mcp", init, h)
    session = got.get("mcp-session-id") or got.get("Mcp-Session-Id")
    assert status == 200 and session, f"initialize: {status} {body[:300]}"
    h["Mcp-Session-Id"] = session
    h["MCP-Protocol-Version"] = "2025-11-25"
    request(port, "POST", "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, h)
    return session


def sdk_read_file(url, key, path):
    """One read_file through the Python SDK's own client: what a real client sees."""
    code = f"""
import asyncio, json
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
async def main():
    async with create_mcp_http_client(headers={json.dumps({"Authorization": f"Bearer {key}"} if key else {})}) as http:
        async with Client(streamable_http_client({url!r}, http_client=http), mode="legacy") as c:
            r = await c.call_tool("read_file", {{"path": {path!r}}})
            print(json.dumps(r.structured_content))
asyncio.run(main())
"""
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr[-500:]}


def row(name, a, b):
    """A row counts only when every answer of both was 2xx (wrk says how many were not)."""
    ratio = a["rps"] / b["rps"] if b["rps"] else float("inf")
    counted = not (a["non2xx"] or b["non2xx"] or a["errors"] or b["errors"])
    return (f"{name:<34} {a['rps']:>10,.0f} {a['p50']:>7.2f} {a['p99']:>7.2f}   {b['rps']:>10,.0f} {b['p50']:>7.2f} {b['p99']:>7.2f}   "
            + (f"{ratio:>5.1f}x" if counted else "  not counted")
            + (f"   (non-2xx: agenthub {a['non2xx']}, peer {b['non2xx']}; {a['errors']} {b['errors']})" if not counted else ""))


def same_answer(name, port, peer, path, method, body, auth, normalize):
    """Before a REST row is measured: both answer the request 2xx with the same content (normalized:
    fields that legitimately differ, such as our span id, are left out)."""
    status_a, _, text_a = request(port, method, path, body, auth)
    status_b, _, text_b = request(peer, method, path, body, auth)
    assert 200 <= status_a < 300 and 200 <= status_b < 300, f"{name}: agenthub {status_a}, peer {status_b}: {text_a[:200]} | {text_b[:200]}"
    a, b = normalize(json.loads(text_a)), normalize(json.loads(text_b))
    assert a == b, f"{name}: the answers differ: {str(a)[:300]} | {str(b)[:300]}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skills", type=int, default=300)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not shutil.which("wrk"):
        sys.exit("the HTTP bench drives load with wrk: apt-get install wrk")
    root = tempfile.mkdtemp(prefix="agenthub-http-bench-")
    procs = []
    try:
        prepare(root, args.skills)
        key = subprocess.run([binary, "keys", "create", "--agent", "bench"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        port = free_port()
        procs.append(subprocess.Popen([binary, "serve", "--http", f"127.0.0.1:{port}"], cwd=root, stderr=subprocess.DEVNULL))
        assert wait_http(port, "/ready", ok=(200,)), "agenthub serve did not become ready"
        auth = {"Authorization": f"Bearer {key}"}
        status, _, body = request(port, "POST", "/v1/tools/memory_write/call", {"arguments": {"text": "a note to read back", "type": "core"}}, auth)
        memory = json.loads(body)["structuredContent"]["id"]

        peer = free_port()
        workers = str(os.cpu_count() or 2)
        env = {**os.environ, "AGENTHUB_DB": os.path.join(root, "state", "registry.db"), "AGENTHUB_PEPPER": os.path.join(root, "state", "key-pepper")}
        procs.append(subprocess.Popen([PYTHON, "-m", "uvicorn", "--app-dir", HERE, "http_peer_fastapi:app", "--port", str(peer),
                                       "--workers", workers, "--log-level", "warning", "--no-access-log"], env=env, cwd=root))
        assert wait_http(peer, "/v1/skills"), "the FastAPI peer did not start"
        mcp_peer = free_port()
        procs.append(subprocess.Popen([PYTHON, os.path.join(HERE, "http_peer_mcp.py"), os.path.join(root, "skills"), str(mcp_peer)], cwd=HERE))
        assert wait_http(mcp_peer, "/mcp", timeout=90), "the Python SDK peer did not start"

        # Same answers first.
        ours = json.loads(request(port, "POST", "/v1/tools/memory_get/call", {"arguments": {"id": memory}}, auth)[2])
        theirs = json.loads(request(peer, "POST", "/v1/tools/memory_get/call", {"arguments": {"id": memory}}, auth)[2])
        assert ours["structuredContent"]["text"] == theirs["structuredContent"]["text"], (ours, theirs)
        ours = json.loads(request(port, "GET", "/v1/skills?q=chart", None, auth)[2])["skills"]
        theirs = json.loads(request(peer, "GET", "/v1/skills?q=chart", None, auth)[2])["skills"]
        assert [s["name"] for s in ours] == [s["name"] for s in theirs], "the search answers differ"
        path = "skill-0007/SKILL.md"
        a = sdk_read_file(f"http://127.0.0.1:{port}/mcp", key, path)
        b = sdk_read_file(f"http://127.0.0.1:{mcp_peer}/mcp", None, path)
        assert a.get("content") == b.get("content") and a.get("content"), (a, b)

        script = os.path.join(root, "bench.lua")
        with open(script, "w") as f:
            f.write(LUA)
        seconds, conns = args.seconds, args.connections
        print(f"HTTP API bench: wrk -t2 -c{conns} -d{seconds}s; {args.skills} skills; {os.cpu_count()} cores; "
              f"peer REST: FastAPI {__import__('fastapi').__version__} + uvicorn ({workers} workers); peer MCP: Python mcp SDK Streamable HTTP")
        print(f"{'':<34} {'agenthub rps':>10} {'p50 ms':>7} {'p99 ms':>7}   {'peer rps':>10} {'p50 ms':>7} {'p99 ms':>7}   ratio")
        base = {"AUTH": f"Bearer {key}"}
        get_body = json.dumps({"arguments": {"id": memory}})
        content = lambda answer: answer["structuredContent"]
        names = lambda answer: [s["name"] for s in answer["skills"]]
        for name, route, extra, check_path, check_body, normalize in [
            ("POST /v1/tools/memory_get/call", "/v1/tools/memory_get/call", {"METHOD": "POST", "BODY": get_body},
             "/v1/tools/memory_get/call", {"arguments": {"id": memory}}, content),
            ("GET /v1/skills?q=", "/v1/skills?q=", {}, "/v1/skills?q=", None, names),
            ("GET /v1/skills?q=chart", "/v1/skills?q=chart", {}, "/v1/skills?q=chart", None, names),
            ("GET /v1/skills?q=chart+N (unique)", "/v1/skills?q=chart", {"PATHFMT": "/v1/skills?q=chart+%d"}, "/v1/skills?q=chart+1", None, names),
        ]:
            same_answer(name, port, peer, check_path, "POST" if check_body else "GET", check_body, auth, normalize)
            a = wrk(f"http://127.0.0.1:{port}{route}", script, {**base, **extra}, seconds, conns)
            b = wrk(f"http://127.0.0.1:{peer}{route}", script, {**base, **extra}, seconds, conns)
            print(row(name, a, b))
        rpc = '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"' + path + '"}}}'
        ours_session = mcp_session(port, {"Authorization": f"Bearer {key}"})
        theirs_session = mcp_session(mcp_peer, {})
        a = wrk(f"http://127.0.0.1:{port}/mcp", script, {**base, "METHOD": "POST", "RPC": rpc, "SESSION": ours_session, "PROTOCOL": "2025-11-25"}, seconds, conns)
        b = wrk(f"http://127.0.0.1:{mcp_peer}/mcp", script, {"AUTH": "", "METHOD": "POST", "RPC": rpc, "SESSION": theirs_session, "PROTOCOL": "2025-11-25"}, seconds, conns)
        print(row("MCP tools/call read_file (session)", a, b))
        meta = ('"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},'
                '"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}')
        modern = '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"' + path + '"},' + meta + '}}'
        headers = {"METHOD": "POST", "RPC": modern, "PROTOCOL": "2026-07-28", "MCPMETHOD": "tools/call", "MCPNAME": "read_file"}
        a = wrk(f"http://127.0.0.1:{port}/mcp", script, {**base, **headers}, seconds, conns)
        b = wrk(f"http://127.0.0.1:{mcp_peer}/mcp", script, {"AUTH": "", **headers}, seconds, conns)
        print(row("MCP tools/call read_file (2026-07-28)", a, b))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
