"""Speaks raw newline-delimited JSON-RPC to `agenthub mcp` to check how it handles bad input,
protocol versions and shutdown: the things an SDK client never sends.

usage: mcp_raw_protocol.py AGENTHUB WORKDIR
Prints one JSON object: {"checks": N, "failures": [...], "eof_exit_seconds": S, "sigterm_exit_seconds": S}.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

failures: list[str] = []
checks = 0
BINARY, WORKDIR = sys.argv[1], sys.argv[2]


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)


class Server:
    def __init__(self, *extra):
        self.proc = subprocess.Popen([BINARY, "mcp", "--role", "editor", "--group", "writers", *extra], cwd=WORKDIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""
        self.next_id = 1000

    def send_raw(self, data: bytes):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        self.send_raw(json.dumps(message).encode() + b"\n")

    def read(self, timeout=5.0):
        """The next message on stdout; every stdout line must be a JSON-RPC 2.0 message."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    return None
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            check(False, f"stdout carried a line that is not JSON: {line[:200]!r}")
            return None
        check(message.get("jsonrpc") == "2.0", f"stdout carried a message without jsonrpc 2.0: {line[:200]!r}")
        return message

    def request(self, method, params=None, timeout=5.0):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.read(timeout)

    def initialize(self, version="2025-11-25"):
        reply = self.request("initialize", {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def error_code(reply):
    return (reply or {}).get("error", {}).get("code")


def bad_input():
    s = Server("--max-message-bytes", "4096")
    try:
        started = time.monotonic()
        reply = s.request("server/discover", {"supportedVersions": ["2026-07-28"]})
        versions = (reply or {}).get("result", {}).get("supportedVersions", [])
        check("2026-07-28" in versions and "2025-11-25" in versions, f"server/discover names both eras: {reply}")
        # Not a timing test: on a loaded machine the host's own start takes seconds; a discover that
        # waited for the bridged server (start_timeout 30 s) or a sync would take far longer.
        check(time.monotonic() - started < 15, "server/discover must not wait for bridged servers or a sync")
        meta = {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}
        reply = s.request("server/discover", {"_meta": meta})
        check(error_code(reply) == -32022 and "2025-11-25" in json.dumps(reply), f"an unknown version is -32022 naming what is spoken: {reply}")
        reply = s.request("tools/list")
        check(error_code(reply) == -32600 and "initialize" in reply["error"]["message"], f"a request before initialize: {reply}")
        check(s.request("ping") == {"jsonrpc": "2.0", "id": s.next_id, "result": {}}, "ping works before initialize")
        reply = s.initialize()
        check(reply and reply.get("result", {}).get("protocolVersion") == "2025-11-25", f"initialize: {reply}")
        check(error_code(s.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}})) == -32600,
              "a second initialize is refused")

        def expect(raw: bytes, code, want_id, what):
            s.send_raw(raw)
            reply = s.read()
            check(error_code(reply) == code, f"{what}: expected {code}, got {reply}")
            check(reply is not None and reply.get("id") == want_id, f"{what}: expected id {want_id!r}, got {reply}")

        expect(b"{not json\n", -32700, None, "malformed JSON")
        expect(b'{"jsonrpc":"2.0","id":5,"method":"ping"\n', -32700, None, "truncated JSON")
        expect(b'{"jsonrpc":"2.0","id":6,"method":"ping","params":{"s":"\xff\xfe"}}\n', -32700, None, "invalid UTF-8")
        expect(b"[" * 4000 + b"\n", -32700, None, "4,000 nested arrays")
        expect(b'{"jsonrpc":"1.0","id":7,"method":"ping"}\n', -32600, 7, "jsonrpc 1.0")
        expect(b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}\n', -32600, None, "an object as id")
        expect(b'{"jsonrpc":"2.0","id":8,"method":42}\n', -32600, 8, "a number as method")
        expect(b'[{"jsonrpc":"2.0","id":9,"method":"ping"}]\n', -32600, None, "a batch")
        expect(b'"just a string"\n', -32600, None, "a bare string")
        expect(b'{"jsonrpc":"2.0","id":10,"method":"tools/list","params":"x"}\n', -32600, 10, "params as a string")
        expect(b'{"jsonrpc":"2.0","id":11,"method":"no/such/method"}\n', -32601, 11, "an unknown method")
        expect(b'{"jsonrpc":"2.0","id":"s-12","method":"tools/call","params":{}}\n', -32602, "s-12", "tools/call without a name")
        expect(b'{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"read_file","arguments":[1]}}\n', -32602, 13, "arguments as an array")
        expect(b'{"jsonrpc":"2.0","id":14,"method":"resources/read","params":{"uri":5}}\n', -32602, 14, "a number as uri")
        expect(b'{"jsonrpc":"2.0","id":15,"method":"tools/list","params":{"cursor":"bogus"}}\n', -32602, 15, "a cursor this server never issued")
        expect(b'{"jsonrpc":"2.0","id":16,"method":"prompts/get","params":{"name":"release-notes","arguments":{"task":7}}}\n', -32602, 16, "a prompt argument that is not a string")
        # a line over the 4 KiB cap: an error with its id, and the connection stays up
        big = json.dumps({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
                          "params": {"name": "memory_write", "arguments": {"type": "episodic", "text": "x" * 10_000}}}).encode() + b"\n"
        expect(big, -32600, 77, "a line over --max-message-bytes")
        # notifications are never answered: the next message is the ping's answer
        s.send({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {}})
        s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 424242}})
        s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": "junk"})
        reply = s.request("ping")
        check(reply is not None and reply.get("id") == s.next_id and "result" in reply, f"notifications must not be answered: {reply}")
        reply = s.request("tools/call", {"name": "read_file", "arguments": {"path": "incident-review/SKILL.md"}})
        check(reply and reply.get("result", {}).get("isError") is False and "structuredContent" in reply["result"], f"the session survives it all: {str(reply)[:200]}")
        check(b"\n" not in s.buffer and s.read(timeout=0.3) is None, "nothing more on stdout")
        check(s.proc.poll() is None, "the server is still running")
    finally:
        s.close()


def deep_nesting():
    """A million nested arrays under the default 16 MiB cap: a parse error, not a stack overflow."""
    s = Server()
    try:
        s.initialize()
        s.send_raw(b"[" * 1_000_000 + b"\n")
        reply = s.read(timeout=10)
        check(error_code(reply) == -32700 and "nesting" in reply["error"]["message"], f"deep nesting: {str(reply)[:200]}")
        check(s.request("ping") is not None and s.proc.poll() is None, "the server survives deep nesting")
    finally:
        s.close()


def prompt_names(s):
    names, cursor = [], None
    while True:
        result = s.request("prompts/list", {"cursor": cursor} if cursor else {})["result"]
        names += [p["name"] for p in result["prompts"]]
        cursor = result.get("nextCursor")
        if not cursor:
            return names


def list_changed_after_another_process_syncs():
    """`agenthub sync` in another process adds a skill: the running server tells its client."""
    s = Server("--no-sync")
    try:
        s.initialize()
        before = prompt_names(s)
        folder = os.path.join(WORKDIR, "skills", "raw-added-skill")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "SKILL.md"), "w") as f:
            f.write("---\nname: raw-added-skill\ndescription: Added while a client is connected.\n---\nSay hello.\n")
        synced = subprocess.run([BINARY, "sync"], cwd=WORKDIR, capture_output=True)
        check(synced.returncode == 0, f"sync: {synced.stderr[-300:]!r}")
        seen = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not {"notifications/resources/list_changed", "notifications/prompts/list_changed"} <= seen:
            message = s.read(timeout=max(0.1, deadline - time.monotonic()))
            if message and "method" in message and "id" not in message:
                seen.add(message["method"])
        check("notifications/resources/list_changed" in seen and "notifications/prompts/list_changed" in seen,
              f"expected resources and prompts list_changed after another process synced, saw {sorted(seen)}")
        check("notifications/tools/list_changed" not in seen, "the tools did not change")
        after = prompt_names(s)
        check("raw-added-skill" in after and "raw-added-skill" not in before, f"prompts before {before}, after {after}")
    finally:
        s.close()


def versions():
    for version in ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01"]:
        s = Server()
        try:
            reply = s.initialize(version)
            agreed = reply["result"]["protocolVersion"]
            check(agreed == (version if version != "1999-01-01" else "2025-11-25"), f"asked for {version}, got {agreed}")
            tools = s.request("tools/list")["result"]["tools"]
            read_file = next(t for t in tools if t["name"] == "read_file")
            result = s.request("tools/call", {"name": "read_file", "arguments": {"path": "incident-review/SKILL.md"}})["result"]
            structured = agreed >= "2025-06-18"
            check(("outputSchema" in read_file) == structured and ("structuredContent" in result) == structured,
                  f"{agreed}: outputSchema and structuredContent only from 2025-06-18 on")
        finally:
            s.close()


def shutdown():
    timings = {}
    for how in ["eof", "sigterm"]:
        s = Server()
        try:
            s.initialize()
            check(s.read(timeout=0.1) is None, "nothing unasked on stdout")
            started = time.monotonic()
            if how == "eof":
                s.proc.stdin.close()
            else:
                s.proc.send_signal(signal.SIGTERM)
            try:
                code = s.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            timings[how] = round(time.monotonic() - started, 3)
            check(code == 0, f"{how}: expected exit 0, got {code}")
            check(timings[how] < 1.0, f"{how}: took {timings[how]} s to exit, more than a second")
            stderr = s.proc.stderr.read().decode(errors="replace")
            check("Fatal error" not in stderr and "Segmentation" not in stderr, f"{how}: stderr shows a crash: {stderr[-300:]}")
        finally:
            s.close()
    return timings


bad_input()
deep_nesting()
list_changed_after_another_process_syncs()
versions()
timings = shutdown()
print(json.dumps({"checks": checks, "failures": failures, "eof_exit_seconds": timings.get("eof"),
                  "sigterm_exit_seconds": timings.get("sigterm")}))
