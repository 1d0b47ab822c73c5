"""A downstream MCP server that publishes skills through the Skills extension, over stdio.

usage: skills_server.py SKILLS_DIR
Every folder under SKILLS_DIR that holds a SKILL.md is a skill; its path there is its skill path
(`acme/refunds` is served as skill://acme/refunds/SKILL.md). It answers initialize (declaring
io.modelcontextprotocol/skills), tools/list (none), skills/list (two entries a page), skills/get,
resources/read and resources/directory/read, and sends notifications/resources/list_changed when
the folder's contents change. Env: LIE_ABOUT (a skill whose entry gives SKILL.md a wrong digest),
DYNAMIC (a skill whose resources are "dynamic"), REQUESTS_LOG (a file each request's method is appended to).
"""
import base64
import hashlib
import json
import os
import sys
import threading
import time

root = sys.argv[1]
lie_about = os.environ.get("LIE_ABOUT", "")
dynamic = os.environ.get("DYNAMIC", "")
log = os.environ.get("REQUESTS_LOG")
write_lock = threading.Lock()


def send(message):
    with write_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def skills():
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        if "SKILL.md" in files:
            path = os.path.relpath(folder, root).replace(os.sep, "/")
            found[path] = folder
    return found


def files_of(folder):
    out = []
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(base, name)
            out.append((os.path.relpath(full, folder).replace(os.sep, "/"), full))
    return out


def frontmatter(text):
    import yaml
    lines = text.split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    return yaml.safe_load("\n".join(lines[1:end]))


def entry(path, folder):
    uri = f"skill://{path}/SKILL.md"
    with open(os.path.join(folder, "SKILL.md"), encoding="utf-8") as f:
        fm = frontmatter(f.read())
    name = path.split("/")[-1]
    if name == dynamic:
        return {"uri": uri, "frontmatter": fm, "resources": "dynamic"}
    resources = []
    for relative, full in files_of(folder):
        data = open(full, "rb").read()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if relative == "SKILL.md" and name == lie_about:
            digest = "sha256:" + hashlib.sha256(b"something else").hexdigest()
        resources.append({"uri": f"skill://{path}/{relative}", "digest": digest, "size": len(data)})
    return {"uri": uri, "frontmatter": fm, "resources": resources}


def read(uri):
    for path, folder in skills().items():
        prefix = f"skill://{path}/"
        if uri.startswith(prefix):
            full = os.path.join(folder, uri[len(prefix):])
            if os.path.isfile(full):
                data = open(full, "rb").read()
                try:
                    return {"uri": uri, "mimeType": "text/plain", "text": data.decode("utf-8")}
                except UnicodeDecodeError:
                    return {"uri": uri, "mimeType": "application/octet-stream", "blob": base64.b64encode(data).decode()}
    return None


def answer(method, params):
    if method == "initialize":
        return {"protocolVersion": params.get("protocolVersion", "2025-11-25"),
                "capabilities": {"resources": {"listChanged": True}, "tools": {},
                                 "extensions": {"io.modelcontextprotocol/skills": {"directoryRead": False}}},
                "serverInfo": {"name": "skills-test-server", "version": "1"}}
    if method == "tools/list":
        return {"tools": []}
    if method == "skills/list":
        all_skills = sorted(skills().items())
        start = int(params.get("cursor") or 0)
        page = all_skills[start:start + 2]
        result = {"skills": [entry(p, f) for p, f in page], "ttlMs": 0, "cacheScope": "public"}
        if start + 2 < len(all_skills):
            result["nextCursor"] = str(start + 2)
        return result
    if method == "skills/get":
        uri = params.get("uri", "")
        for path, folder in skills().items():
            if uri == f"skill://{path}/SKILL.md":
                return {"skill": entry(path, folder), "ttlMs": 0, "cacheScope": "public"}
        raise KeyError(f"No skill is served at {uri}")
    if method == "resources/read":
        content = read(params.get("uri", ""))
        if content is None:
            raise KeyError(f"Resource not found: {params.get('uri')}")
        return {"contents": [content]}
    if method == "ping":
        return {}
    raise LookupError(method)


def fingerprint():
    state = []
    for base, dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(base, name)
            st = os.stat(full)
            state.append((full, st.st_size, st.st_mtime_ns))
    return sorted(state)


def watch():
    last = fingerprint()
    while True:
        time.sleep(0.3)
        now = fingerprint()
        if now != last:
            last = now
            send({"jsonrpc": "2.0", "method": "notifications/resources/list_changed"})


threading.Thread(target=watch, daemon=True).start()
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    method, id_ = message.get("method"), message.get("id")
    if log and method:
        with open(log, "a") as f:
            f.write(method + "\n")
    if id_ is None:
        continue
    try:
        send({"jsonrpc": "2.0", "id": id_, "result": answer(method, message.get("params") or {})})
    except KeyError as e:
        send({"jsonrpc": "2.0", "id": id_, "error": {"code": -32602, "message": str(e.args[0])}})
    except LookupError:
        send({"jsonrpc": "2.0", "id": id_, "error": {"code": -32601, "message": f"Method not found: {method}"}})
