"""The bridge to a remote server: the Python SDK's Streamable HTTP server (Tests/Interop/remote_server.py,
its `echo` tool) called directly over HTTP by a plain keep-alive client, and through `agenthub mcp`
(release build), which bridges it as `remote__echo` over HTTP, in each protocol revision.

For each revision (handshake: initialize and a session; stateless: 2026-07-28) and window (calls in
flight), --calls calls alternating in rounds; prints calls/s, p50 and p99 for both paths, the ratio
bridge/direct and what the bridge adds at p50. Asserts nothing about time.

usage: mcp_remote.py --binary .build/release/agenthub [--calls 2000] [--windows 1,8] [--rounds 5]
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mcp_stdio import Connection, run_calls  # noqa: E402
from mcp_bridge import alternate, print_rows, wait_for_tools  # noqa: E402
from http_api import free_port  # noqa: E402

SERVER = os.path.join(HERE, "..", "Tests", "Interop", "remote_server.py")
MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}


class Direct:
    """One keep-alive HTTP connection speaking MCP to /mcp: a handshake session, or stateless requests."""

    def __init__(self, port, revision):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.revision = revision
        self.session = None
        self.next = 0
        if revision == "handshake":
            reply, headers = self.post({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
            self.session = headers.get("mcp-session-id")
            self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, message):
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.session:
            headers["Mcp-Session-Id"] = self.session
            headers["MCP-Protocol-Version"] = "2025-11-25"
        if self.revision == "stateless" and "id" in message:
            message.setdefault("params", {})["_meta"] = ENVELOPE
            headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": message["method"]})
            if message["method"] == "tools/call":
                headers["Mcp-Name"] = message["params"]["name"]
        self.conn.request("POST", "/mcp", body=json.dumps(message), headers=headers)
        response = self.conn.getresponse()
        body = response.read().decode()
        found = {k.lower(): v for k, v in response.getheaders()}
        if "id" not in message:
            return None, found
        if found.get("content-type", "").startswith("text/event-stream"):
            for line in body.splitlines():
                if line.startswith("data:"):
                    data = json.loads(line[5:])
                    if data.get("id") == message["id"]:
                        return data, found
            raise RuntimeError(f"no answer in the stream: {body[:300]}")
        return json.loads(body), found

    def call(self, text):
        self.next += 1
        reply, _ = self.post({"jsonrpc": "2.0", "id": self.next, "method": "tools/call",
                              "params": {"name": "echo", "arguments": {"text": text}}})
        result = reply.get("result") or {}
        if result.get("isError") or (result.get("structuredContent") or {}).get("result") != text:
            raise RuntimeError(f"the direct call failed: {reply}")


def direct_calls(port, revision, count, window):
    """`count` calls over `window` connections at once; calls/s and each call's latency."""
    clients = [Direct(port, revision) for _ in range(window)]
    latencies = []
    lock = threading.Lock()
    per = count // window

    def work(client):
        mine = []
        for _ in range(per):
            started = time.perf_counter()
            client.call("hello")
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for c in clients:
        c.conn.close()
    return per * window / elapsed, latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--windows", default="1,8")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    windows = [int(w) for w in args.windows.split(",")]
    port = free_port()
    server = subprocess.Popen([sys.executable, SERVER, str(port), "streamable-http"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    rows = []
    try:
        if server.stdout.readline().strip() != "READY":
            raise RuntimeError("the remote server did not start")
        check = lambda r: (r.get("structuredContent") or {}).get("result") == "hello"  # noqa: E731
        for revision in ["handshake", "stateless"]:
            with tempfile.TemporaryDirectory(prefix="agenthub-remote-bench-") as work:
                with open(os.path.join(work, "registry.yaml"), "w") as f:
                    f.write("version: 1\nrouter:\n  max_concurrent: 64\npolicy:\n  default: deny\n  rules:\n    - allow: [\"remote__*\"]\n"
                            "roles:\n  bench: {}\nplugins:\n  mcp:\n    servers:\n      remote:\n"
                            f"        url: http://127.0.0.1:{port}/mcp\n        protocol: {revision}\n        risk: low\n")
                bridged = Connection([binary, "mcp", "--config", "registry.yaml", "--role", "bench", "--agent", "bench", "--no-sync"], work)
                bridged.initialize()
                wait_for_tools(bridged, "remote__")
                for window in windows:
                    direct_calls(port, revision, 100, window)
                    run_calls(bridged, "remote__echo", {"text": "hello"}, 100, window, check)
                    per_round = max(window, args.calls // args.rounds)
                    measured = alternate(lambda n: direct_calls(port, revision, n, window),
                                         lambda n: run_calls(bridged, "remote__echo", {"text": "hello"}, n, window, check), per_round, args.rounds)
                    rows.append((revision, window) + measured)
                bridged.close()
    finally:
        server.stdin.close()
        server.kill()
        server.wait()

    print(f"MCP bridge to a remote server: {args.calls} tools/call per row, the Python SDK's Streamable HTTP server "
          "called directly (keep-alive HTTP) and through agenthub mcp")
    print_rows("revision", rows, "(m = milliseconds; direct: a window of N is N keep-alive connections each one call at a time; bridge: "
               "N calls in flight on agenthub mcp's stdin, the bridge's own connections to the server)")

if __name__ == "__main__":
    main()
