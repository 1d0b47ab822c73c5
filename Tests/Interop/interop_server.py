"""What the interop test servers share: dying with the test that started them, and serving an ASGI
app on 127.0.0.1 with READY printed once it listens (the test waits for that line)."""
import asyncio
import ctypes
import os
import signal
import sys
import threading


def die_with_parent() -> None:
    """Dies with its parent (PR_SET_PDEATHSIG) and when its stdin closes (the test, or the runner, is gone)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass

    def watch() -> None:
        while sys.stdin.buffer.read(1):
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def serve(app, port: int, lifespan: str = "on") -> None:
    """Serves `app` on 127.0.0.1:`port` with uvicorn, printing READY once it listens."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan))

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                await serving
                return
            await asyncio.sleep(0.05)
        print("READY", flush=True)
        await serving

    asyncio.run(main())
