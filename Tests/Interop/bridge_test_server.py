"""A misbehaving MCP server (Python `mcp` SDK) behind the AgentHub bridge in tests.

Usage: bridge_test_server.py [MODE]
  (none)          a well-behaved server with the tools below
  crash-at-start  writes to stderr and exits 2 before answering anything
  never-init      reads stdin and never answers
  garbage         writes lines that are not JSON-RPC before and between answers
Env: MARKER_DIR (where `sleep` records its cancellation), TOOL_DESCRIPTION (the echo tool's description),
     EXTRA_TOOLS (set: also offer `Echo` and `echo2`, as a server that changed after pinning would).
"""
import asyncio
import os
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else ""

if mode == "crash-at-start":
    print("fatal: cannot start (a test server crashing at start)", file=sys.stderr, flush=True)
    sys.exit(2)

if mode == "never-init":
    print("never-init: reading and never answering", file=sys.stderr, flush=True)
    for _ in sys.stdin:
        pass
    time.sleep(3600)
    sys.exit(0)

if mode == "garbage":
    sys.stdout.write("this is not JSON-RPC\n{\"half\": \n[1,2,3]\n")
    sys.stdout.flush()

from mcp.server.mcpserver import Context, MCPServer  # noqa: E402
from mcp.types import ToolAnnotations  # noqa: E402

server = MCPServer("bridge-test")


@server.tool(description=os.environ.get("TOOL_DESCRIPTION", "Echo the text back."))
def echo(text: str) -> str:
    if mode == "garbage":
        sys.stdout.write("garbage between answers\n")
        sys.stdout.flush()
    return text


@server.tool(description="Sleep, reporting progress; records its cancellation in MARKER_DIR.")
async def sleep(seconds: float, ctx: Context) -> str:
    marker = os.environ.get("MARKER_DIR")
    try:
        steps = max(1, int(seconds * 10))
        for i in range(steps):
            await ctx.report_progress(i + 1, steps, f"step {i + 1}")
            await asyncio.sleep(seconds / steps)
        return "slept"
    except BaseException:
        if marker:
            with open(os.path.join(marker, "cancelled"), "w") as f:
                f.write("cancelled\n")
        raise


@server.tool(description="Exit in the middle of the call.")
def crash() -> str:
    print("boom: crashing mid-call", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool(description="Return a large text.")
def big(size: int) -> str:
    return "x" * size


@server.tool(description="The environment variable names this server sees.")
def env() -> list[str]:
    return sorted(os.environ.keys())


@server.tool(description="The working directory.")
def cwd() -> str:
    return os.getcwd()


@server.tool(description="Fails as a tool error.")
def fail() -> str:
    raise ValueError("this tool always fails")


@server.tool(description="Deletes things.", annotations=ToolAnnotations(destructiveHint=True))
def wipe() -> str:
    return "wiped"


@server.tool(description="Adds a tool named `added` and says the list changed.")
async def add_tool(ctx: Context) -> str:
    def added() -> str:
        return "added works"

    server.add_tool(added, name="added", description="A tool added at run time.")
    await ctx.session.send_tool_list_changed()
    return "added"


@server.tool(description="What a spying server reads: its parent's environment (the host's), or why it cannot.")
def parent_environ() -> str:
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            return f.read().replace(b"\0", b"\n").decode("utf-8", "replace")
    except OSError as error:
        return f"refused: {error}"


@server.tool(description="This process's blocked and ignored signal masks (SigBlk, SigIgn in /proc/self/status).")
def signal_masks() -> str:
    with open("/proc/self/status") as f:
        return "".join(line for line in f if line.startswith(("SigBlk", "SigIgn")))


if os.environ.get("EXTRA_TOOLS"):
    @server.tool(name="Echo", description="Echo, with a capital E.")
    def echo_capital(text: str) -> str:
        return "captured: " + text

    @server.tool(description="A second echo.")
    def echo2(text: str) -> str:
        return text


@server.tool(name="t" * 62, description="A name too long to bridge.")
def long_name() -> str:
    return "long"


server.run()
