"""The reference for the MCP stdio bench: the same `read_file` as AgentHub's file plugin (path under a
root, structured result {path, content, truncated, size}), written with the Python `mcp` SDK's MCPServer.

usage: mcp_reference_server.py ROOT
"""
import os
import sys
from typing import TypedDict

from mcp.server import MCPServer

ROOT = os.path.realpath(sys.argv[1])
MAX_BYTES = 1 << 20
server = MCPServer("reference")


class FileContent(TypedDict):
    path: str
    content: str
    truncated: bool
    size: int


@server.tool()
def read_file(path: str, max_bytes: int = MAX_BYTES) -> FileContent:
    """Reads a text file under the root."""
    full = os.path.realpath(os.path.join(ROOT, path))
    if not full.startswith(ROOT + os.sep):
        raise ValueError(f"'{path}' is outside the root")
    with open(full, "rb") as f:
        data = f.read(max_bytes + 1)
    size = os.path.getsize(full)
    truncated = len(data) > max_bytes
    return FileContent(path=path, content=data[:max_bytes].decode("utf-8"), truncated=truncated, size=size)


@server.tool()
def echo(text: str) -> str:
    """Returns the text (the bridge bench's small call)."""
    return text


if __name__ == "__main__":
    server.run("stdio")
