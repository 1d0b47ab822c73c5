"""The web console under load: what a page costs against the API answer with the same data, in the same
`agenthub serve` (release build), same run, same concurrency, with `wrk` driving both.

  GET /skills?q=chart      (HTML: the search page, signed in by cookie)  vs  GET /v1/skills?q=chart (JSON)
  GET /skills/skill-0007   (HTML: the skill page, its Markdown rendered once and kept)  vs  GET /v1/skills/skill-0007
  GET /events              (HTML: the latest 100 events)  vs  GET /v1/events?limit=100

and the first view of a skill page, whose Markdown is rendered in a child process (`agenthub render-markdown`),
against a second view (kept by the body's digest) and the API's JSON for the same skill, one request at a
time over 40 skills.

Prints requests/s, p50 and p99 per target and the ratio. Asserts nothing about time.

usage: console.py --binary .build/release/agenthub [--seconds 10] [--connections 32] [--skills 300]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_api import LUA, free_port, prepare, request, wait_http, wrk  # noqa: E402

COOKIE_LUA = LUA.replace('wrk.headers["Authorization"] = os.getenv("AUTH")',
                         'if os.getenv("AUTH") ~= "" then wrk.headers["Authorization"] = os.getenv("AUTH") end\n'
                         'if os.getenv("COOKIE") then wrk.headers["Cookie"] = os.getenv("COOKIE") end')


def sign_in(port, key):
    """The browser's sign-in: the page (its cookie and token), then the form. Returns the session cookie."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/login")
    r = c.getresponse()
    page = r.read().decode()
    login = re.search(r"agenthub_login=([^;]+)", r.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = f"csrf={token}&key={key}&next=/"
    c.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"agenthub_login={login}"})
    r = c.getresponse()
    r.read()
    session = re.search(r"agenthub_session=([^;]+)", r.getheader("Set-Cookie")).group(1)
    return f"agenthub_session={session}"


def timed_get(port, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    elapsed = (time.perf_counter() - start) * 1000
    assert r.status == 200, (path, r.status, body[:200])
    return elapsed


def row(name, a, b, peer):
    ratio = a["rps"] / b["rps"] if b["rps"] else float("inf")
    return (f"{name:<28} {a['rps']:>10,.0f} {a['p50']:>7.2f} {a['p99']:>7.2f}   {peer:<26} {b['rps']:>10,.0f} {b['p50']:>7.2f} {b['p99']:>7.2f}   {ratio:>5.2f}x"
            + (f"   (non-2xx: page {a['non2xx']}, api {b['non2xx']})" if a["non2xx"] or b["non2xx"] else ""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skills", type=int, default=300)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not shutil.which("wrk"):
        sys.exit("the console bench drives load with wrk: apt-get install wrk")
    root = tempfile.mkdtemp(prefix="agenthub-console-bench-")
    server = None
    try:
        prepare(root, args.skills)
        with open(os.path.join(root, "registry.yaml")) as f:
            manifest = f.read().replace("  bench: { role: bench }", "  bench: { role: bench, admin: true }")
        with open(os.path.join(root, "registry.yaml"), "w") as f:
            f.write(manifest)
        key = subprocess.run([binary, "keys", "create", "--agent", "bench"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        port = free_port()
        server = subprocess.Popen([binary, "serve", "--http", f"127.0.0.1:{port}"], cwd=root, stderr=subprocess.DEVNULL)
        assert wait_http(port, "/ready", ok=(200,)), "agenthub serve did not become ready"
        auth = {"Authorization": f"Bearer {key}"}
        for i in range(200):
            request(port, "POST", "/v1/tools/memory_write/call", {"arguments": {"text": f"note {i}", "type": "episodic"}, "session": f"s{i % 7}"}, auth)
        cookie = sign_in(port, key)

        # The same data first: the page lists what the API answers.
        page = request(port, "GET", "/skills?q=chart", None, {"Cookie": cookie})[2]
        api = json.loads(request(port, "GET", "/v1/skills?q=chart", None, auth)[2])["skills"]
        assert all(f">{s['name']}</a>" in page for s in api), "the search page and the API disagree"

        # First and second views of skill pages, one at a time.
        first, second, plain = [], [], []
        for i in range(40):
            name = f"skill-{(i * 7) % args.skills:04d}"
            first.append(timed_get(port, f"/skills/{name}", {"Cookie": cookie}))
            second.append(timed_get(port, f"/skills/{name}", {"Cookie": cookie}))
            plain.append(timed_get(port, f"/v1/skills/{name}", auth))

        script = os.path.join(root, "bench.lua")
        with open(script, "w") as f:
            f.write(COOKIE_LUA)
        seconds, conns = args.seconds, args.connections
        print(f"Console bench: wrk -t2 -c{conns} -d{seconds}s; {args.skills} skills, 200 events; {os.cpu_count()} cores; "
              f"the peer is the API's JSON for the same data, same process")
        print(f"{'page':<28} {'rps':>10} {'p50 ms':>7} {'p99 ms':>7}   {'api':<26} {'rps':>10} {'p50 ms':>7} {'p99 ms':>7}   page/api")
        for name, page_path, api_path in [
            ("GET /skills?q=chart", "/skills?q=chart", "/v1/skills?q=chart"),
            ("GET /skills/skill-0007", "/skills/skill-0007", "/v1/skills/skill-0007"),
            ("GET /events", "/events", "/v1/events?limit=100"),
        ]:
            a = wrk(f"http://127.0.0.1:{port}{page_path}", script, {"AUTH": "", "COOKIE": cookie}, seconds, conns)
            b = wrk(f"http://127.0.0.1:{port}{api_path}", script, {"AUTH": f"Bearer {key}"}, seconds, conns)
            print(row(name, a, b, "GET " + api_path))
        med = statistics.median
        print(f"skill page, first view (Markdown rendered in a child): median {med(first):.2f} ms, max {max(first):.2f} ms over 40 skills")
        print(f"skill page, second view (rendering kept):             median {med(second):.2f} ms ({med(first) / med(second):.1f}x faster than the first)")
        print(f"GET /v1/skills/NAME (JSON, no rendering):              median {med(plain):.2f} ms (second view / API: {med(second) / med(plain):.2f}x)")
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
