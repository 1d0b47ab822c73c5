#!/usr/bin/env python3
"""Smart HTTP git server for the GitSync tests: `git http-backend` behind a small CGI server on
127.0.0.1, with optional basic auth (the password file is re-read on every request, so a test can
rotate it), optional TLS (--tls-cert/--tls-key), an optional delay per request, and a --silent mode that accepts connections and never
answers. Prints "PORT <n>" once listening; counts requests, refusals and fetches (ref advertisements
asked for) in --stats (JSON) after each one."""
import argparse, base64, json, os, socket, ssl, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--user")
    p.add_argument("--password-file")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--delay-file", help="seconds to wait per request, re-read per request")
    p.add_argument("--stats")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM) ...")
    p.add_argument("--tls-key", help="... and this key")
    a = p.parse_args()

    if a.silent:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        print("PORT", server.getsockname()[1], flush=True)
        held = []
        while True:
            conn, _ = server.accept()
            held.append(conn)  # never read, never answered, never closed

    def current_delay():
        if a.delay_file:
            with open(a.delay_file) as f:
                return float(f.read().strip() or 0)
        return a.delay

    stats = {"requests": 0, "unauthorized": 0, "fetches": 0}
    lock = threading.Lock()

    def count(key):
        with lock:
            stats[key] += 1
            if a.stats:
                with open(a.stats + ".tmp", "w") as f:
                    json.dump(stats, f)
                os.replace(a.stats + ".tmp", a.stats)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def authorized(self):
            if not a.user:
                return True
            with open(a.password_file) as f:
                password = f.read().strip()
            expected = "Basic " + base64.b64encode(f"{a.user}:{password}".encode()).decode()
            return self.headers.get("Authorization") == expected

        def body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def handle_any(self):
            count("requests")
            started = time.monotonic()
            while time.monotonic() - started < current_delay():  # re-read, so a test can cut a wait short
                time.sleep(0.02)
            data = self.body() if self.command == "POST" else b""
            if not self.authorized():
                count("unauthorized")
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            if self.command == "GET" and path.endswith("/info/refs"):
                count("fetches")  # every fetch starts by asking for the refs
            env = dict(os.environ, GIT_PROJECT_ROOT=a.root, GIT_HTTP_EXPORT_ALL="1", REQUEST_METHOD=self.command,
                       PATH_INFO=path, QUERY_STRING=query, CONTENT_TYPE=self.headers.get("Content-Type", ""),
                       CONTENT_LENGTH=str(len(data)), REMOTE_USER=a.user or "", REMOTE_ADDR="127.0.0.1",
                       HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""),
                       GIT_PROTOCOL=self.headers.get("Git-Protocol", ""))
            out = subprocess.run(["git", "http-backend"], input=data, env=env, capture_output=True).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.split(b"\r\n"):
                name, _, value = line.decode().partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = handle_any
        do_POST = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if a.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.tls_cert, a.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()

if __name__ == "__main__":
    main()
