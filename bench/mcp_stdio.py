"""MCP over stdio: AgentHub's `agenthub mcp` (release build) against two peers, both offering `read_file`
on the same 4 KiB file and driven by the same raw JSON-RPC client: a reference server written with the
Python `mcp` SDK, and a do-nothing server that answers every call with the same canned bytes (the floor
of the driver: what is left of a call is the driver, the pipes and the JSON).

Measures, for each server, in the same run:
- spawn → initialized: from starting the process to the `initialize` answer (median of --spawns runs);
- ping round trip: sequential pings (p50, p99);
- tools/call throughput and latency: --calls `read_file` requests with each of --windows in flight
  (1: one at a time; 16: pipelined).
Prints a table per window and AgentHub's ratio to each peer; asserts nothing about time.

usage: mcp_stdio.py --binary .build/release/agenthub [--calls 20000] [--windows 1,16] [--pings 2000] [--spawns 10]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Connection:
    def __init__(self, command, cwd):
        self.proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, bufsize=0)
        self.out = self.proc.stdout
        self.pending = b""

    def send(self, message):
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    def read(self):
        while b"\n" not in self.pending:
            chunk = os.read(self.out.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("the server closed stdout")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def initialize(self):
        self.send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                   "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
        reply = self.read()
        if "result" not in reply:
            raise RuntimeError(f"initialize failed: {reply}")
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def spawn_times(command, cwd, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        c = Connection(command, cwd)
        c.initialize()
        times.append(time.perf_counter() - started)
        c.close()
    return statistics.median(times)


def pings(c, count):
    times = []
    for i in range(count):
        started = time.perf_counter()
        c.send({"jsonrpc": "2.0", "id": f"p{i}", "method": "ping"})
        reply = c.read()
        times.append(time.perf_counter() - started)
        assert reply.get("id") == f"p{i}" and "result" in reply, reply
    return times


def run_calls(c, tool, arguments, count, window, check):
    """`count` tools/call requests with `window` in flight; each result must pass `check`. Returns calls/s
    and the latency of each call. Notifications (no id) between answers are skipped."""
    sent_at = [0.0] * count
    latencies = [0.0] * count
    slots = threading.Semaphore(window)
    errors = []

    def reader():
        for _ in range(count):
            reply = c.read()
            while "id" not in reply:
                reply = c.read()
            now = time.perf_counter()
            i = reply.get("id")
            result = reply.get("result")
            if not isinstance(i, int) or result is None or result.get("isError") or not check(result):
                errors.append(reply)
            if isinstance(i, int):
                latencies[i] = now - sent_at[i]
            slots.release()

    thread = threading.Thread(target=reader)
    thread.start()
    started = time.perf_counter()
    for i in range(count):
        slots.acquire()
        sent_at[i] = time.perf_counter()
        c.send({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
    thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} calls to {tool} failed, first: {str(errors[0])[:300]}")
    return count / elapsed, latencies


def pipelined_calls(c, count, window, expected_size):
    return run_calls(c, "read_file", {"path": "sample.txt"}, count, window,
                     lambda result: result.get("structuredContent", {}).get("size") == expected_size)


def measure(name, command, cwd, args, size):
    spawn = spawn_times(command, cwd, args.spawns)
    c = Connection(command, cwd)
    c.initialize()
    pipelined_calls(c, min(500, args.calls), 16, size)  # warm up
    ping = pings(c, args.pings)
    ms = 1000
    rows = {"name": name, "ping50": percentile(ping, 50) * ms, "ping99": percentile(ping, 99) * ms, "spawn": spawn * ms, "windows": {}}
    for window in args.windows:
        # One at a time is slow for the SDK server: a quarter of the calls keeps the run short.
        count = args.calls if window > 1 else max(500, args.calls // 4)
        rate, latencies = pipelined_calls(c, count, window, size)
        rows["windows"][window] = {"rate": rate, "p50": percentile(latencies, 50) * ms, "p99": percentile(latencies, 99) * ms, "count": count}
    c.close()
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--windows", default="1,16", help="calls in flight, comma-separated")
    parser.add_argument("--pings", type=int, default=2000)
    parser.add_argument("--spawns", type=int, default=10)
    args = parser.parse_args()
    args.windows = [int(w) for w in args.windows.split(",") if w]
    binary = os.path.abspath(args.binary)

    with tempfile.TemporaryDirectory(prefix="agenthub-mcp-bench-") as work:
        data = os.path.join(work, "data")
        os.makedirs(data)
        line = "The quick brown fox jumps over the lazy dog, and the bench reads it again.\n"
        text = (line * (4096 // len(line) + 1))[:4096]
        with open(os.path.join(data, "sample.txt"), "w") as f:
            f.write(text)
        with open(os.path.join(work, "registry.yaml"), "w") as f:
            f.write("version: 1\npolicy:\n  default: deny\n  rules:\n    - allow: [read_file]\n"
                    "roles:\n  bench: {}\nplugins:\n  file:\n    roots: [./data]\n")
        subprocess.run([binary, "check", "--config", "registry.yaml"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        sample = os.path.join(data, "sample.txt")
        floor = measure("do-nothing server (floor)", [sys.executable, os.path.join(HERE, "mcp_floor_server.py"), sample], work, args, 4096)
        reference = measure("python mcp SDK server (reference)", [sys.executable, os.path.join(HERE, "mcp_reference_server.py"), data],
                            work, args, 4096)
        ours = measure("agenthub mcp (release)", [binary, "mcp", "--config", "registry.yaml", "--role", "bench", "--no-sync"],
                       work, args, 4096)

    print(f"MCP over stdio: tools/call read_file (4 KiB), {args.calls} calls pipelined, a quarter of them one at a time; "
          f"{args.pings} sequential pings; spawn to initialized, median of {args.spawns}")
    for window in args.windows:
        print()
        print(f"window {window} ({ours['windows'][window]['count']} calls)")
        print(f"{'server':36} {'calls/s':>9} {'call p50 ms':>12} {'call p99 ms':>12}")
        for r in (floor, reference, ours):
            w = r["windows"][window]
            print(f"{r['name']:36} {w['rate']:9.0f} {w['p50']:12.3f} {w['p99']:12.3f}")
        ours_rate = ours["windows"][window]["rate"]
        print(f"{'agenthub / reference':36} {ours_rate / reference['windows'][window]['rate']:8.2f}x")
        print(f"{'agenthub share of the floor':36} {ours_rate / floor['windows'][window]['rate'] * 100:8.0f}%")
    print()
    print(f"{'server':36} {'ping p50 ms':>12} {'ping p99 ms':>12} {'spawn ms':>9}")
    for r in (floor, reference, ours):
        print(f"{r['name']:36} {r['ping50']:12.3f} {r['ping99']:12.3f} {r['spawn']:9.1f}")
    print("(calls/s: higher is better; every other column: lower is better. The driver is Python too, so at high "
          "rates it is part of what is measured: the floor says how much.)")


if __name__ == "__main__":
    main()
