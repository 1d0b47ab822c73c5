"""The MCP stdio bridge: the same downstream server (bench/mcp_reference_server.py, Python `mcp` SDK, with
a small `echo` and the 4 KiB `read_file`) called directly by the driver, and through `agenthub mcp`
(release build) which bridges it as `ref__echo` and `ref__read_file`.

For each tool and window (1: one call at a time; 16: pipelined), --calls calls; prints calls/s, p50 and
p99 for both paths, the ratio bridge/direct and what the bridge adds at p50. Asserts nothing about time.

usage: mcp_bridge.py --binary .build/release/agenthub [--calls 5000] [--windows 1,16] [--rounds 10]
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mcp_stdio import Connection, percentile, run_calls  # noqa: E402


def wait_for_tools(c, prefix):
    """The first tools/list waits for the bridged server (startup_wait); check it is there."""
    c.send({"jsonrpc": "2.0", "id": "list", "method": "tools/list"})
    reply = c.read()
    while reply.get("id") != "list":
        reply = c.read()
    names = [t["name"] for t in reply["result"]["tools"]]
    if not any(n.startswith(prefix) for n in names):
        raise RuntimeError(f"no {prefix}* tools listed: {names}")


def alternate(direct, bridged, per_round, rounds):
    """Each path (a function of a call count returning calls/s and each call's latency) measured in
    alternating rounds, so the machine's noise hits both alike: (direct calls/s, latencies, bridge calls/s, latencies)."""
    d_time = b_time = 0.0
    d_lat, b_lat = [], []
    for _ in range(rounds):
        rate, lat = direct(per_round)
        d_time += len(lat) / rate
        d_lat += lat
        rate, lat = bridged(per_round)
        b_time += len(lat) / rate
        b_lat += lat
    return len(d_lat) / d_time, d_lat, len(b_lat) / b_time, b_lat


def print_rows(column, rows, note):
    """The table both bridge benches print: a row per (name, window) with both paths' rates and latencies."""
    ms = 1000
    print(f"{column:10} {'window':>6} {'direct/s':>9} {'bridge/s':>9} {'bridge/direct':>13} "
          f"{'direct p50':>11} {'bridge p50':>11} {'added p50':>10} {'direct p99':>11} {'bridge p99':>11}")
    for name, window, d_rate, d_lat, b_rate, b_lat in rows:
        d50, b50 = percentile(d_lat, 50) * ms, percentile(b_lat, 50) * ms
        print(f"{name:10} {window:6d} {d_rate:9.0f} {b_rate:9.0f} {b_rate / d_rate:12.2f}x "
              f"{d50:10.3f}m {b50:10.3f}m {b50 - d50:9.3f}m {percentile(d_lat, 99) * ms:10.3f}m {percentile(b_lat, 99) * ms:10.3f}m")
    print(note)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--windows", default="1,16")
    parser.add_argument("--rounds", type=int, default=10, help="direct and bridge alternate this many times per row")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    windows = [int(w) for w in args.windows.split(",")]
    server = os.path.join(HERE, "mcp_reference_server.py")

    with tempfile.TemporaryDirectory(prefix="agenthub-bridge-bench-") as work:
        data = os.path.join(work, "data")
        os.makedirs(data)
        line = "The quick brown fox jumps over the lazy dog, and the bench reads it again.\n"
        with open(os.path.join(data, "sample.txt"), "w") as f:
            f.write((line * (4096 // len(line) + 1))[:4096])
        with open(os.path.join(work, "registry.yaml"), "w") as f:
            f.write("version: 1\nrouter:\n  max_concurrent: 64\npolicy:\n  default: deny\n  rules:\n    - allow: [\"ref__*\"]\n"
                    "roles:\n  bench: {}\nplugins:\n  mcp:\n    servers:\n      ref:\n"
                    f"        command: {sys.executable}\n        args: [{server}, {data}]\n        risk: low\n")
        subprocess.run([binary, "check", "--config", "registry.yaml"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        cases = [("echo", {"text": "hello"}, lambda r: r.get("structuredContent", {}).get("result") == "hello"),
                 ("read_file", {"path": "sample.txt"}, lambda r: r.get("structuredContent", {}).get("size") == 4096)]
        direct = Connection([sys.executable, server, data], work)
        direct.initialize()
        bridged = Connection([binary, "mcp", "--config", "registry.yaml", "--role", "bench", "--agent", "bench", "--no-sync"], work)
        bridged.initialize()
        wait_for_tools(bridged, "ref__")
        rows = []
        for tool, arguments, check in cases:
            for window in windows:
                # Warm both up, then measure them in alternating rounds so the machine's noise hits both alike.
                run_calls(direct, tool, arguments, 200, window, check)
                run_calls(bridged, "ref__" + tool, arguments, 200, window, check)
                per_round = max(1, args.calls // args.rounds)
                measured = alternate(lambda n: run_calls(direct, tool, arguments, n, window, check),
                                     lambda n: run_calls(bridged, "ref__" + tool, arguments, n, window, check), per_round, args.rounds)
                rows.append((tool, window) + measured)
        direct.close()
        bridged.close()

    print(f"MCP bridge: {args.calls} tools/call per row, the same Python SDK server called directly and through agenthub mcp")
    print_rows("tool", rows, "(m = milliseconds; bridge/direct: 1.00x means the bridge costs no throughput. The driver is Python, so at "
               "high rates it is part of what is measured.)")

if __name__ == "__main__":
    main()
