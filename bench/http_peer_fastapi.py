"""The FastAPI + uvicorn peer of the HTTP bench: the stack of the skills registry AgentHub replaces,
serving the same SQLite queries from the same registry.db as AgentHub's routes, with the same key check
(HMAC-SHA-256 of the bearer key under the pepper, one indexed lookup).

    POST /v1/tools/memory_get/call   {"arguments": {"id": "mem_N"}}
    GET  /v1/skills?q=&limit=        the skills list, or a bm25-ranked search when q is given

usage: uvicorn --app-dir bench http_peer_fastapi:app (AGENTHUB_DB and AGENTHUB_PEPPER name the files)
"""
import datetime
import hashlib
import hmac
import json
import os
import re
import sqlite3
import threading

from fastapi import FastAPI, Header, HTTPException, Request

DB = os.environ["AGENTHUB_DB"]
PEPPER = open(os.environ["AGENTHUB_PEPPER"], "rb").read().strip()
local = threading.local()
app = FastAPI()


def db():
    if not hasattr(local, "db"):
        local.db = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, check_same_thread=False)
        local.db.row_factory = sqlite3.Row
    return local.db


def agent(authorization):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "no key")
    digest = hmac.new(PEPPER, authorization[7:].encode(), hashlib.sha256).digest()
    row = db().execute("SELECT agent FROM api_keys WHERE hash = ? AND revoked_at IS NULL", (digest,)).fetchone()
    if row is None:
        raise HTTPException(401, "bad key")
    return row["agent"]


@app.post("/v1/tools/memory_get/call")
async def memory_get(request: Request, authorization: str | None = Header(None)):
    who = agent(authorization)
    body = await request.json()
    row = db().execute("SELECT id, type, scope, owner, text, metadata, importance, created_at, agent FROM memories WHERE id = ? AND scope = 'agent' AND owner = ?",
                       (int(body["arguments"]["id"].removeprefix("mem_")), who)).fetchone()
    if row is None:
        return {"content": [{"type": "text", "text": "No memory."}], "isError": True}
    # The same fields as AgentHub's answer (the bench checks the two answers are equal before it counts).
    created = datetime.datetime.fromtimestamp(row["created_at"], datetime.timezone.utc)
    memory = {"id": f"mem_{row['id']}", "type": row["type"], "scope": row["scope"], "text": row["text"], "importance": row["importance"],
              "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z", "agent": row["agent"]}
    if row["owner"]:
        memory["owner"] = row["owner"]
    if row["metadata"]:
        memory["metadata"] = json.loads(row["metadata"])
    return {"content": [{"type": "text", "text": json.dumps(memory)}], "structuredContent": memory, "isError": False}


@app.get("/v1/skills")
def skills(q: str = "", limit: int = 50, authorization: str | None = Header(None)):
    agent(authorization)
    words = re.findall(r"\w+", q)
    if words:
        expression = " AND ".join(f'"{w}"' for w in words[:-1]) + (" AND " if len(words) > 1 else "") + f'("{words[-1]}" OR "{words[-1]}"*)'
        rows = db().execute("""SELECT s.name, s.source, s.description, s.path, s.revision FROM skills_fts JOIN skills s ON s.id = skills_fts.rowid
                               JOIN sources src ON src.name = s.source WHERE skills_fts MATCH ? AND src.status != 'removed' AND s.deleted_at IS NULL
                               AND s.shadowed_by IS NULL AND s.loadable ORDER BY bm25(skills_fts, 10.0, 4.0, 1.0), s.name LIMIT ?""",
                            (expression, limit)).fetchall()
    else:
        rows = db().execute("""SELECT s.name, s.source, s.description, s.path, s.revision FROM skills s JOIN sources src ON src.name = s.source
                               WHERE src.status != 'removed' AND s.deleted_at IS NULL AND s.shadowed_by IS NULL AND s.loadable
                               ORDER BY s.name, src.position, s.path LIMIT ?""", (limit,)).fetchall()
    return {"skills": [dict(r) for r in rows]}
