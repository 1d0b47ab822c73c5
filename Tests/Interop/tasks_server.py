"""A downstream MCP server that answers long tool calls with tasks (the Tasks extension), over stdio.

usage: tasks_server.py MARKER_DIR
No released MCP SDK serves the extension yet, so this one speaks raw JSON-RPC. It declares
io.modelcontextprotocol/tasks in initialize and serves two tools:
- `build {seconds}`: answered with a task (when the request declares the extension in its
  `_meta` client capabilities; inline otherwise) that completes with "built in N s" after `seconds`,
  its status message counting the seconds; `tasks/cancel` cancels it and writes MARKER_DIR/cancelled.
- `ask_name`: a task that waits in input_required for an elicitation answer; it completes with
  "hello NAME", or "declined" when the answer is not accept.
- `broken`: a task that fails with a JSON-RPC error.
Every request's method (and whether it declared the extension) is appended to MARKER_DIR/requests.
"""
import json
import os
import sys
import threading
import time
import uuid

marker = sys.argv[1]
EXT = "io.modelcontextprotocol/tasks"
write_lock = threading.Lock()
tasks_lock = threading.Lock()
tasks = {}


def send(message):
    with write_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def declares(params):
    caps = ((params or {}).get("_meta") or {}).get("io.modelcontextprotocol/clientCapabilities") or {}
    return EXT in (caps.get("extensions") or {})


def log(method, params):
    with open(os.path.join(marker, "requests"), "a") as f:
        f.write(f"{method} {'tasks' if declares(params) else 'plain'}\n")


def shape(task):
    out = {k: v for k, v in task.items() if not k.startswith("_")}
    return out


def new_task():
    task = {"taskId": str(uuid.uuid4()), "status": "working", "createdAt": now(), "lastUpdatedAt": now(),
            "ttlMs": 600000, "pollIntervalMs": 100, "_cancel": threading.Event(), "_answer": None}
    with tasks_lock:
        tasks[task["taskId"]] = task
    return task


def update(task, **fields):
    with tasks_lock:
        task.update(fields)
        task["lastUpdatedAt"] = now()


def run_build(task, seconds):
    start = time.time()
    while time.time() - start < seconds:
        if task["_cancel"].wait(0.05):
            update(task, status="cancelled", statusMessage="cancelled by the client")
            open(os.path.join(marker, "cancelled"), "w").close()
            return
        update(task, statusMessage=f"{int(time.time() - start)} of {seconds} s")
    update(task, status="completed", result={"content": [{"type": "text", "text": f"built in {seconds} s"}], "isError": False})


def run_ask(task):
    update(task, status="input_required", _requests={"name": {"method": "elicitation/create", "params": {
        "mode": "form", "message": "Your name?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}})
    while task["_answer"] is None:
        if task["_cancel"].wait(0.05):
            update(task, status="cancelled")
            return
    answer = task["_answer"]
    text = f"hello {answer.get('content', {}).get('name')}" if answer.get("action") == "accept" else "declined"
    update(task, status="completed", result={"content": [{"type": "text", "text": text}], "isError": False})


def tool_list():
    obj = {"type": "object"}
    return [
        {"name": "build", "description": "A long build.", "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number"}}}},
        {"name": "ask_name", "description": "Asks for a name.", "inputSchema": obj},
        {"name": "broken", "description": "A task that fails.", "inputSchema": obj},
    ]


def handle(message):
    method = message.get("method")
    params = message.get("params") or {}
    ident = message.get("id")
    if ident is None:
        return
    log(method, params)
    if method == "initialize":
        return send({"jsonrpc": "2.0", "id": ident, "result": {
            "protocolVersion": params.get("protocolVersion", "2025-11-25"),
            "capabilities": {"tools": {}, "extensions": {EXT: {}}},
            "serverInfo": {"name": "tasks-server", "version": "1"}}})
    if method == "ping":
        return send({"jsonrpc": "2.0", "id": ident, "result": {}})
    if method == "tools/list":
        return send({"jsonrpc": "2.0", "id": ident, "result": {"tools": tool_list()}})
    if method == "tools/call":
        name = params.get("name")
        args = params.get("arguments") or {}
        if not declares(params):
            if name == "build":
                time.sleep(float(args.get("seconds", 0)))
                return send({"jsonrpc": "2.0", "id": ident, "result": {"content": [{"type": "text", "text": "built inline"}]}})
            return send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32021, "message": "Missing required client capability"}})
        task = new_task()
        if name == "build":
            threading.Thread(target=run_build, args=(task, float(args.get("seconds", 1))), daemon=True).start()
        elif name == "ask_name":
            threading.Thread(target=run_ask, args=(task,), daemon=True).start()
        elif name == "broken":
            update(task, status="failed", statusMessage="the build exploded", error={"code": -32603, "message": "the build exploded"})
        else:
            return send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": f"Unknown tool: {name}"}})
        result = shape(task)
        result["resultType"] = "task"
        return send({"jsonrpc": "2.0", "id": ident, "result": result})
    if method in ("tasks/get", "tasks/update", "tasks/cancel"):
        if not declares(params):
            return send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32021, "message": "Missing required client capability"}})
        with tasks_lock:
            task = tasks.get(params.get("taskId"))
        if task is None:
            return send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": "Failed to retrieve task: Task not found"}})
        if method == "tasks/get":
            with tasks_lock:
                result = shape(task)
                if task["status"] == "input_required":
                    result["inputRequests"] = task.get("_requests", {})
            result["resultType"] = "complete"
            return send({"jsonrpc": "2.0", "id": ident, "result": result})
        if method == "tasks/update":
            answer = (params.get("inputResponses") or {}).get("name")
            if answer is not None and task["status"] == "input_required":
                update(task, status="working")
                task["_answer"] = answer
            return send({"jsonrpc": "2.0", "id": ident, "result": {"resultType": "complete"}})
        task["_cancel"].set()
        return send({"jsonrpc": "2.0", "id": ident, "result": {"resultType": "complete"}})
    send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": f"Method not found: {method}"}})


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        message = json.loads(line)
    except ValueError:
        continue
    threading.Thread(target=handle, args=(message,), daemon=True).start()
