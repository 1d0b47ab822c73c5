"""Live reload: from the write of registry.yaml to the first call that sees the new policy, in a running
`agenthub mcp` (release build) serving a manifest of 50 roles and 500 bridged tools (plus the built-in
ones). Each round flips whether the session's role may call `many__t499` and calls it until the answer
follows the edit. The peer, measured in the same run, is what a host without live reload must do:
start `agenthub mcp` again on the edited manifest and answer the same call. (Gateways that reload at
all wait a 500 ms debounce before they start.) Asserts nothing about time.

usage: reload.py --binary .build/release/agenthub [--rounds 20] [--restarts 10]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mcp_stdio import Connection  # noqa: E402

ROLES = 50
TOOLS = 500


def manifest(allowed):
    """50 roles, each allowed its own tenth of the 500 bridged tools; role0 also `many__t499` when `allowed`."""
    lines = ["version: 1", "host: { database: registry.db, cache: cache }", "policy:", "  default: deny", "  rules:",
             "    - allow: [skills_*, memory_search]", "roles:"]
    for r in range(ROLES):
        names = [f"many__t{r * 10 + i}" for i in range(10)]
        if r == 0 and allowed:
            names.append(f"many__t{TOOLS - 1}")
        lines.append(f"  role{r}: {{ allow: [{', '.join(names)}] }}")
    lines += ["plugins:", "  skills: {}", "  memory: {}", "  mcp:", "    servers:",
              f"      many: {{ command: {sys.executable}, args: [{os.path.join(HERE, 'many_tools_server.py')}, '{TOOLS}'] }}"]
    return "\n".join(lines) + "\n"


def write(path, text):
    """As an editor saves: a new file renamed over the old one."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def call(c, request_id):
    c.send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": f"many__t{TOOLS - 1}", "arguments": {}}})
    while True:
        reply = c.read()
        if reply.get("id") == request_id:
            return "result" in reply


def list_tools(c):
    c.send({"jsonrpc": "2.0", "id": "list", "method": "tools/list"})
    while True:
        reply = c.read()
        if reply.get("id") == "list":
            return [t["name"] for t in reply["result"]["tools"]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=10)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    command = [binary, "mcp", "--role", "role0", "--agent", "bench", "--no-sync"]
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "registry.yaml")
        write(path, manifest(False))
        c = Connection(command, work)
        c.initialize()
        tools = list_tools(c)
        bridged = [t for t in tools if t.startswith("many__")]
        if len(bridged) != 10:
            raise RuntimeError(f"role0 should see 10 bridged tools, sees {len(bridged)}")
        reloads, calls_per_round = [], []
        allowed = False
        request = 0
        for _ in range(args.rounds):
            allowed = not allowed
            time.sleep(0.1)  # let the previous reload's list_changed settle
            started = time.perf_counter()
            write(path, manifest(allowed))
            calls = 0
            while True:
                request += 1
                calls += 1
                if call(c, request) == allowed:
                    break
            reloads.append(time.perf_counter() - started)
            calls_per_round.append(calls)
        c.close()

        restarts = []
        for i in range(args.restarts):
            allowed = i % 2 == 0
            started = time.perf_counter()
            write(path, manifest(allowed))
            c = Connection(command, work)
            c.initialize()
            list_tools(c)  # the first list waits for the bridged server, as a client's would
            if call(c, 1) != allowed:
                raise RuntimeError("a fresh host did not follow the manifest")
            restarts.append(time.perf_counter() - started)
            c.close()

    reload_ms = statistics.median(reloads) * 1000
    restart_ms = statistics.median(restarts) * 1000
    print(f"reload: {ROLES} roles, {len(tools)} tools visible to role0 of {TOOLS} bridged + built-in; {args.rounds} edits")
    print(f"{'':34}{'median':>10}{'p90':>10}{'max':>10}")
    print(f"{'write → first call under it':34}{reload_ms:>8.1f}ms{sorted(reloads)[int(0.9 * (len(reloads) - 1))] * 1000:>8.1f}ms{max(reloads) * 1000:>8.1f}ms")
    print(f"{'restart agenthub mcp (peer)':34}{restart_ms:>8.1f}ms{sorted(restarts)[int(0.9 * (len(restarts) - 1))] * 1000:>8.1f}ms{max(restarts) * 1000:>8.1f}ms")
    print(f"calls made before the new policy answered: median {statistics.median(calls_per_round):.0f}")
    print(f"ratio restart / reload: {restart_ms / reload_ms:.1f}x; a 500 ms debounce alone is {500 / reload_ms:.1f}x the whole reload")


if __name__ == "__main__":
    main()
