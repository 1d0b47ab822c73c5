"""An MCP server (Python `mcp` SDK, stdio) that probes what its sandbox lets it do.

Tools: `read(path)` (the first 200 characters, or `DENIED: <error>`), `write(path, text)`
(`written` or `DENIED: ...`), `connect(host, port)` (`connected` or `DENIED: ...`), `whoami()`
(its HOME, working folder and pid as it sees them).
"""
import os
import socket

from mcp.server.mcpserver import MCPServer

server = MCPServer("sandbox-probe")


@server.tool(description="Read a file.")
def read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(200).decode("utf-8", "replace")
    except Exception as error:  # noqa: BLE001 - the probe reports whatever stopped it
        return f"DENIED: {type(error).__name__}: {error}"


@server.tool(description="Write a file.")
def write(path: str, text: str) -> str:
    try:
        with open(path, "w") as f:
            f.write(text)
        return "written"
    except Exception as error:  # noqa: BLE001
        return f"DENIED: {type(error).__name__}: {error}"


@server.tool(description="Open a TCP connection.")
def connect(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=3):
            return "connected"
    except Exception as error:  # noqa: BLE001
        return f"DENIED: {type(error).__name__}: {error}"


@server.tool(description="Where it runs.")
def whoami() -> str:
    return f"home={os.environ.get('HOME')} cwd={os.getcwd()} pid={os.getpid()}"


if __name__ == "__main__":
    server.run()
