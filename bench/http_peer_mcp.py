"""The Python `mcp` SDK peer of the HTTP bench: its Streamable HTTP server (stateful sessions, JSON
answers) with the same `read_file` as the stdio bench's reference server, under uvicorn.

usage: http_peer_mcp.py ROOT PORT
"""
import sys

import uvicorn

root, port = sys.argv[1], int(sys.argv[2])
sys.argv = [sys.argv[0], root]
from mcp_reference_server import server  # noqa: E402  (reads ROOT from argv)

uvicorn.run(server.streamable_http_app(json_response=True), host="127.0.0.1", port=port, log_level="warning")
