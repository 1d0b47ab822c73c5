"""A remote MCP server (the Python `mcp` SDK's own HTTP transports) for the bridge's remote tests.

usage: remote_server.py PORT TRANSPORT [--token TOKEN] [--marker DIR]
  TRANSPORT  `streamable-http` (serves both the initialize handshake and 2026-07-28 at /mcp),
             `sse` (the older HTTP+SSE transport: GET /sse, POST /messages/),
             `hang` (accepts connections and never answers a byte), or
             `hostile` (a hand-written /mcp whose tools answer badly: over the size limit, not JSON,
             an event that never ends, another request's id, a redirect elsewhere; `echo` answers well).
  --token    requests without `Authorization: Bearer TOKEN` get 401.
  --marker   where `sleep` records its cancellation.
It exits when its stdin closes (the test that started it is gone) or its parent dies.
"""
import asyncio
import os
import socket
import sys

from interop_server import die_with_parent, serve  # noqa: E402

die_with_parent()
port, transport = int(sys.argv[1]), sys.argv[2]
args = sys.argv[3:]
token = args[args.index("--token") + 1] if "--token" in args else None
marker = args[args.index("--marker") + 1] if "--marker" in args else None

if transport == "hang":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    print("READY", flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)

if transport == "hostile":
    import json
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    tools = [{"name": n, "description": d, "inputSchema": {"type": "object"}} for n, d in [
        ("echo", "answers well"), ("huge", "an answer over 16 MiB"), ("garbage", "an answer that is not JSON"),
        ("endless", "an event that never ends"), ("wrongid", "an answer for another request"), ("redirect", "a redirect elsewhere")]]

    async def mcp(request):
        if request.method != "POST":
            return Response(status_code=405)
        message = json.loads(await request.body())
        method, rid = message.get("method"), message.get("id")
        if rid is None:
            return Response(status_code=202)
        def answer(result):
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": result})
        if method == "initialize":
            return answer({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "hostile", "version": "1"}})
        if method == "tools/list":
            return answer({"tools": tools})
        if method != "tools/call":
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}}, status_code=404)
        name = message["params"]["name"]
        if name == "echo":
            return answer({"content": [{"type": "text", "text": message["params"].get("arguments", {}).get("text", "")}]})
        if name == "huge":
            return answer({"content": [{"type": "text", "text": "x" * (17 << 20)}]})
        if name == "garbage":
            return Response("this is not JSON {", media_type="application/json")
        if name == "wrongid":
            return JSONResponse({"jsonrpc": "2.0", "id": 987654321, "result": {"content": []}})
        if name == "redirect":
            return Response(status_code=307, headers={"Location": "http://192.0.2.1/elsewhere"})
        async def endless():
            yield b"data: "
            while True:
                yield b"x" * 65536
                await asyncio.sleep(0.001)
        return StreamingResponse(endless(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/mcp", mcp, methods=["GET", "POST", "DELETE"])])
    serve(app, port, lifespan="off")
    sys.exit(0)

from mcp.server.mcpserver import Context, MCPServer  # noqa: E402

server = MCPServer("remote-test")


@server.tool(description="Echo the text back.")
def echo(text: str) -> str:
    return text


@server.tool(description="Sleep, reporting progress; records its cancellation in --marker.")
async def sleep(seconds: float, ctx: Context) -> str:
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


@server.tool(description="Adds a tool named `added` and says the list changed.")
async def add_tool(ctx: Context) -> str:
    def added() -> str:
        return "added works"

    server.add_tool(added, name="added", description="A tool added at run time.")
    # 2026-07-28 listeners hear it on their subscriptions/listen stream; a handshake session on its GET stream.
    await ctx.notify_tools_changed()
    try:
        await ctx.session.send_tool_list_changed()
    except Exception:
        pass
    return "added"


@server.tool(description="The process id of this server.")
def pid() -> int:
    return os.getpid()


if transport == "sse":
    app = server.sse_app()
else:
    app = server.streamable_http_app()


class RequireToken:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and token is not None:
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"a bearer token is required"})
                return
        await self.inner(scope, receive, send)


serve(RequireToken(app), port)
