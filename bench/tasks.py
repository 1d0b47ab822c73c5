"""Tool calls as tasks (the MCP Tasks extension) in `agenthub mcp` (release build), over stdio in the
2026-07-28 envelope. Three measurements, each against a peer in the same run; asserts nothing about time.

1. The cost of a task: `memory_search` answered inline (a client without the extension) against the same
   call as a task (`router.tasks: always`): the `tools/call` that creates it, then `tasks/get` until it
   is completed. Median and p90 per call, and the ratio.
2. How many tasks one host holds: N calls of a bridged `sleep` (a Python-SDK server that knows nothing
   of tasks) started as tasks at once, all running; the host's resident memory before and with them
   running (per task), and the time to create them all, against the same N calls made inline in one
   window (each holding its request open).
3. Knowing a task ended: a bridged 0.3 s `sleep` as a task, followed by polling `tasks/get` at the
   `pollIntervalMs` the task gives against `notifications/tasks` on a `subscriptions/listen`, with the
   same call inline as the floor. Median time from the call to knowing its result.

usage: tasks.py --binary .build/release/agenthub [--calls 300] [--tasks 500] [--rounds 20]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from mcp_stdio import Connection, percentile  # noqa: E402

SERVER = os.path.join(ROOT, "Tests", "Interop", "bridge_test_server.py")


def manifest(mode):
    return f"""version: 1
host: {{ database: registry.db, cache: cache }}
router: {{ tasks: {mode}, max_concurrent: 4096, max_tasks_per_agent: 100000, timeout: 10m }}
policy:
  default: deny
  rules:
    - allow: [memory_search, t__sleep]
roles:
  worker: {{}}
plugins:
  memory: {{}}
  mcp:
    startup_wait: 60s
    servers:
      t: {{ command: {sys.executable}, args: [{SERVER}], start_timeout: 60s }}
"""


def envelope(tasks):
    capabilities = {"extensions": {"io.modelcontextprotocol/tasks": {}}} if tasks else {}
    return {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": capabilities}


class Client:
    def __init__(self, binary, work, mode):
        with open(os.path.join(work, "registry.yaml"), "w") as f:
            f.write(manifest(mode))
        self.c = Connection([binary, "mcp", "--role", "worker", "--agent", "bench", "--no-sync"], work)
        self.next = 0
        self.answers = {}
        self.ask("tools/call", {"name": "memory_search", "arguments": {"query": "warm"}}, tasks=False)

    def send(self, method, params, tasks):
        self.next += 1
        self.c.send({"jsonrpc": "2.0", "id": self.next, "method": method, "params": dict(params, _meta=envelope(tasks))})
        return self.next

    def wait(self, wanted):
        """The answer to request `wanted`; answers to others that arrive first are kept for their turn."""
        while wanted not in self.answers:
            reply = self.c.read()
            if "id" in reply:
                self.answers[reply["id"]] = reply
        reply = self.answers.pop(wanted)
        if "error" in reply:
            raise RuntimeError(f"error: {reply['error']}")
        return reply["result"]

    def ask(self, method, params, tasks=True):
        return self.wait(self.send(method, params, tasks))

    def rss_kib(self):
        with open(f"/proc/{self.c.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def close(self):
        self.c.close()


def cost(binary, calls):
    with tempfile.TemporaryDirectory() as work:
        client = Client(binary, work, "always")
        inline, task = [], []
        for i in range(calls):
            start = time.perf_counter()
            client.ask("tools/call", {"name": "memory_search", "arguments": {"query": f"q{i}"}}, tasks=False)
            inline.append(time.perf_counter() - start)
            start = time.perf_counter()
            created = client.ask("tools/call", {"name": "memory_search", "arguments": {"query": f"q{i}"}})
            if created.get("resultType") != "task":
                raise RuntimeError(f"expected a task: {created}")
            while client.ask("tasks/get", {"taskId": created["taskId"]})["status"] != "completed":
                pass
            task.append(time.perf_counter() - start)
        client.close()
    print(f"1. the cost of a task (memory_search, {calls} calls each, one at a time)")
    print(f"   {'':28} {'median ms':>10} {'p90 ms':>10}")
    print(f"   {'inline (no extension)':28} {statistics.median(inline) * 1000:10.2f} {percentile(inline, 90) * 1000:10.2f}")
    print(f"   {'task: create + poll':28} {statistics.median(task) * 1000:10.2f} {percentile(task, 90) * 1000:10.2f}")
    print(f"   task / inline: {statistics.median(task) / statistics.median(inline):.2f}x")


def held(binary, count):
    with tempfile.TemporaryDirectory() as work:
        client = Client(binary, work, "always")
        client.ask("tools/call", {"name": "t__sleep", "arguments": {"seconds": 0.01}}, tasks=False)
        before = client.rss_kib()
        start = time.perf_counter()
        ids = [client.send("tools/call", {"name": "t__sleep", "arguments": {"seconds": 120}}, True) for _ in range(count)]
        created = [client.wait(i) for i in ids]
        created_s = time.perf_counter() - start
        if any(c.get("resultType") != "task" for c in created):
            raise RuntimeError("expected tasks")
        time.sleep(2)
        with_tasks = client.rss_kib()
        working = sum(1 for c in created if client.ask("tasks/get", {"taskId": c["taskId"]})["status"] == "working")
        for c in created:
            client.ask("tasks/cancel", {"taskId": c["taskId"]})
        client.close()
    with tempfile.TemporaryDirectory() as work:
        client = Client(binary, work, "never")
        client.ask("tools/call", {"name": "t__sleep", "arguments": {"seconds": 0.01}}, tasks=False)
        inline_before = client.rss_kib()
        start = time.perf_counter()
        ids = [client.send("tools/call", {"name": "t__sleep", "arguments": {"seconds": 3}}, False) for _ in range(count)]
        time.sleep(1.5)
        inline_held = client.rss_kib()
        for i in ids:
            client.wait(i)
        inline_s = time.perf_counter() - start
        client.close()
    print(f"\n2. {count} bridged calls held at once (a 120 s sleep as tasks; a 3 s sleep inline, one window)")
    print(f"   tasks: created all in {created_s:.2f} s ({count / created_s:.0f}/s); {working} still working after 2 s")
    print(f"   host RSS: {before / 1024:.1f} MiB before, {with_tasks / 1024:.1f} MiB with them running "
          f"({(with_tasks - before) / count:.1f} KiB per task)")
    print(f"   inline peer: RSS {inline_before / 1024:.1f} MiB before, {inline_held / 1024:.1f} MiB holding them "
          f"({(inline_held - inline_before) / count:.1f} KiB per call); all answered in {inline_s:.2f} s")


def knowing(binary, rounds):
    with tempfile.TemporaryDirectory() as work:
        client = Client(binary, work, "always")
        client.ask("tools/call", {"name": "t__sleep", "arguments": {"seconds": 0.01}}, tasks=False)
        call = {"name": "t__sleep", "arguments": {"seconds": 0.3}}
        inline, polled, told = [], [], []
        for _ in range(rounds):
            start = time.perf_counter()
            client.ask("tools/call", call, tasks=False)
            inline.append(time.perf_counter() - start)

            start = time.perf_counter()
            task = client.ask("tools/call", call)
            while task["status"] not in ("completed", "failed", "cancelled"):
                time.sleep(task.get("pollIntervalMs", 1000) / 1000)
                task = client.ask("tasks/get", {"taskId": task["taskId"]})
            polled.append(time.perf_counter() - start)

            start = time.perf_counter()
            task = client.ask("tools/call", call)
            client.send("subscriptions/listen", {"notifications": {"taskIds": [task["taskId"]]}}, True)
            while True:
                message = client.c.read()
                if "id" in message:
                    client.answers[message["id"]] = message
                    continue
                if message.get("method") == "notifications/tasks" and message["params"]["status"] in ("completed", "failed", "cancelled"):
                    break
            told.append(time.perf_counter() - start)
        client.close()
    floor = statistics.median(inline)
    print(f"\n3. knowing a task ended (a bridged 0.3 s sleep, {rounds} rounds each)")
    print(f"   {'':34} {'median ms':>10} {'x inline':>9}")
    for label, values in [("inline (no extension)", inline), ("task, polled at pollIntervalMs", polled), ("task, notifications/tasks", told)]:
        print(f"   {label:34} {statistics.median(values) * 1000:10.1f} {statistics.median(values) / floor:9.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    cost(binary, args.calls)
    held(binary, args.tasks)
    knowing(binary, args.rounds)


if __name__ == "__main__":
    main()
