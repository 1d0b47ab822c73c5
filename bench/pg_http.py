"""Several hosts on one PostgreSQL, through the HTTP front: `agenthub serve` (release build) on SQLite,
one `agenthub serve` on PostgreSQL and three `agenthub serve` processes on the same PostgreSQL, each
driven by `wrk` at the same total concurrency (three hosts: one wrk per host, the connections split),
in one run, against a private PostgreSQL 15 server started for the run (initdb in a temp folder,
stopped by its PID at the end).

  POST /v1/tools/memory_get/call   the key check, a routed read and its trace
  POST /v1/tools/memory_write/call a routed write (each request a new memory) and its trace
  GET  /v1/skills?q=chart+N        a search computed every time (N new on every request: no cache hit)

Before the load, every host answers each request 2xx with the same content. Prints requests/s and p99
per configuration, PostgreSQL against SQLite, and three hosts against one (the scaling ratio).
Asserts nothing about time: the machine is shared, and on 2 cores the hosts, PostgreSQL and wrk share them.

usage: pg_http.py --binary .build/release/agenthub [--seconds 8] [--connections 24] [--skills 300]
"""
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_api import LUA, free_port, prepare, request, wait_http, wrk  # noqa: E402

PEPPER = "a-pepper-every-bench-host-shares"


def postgres_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        sys.exit("the PostgreSQL bench needs Debian's postgresql package: make deps")
    return os.path.dirname(found[-1])


class PrivatePostgres:
    def __init__(self, folder):
        self.bin = postgres_bin()
        self.folder = folder
        self.port = free_port()
        self.password = "bench-" + os.urandom(6).hex()
        with open(os.path.join(folder, "pw"), "w") as f:
            f.write(self.password)
        data = os.path.join(folder, "data")
        run_as = [] if os.geteuid() != 0 else ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        if run_as:
            subprocess.run(["chown", "-R", "postgres:postgres", folder], check=True)
        subprocess.run(run_as + [f"{self.bin}/initdb", "-D", data, "-U", "agenthub", f"--pwfile={folder}/pw", "--auth=scram-sha-256",
                                 "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        self.run_as, self.data = run_as, data
        subprocess.run(run_as + [f"{self.bin}/pg_ctl", "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o",
                                 f"-p {self.port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on", "start"],
                       check=True, capture_output=True)
        subprocess.run([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "agenthub", "-d", "postgres", "-c", "CREATE DATABASE agenthub"],
                       check=True, capture_output=True, env={**os.environ, "PGPASSWORD": self.password})

    def url(self):
        return f"postgres://agenthub:{self.password}@127.0.0.1:{self.port}/agenthub?sslmode=disable"

    def stop(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                os.kill(int(f.readline()), signal.SIGINT)
        except (OSError, ValueError):
            pass


def host_folder(root, name, skills_from, database):
    folder = os.path.join(root, name)
    shutil.copytree(skills_from, folder)
    path = os.path.join(folder, "registry.yaml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("database: state/registry.db", f'database: "{database}"'))
    return folder


def serve(binary, folder, env, procs):
    port = free_port()
    procs.append(subprocess.Popen([binary, "serve", "--http", f"127.0.0.1:{port}"], cwd=folder, env=env, stderr=subprocess.DEVNULL))
    return port


def load(ports, route, script, env, seconds, connections):
    """wrk against every port at once, the connections split between them; the summed rate and the worst p99."""
    results = [None] * len(ports)
    share = max(1, connections // len(ports))

    def one(i):
        results[i] = wrk(f"http://127.0.0.1:{ports[i]}{route}", script, env, seconds, share)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(ports))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": sum(r["rps"] for r in results), "p99": max(r["p99"] for r in results),
            "bad": sum(r["non2xx"] for r in results) > 0 or any(r["errors"] for r in results)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=24)
    parser.add_argument("--skills", type=int, default=300)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not shutil.which("wrk"):
        sys.exit("the bench drives load with wrk: apt-get install wrk")
    root = tempfile.mkdtemp(prefix="agenthub-pg-http-bench-")
    os.chmod(root, 0o755)
    procs, server = [], None
    try:
        template = os.path.join(root, "template")
        os.makedirs(template)
        prepare(template, args.skills)
        with open(os.path.join(template, "registry.yaml")) as f:
            text = f.read()
        with open(os.path.join(template, "registry.yaml"), "w") as f:
            f.write(text.replace("http: { rate_limit", "sync: { interval: 1h }\nhttp: { rate_limit"))
        pg_folder = os.path.join(root, "pg")
        os.makedirs(pg_folder)
        server = PrivatePostgres(pg_folder)
        env = {**os.environ, "AGENTHUB_KEY_PEPPER": PEPPER}

        lite = host_folder(root, "sqlite", template, "state/registry.db")
        pg = [host_folder(root, f"pg{i}", template, server.url()) for i in range(3)]
        keys = {}
        for name, folder in [("sqlite", lite), ("pg", pg[0])]:
            keys[name] = subprocess.run([binary, "keys", "create", "--agent", "bench"], cwd=folder, env=env,
                                        capture_output=True, text=True, check=True).stdout.strip()
        ports = {"sqlite": [serve(binary, lite, env, procs)], "pg": [serve(binary, f, env, procs) for f in pg]}
        for port in ports["sqlite"] + ports["pg"]:
            assert wait_http(port, "/ready", ok=(200,), timeout=120), f"a host on :{port} did not become ready"

        memory = {}
        for name in ["sqlite", "pg"]:
            auth = {"Authorization": f"Bearer {keys[name]}"}
            status, _, body = request(ports[name][0], "POST", "/v1/tools/memory_write/call", {"arguments": {"text": "a note to read back", "type": "core"}}, auth)
            assert status == 200, body
            memory[name] = json.loads(body)["structuredContent"]["id"]
        # Same answers everywhere first: every PostgreSQL host reads what the first one wrote.
        for name, port_list in [("sqlite", ports["sqlite"]), ("pg", ports["pg"])]:
            auth = {"Authorization": f"Bearer {keys[name]}"}
            for port in port_list:
                got = json.loads(request(port, "POST", "/v1/tools/memory_get/call", {"arguments": {"id": memory[name]}}, auth)[2])
                assert got["structuredContent"]["text"] == "a note to read back", got
        searched = {}
        for name in ["sqlite", "pg"]:
            for port in ports[name]:
                answer = json.loads(request(port, "GET", "/v1/skills?q=chart+1", None, {"Authorization": f"Bearer {keys[name]}"})[2])
                searched.setdefault(name, []).append([s["name"] for s in answer["skills"]])
        # The same skills match on both backends (their order may differ: ts_rank is not bm25), and alike on every PostgreSQL host.
        assert searched["sqlite"][0] and all(sorted(s) == sorted(searched["sqlite"][0]) for s in searched["pg"]), ("the search answers differ", searched)
        assert all(s == searched["pg"][0] for s in searched["pg"]), ("the PostgreSQL hosts answer the search differently", searched["pg"])

        script = os.path.join(root, "bench.lua")
        with open(script, "w") as f:
            f.write(LUA)
        seconds, conns = args.seconds, args.connections
        print(f"PostgreSQL bench over HTTP: wrk -t2 -d{seconds}s, {conns} connections in all; {args.skills} skills; {os.cpu_count()} cores; "
              f"PostgreSQL {os.path.basename(os.path.dirname(postgres_bin()))} on 127.0.0.1")
        print(f"{'':<34} {'SQLite rps':>10} {'p99':>6}   {'1 PG rps':>9} {'p99':>6}   {'3 PG rps':>9} {'p99':>6}   {'PG/SQLite':>9} {'3/1 hosts':>9}")
        rows = [
            ("POST /v1/tools/memory_get/call", "/v1/tools/memory_get/call", lambda n: {"METHOD": "POST", "BODY": json.dumps({"arguments": {"id": memory[n]}})}),
            ("POST /v1/tools/memory_write/call", "/v1/tools/memory_write/call",
             lambda n: {"METHOD": "POST", "RPC": '{"arguments":{"type":"episodic","text":"bench note %d"}}'}),
            ("GET /v1/skills?q=chart+N", "/v1/skills?q=chart", lambda n: {"PATHFMT": "/v1/skills?q=chart+%d"}),
        ]
        for label, route, extra in rows:
            lite_run = load(ports["sqlite"], route, script, {"AUTH": f"Bearer {keys['sqlite']}", **extra("sqlite")}, seconds, conns)
            one = load(ports["pg"][:1], route, script, {"AUTH": f"Bearer {keys['pg']}", **extra("pg")}, seconds, conns)
            three = load(ports["pg"], route, script, {"AUTH": f"Bearer {keys['pg']}", **extra("pg")}, seconds, conns)
            bad = lite_run["bad"] or one["bad"] or three["bad"]
            ratio = "-" if bad else f"{one['rps'] / lite_run['rps']:.2f}x"
            scale = "-" if bad else f"{three['rps'] / one['rps']:.2f}x"
            print(f"{label:<34} {lite_run['rps']:>10.0f} {lite_run['p99']:>6.1f}   {one['rps']:>9.0f} {one['p99']:>6.1f}   "
                  f"{three['rps']:>9.0f} {three['p99']:>6.1f}   {ratio:>9} {scale:>9}" + ("   (non-2xx or socket errors: not counted)" if bad else ""))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if server:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
