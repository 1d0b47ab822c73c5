import GRDB

/// Versioned schema migrations. Add a new migration for every change; never edit a shipped one.
enum RegistryMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sources, skills, skill files, sync runs, fts") { db in
            try db.execute(sql: """
                CREATE TABLE sources (
                  name TEXT PRIMARY KEY NOT NULL,
                  kind TEXT NOT NULL CHECK (kind IN ('local', 'git')),
                  location TEXT NOT NULL,
                  position INTEGER NOT NULL,
                  status TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'ready', 'syncing', 'failed', 'stalled', 'suspended', 'suspect', 'removed')),
                  status_reason TEXT,
                  revision TEXT,
                  last_attempt_at DATETIME,
                  last_success_at DATETIME,
                  consecutive_failures INTEGER NOT NULL DEFAULT 0,
                  skill_count INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE skills (
                  id INTEGER PRIMARY KEY,
                  source TEXT NOT NULL REFERENCES sources(name) ON DELETE CASCADE,
                  path TEXT NOT NULL,
                  file_name TEXT NOT NULL,
                  revision TEXT NOT NULL,
                  digest TEXT NOT NULL,
                  name TEXT NOT NULL,
                  description TEXT NOT NULL,
                  license TEXT,
                  compatibility TEXT,
                  allowed_tools TEXT,
                  metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
                  extra_fields TEXT CHECK (extra_fields IS NULL OR json_valid(extra_fields)),
                  body TEXT NOT NULL,
                  loadable BOOLEAN NOT NULL,
                  strict BOOLEAN NOT NULL,
                  load_errors TEXT NOT NULL CHECK (json_valid(load_errors)),
                  strict_errors TEXT NOT NULL CHECK (json_valid(strict_errors)),
                  warnings TEXT NOT NULL CHECK (json_valid(warnings)),
                  shadowed_by INTEGER REFERENCES skills(id) ON DELETE SET NULL,
                  first_seen_at DATETIME NOT NULL,
                  updated_at DATETIME NOT NULL,
                  deleted_at DATETIME,
                  UNIQUE (source, path)
                );
                CREATE INDEX skills_by_name ON skills(name) WHERE deleted_at IS NULL;
                CREATE INDEX skills_by_shadow ON skills(shadowed_by) WHERE shadowed_by IS NOT NULL;
                CREATE TABLE skill_files (
                  skill_id INTEGER NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
                  path TEXT NOT NULL,
                  kind TEXT NOT NULL CHECK (kind IN ('file', 'directory', 'symlink', 'other')),
                  size INTEGER NOT NULL,
                  is_binary BOOLEAN NOT NULL,
                  content TEXT,
                  link_target TEXT,
                  note TEXT,
                  PRIMARY KEY (skill_id, path)
                ) WITHOUT ROWID;
                CREATE VIRTUAL TABLE skills_fts USING fts5(
                  name, description, body, tokenize = 'porter unicode61 remove_diacritics 2'
                );
                CREATE TABLE sync_runs (
                  id INTEGER PRIMARY KEY,
                  source TEXT NOT NULL REFERENCES sources(name) ON DELETE CASCADE,
                  started_at DATETIME NOT NULL,
                  finished_at DATETIME NOT NULL,
                  outcome TEXT NOT NULL CHECK (outcome IN ('published', 'unchanged', 'held', 'failed')),
                  revision TEXT,
                  added INTEGER NOT NULL DEFAULT 0,
                  updated INTEGER NOT NULL DEFAULT 0,
                  removed INTEGER NOT NULL DEFAULT 0,
                  unchanged INTEGER NOT NULL DEFAULT 0,
                  rows_written INTEGER NOT NULL DEFAULT 0,
                  message TEXT
                );
                CREATE INDEX sync_runs_by_source ON sync_runs(source, id);
                """)
        }
        migrator.registerMigration("v2: memories, memory chunks, memory fts, trace events") { db in
            try db.execute(sql: """
                CREATE TABLE memories (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  type TEXT NOT NULL CHECK (type IN ('core', 'episodic', 'archival')),
                  scope TEXT NOT NULL CHECK (scope IN ('agent', 'role', 'group', 'global')),
                  owner TEXT NOT NULL,
                  text TEXT NOT NULL,
                  metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
                  importance REAL NOT NULL CHECK (importance BETWEEN 0 AND 1),
                  created_at REAL NOT NULL,
                  agent TEXT NOT NULL,
                  role TEXT
                );
                CREATE INDEX memories_by_owner ON memories(scope, owner);
                CREATE TABLE memory_chunks (
                  id INTEGER PRIMARY KEY,
                  memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
                  seq INTEGER NOT NULL,
                  text TEXT NOT NULL
                );
                CREATE INDEX memory_chunks_by_memory ON memory_chunks(memory_id);
                CREATE VIRTUAL TABLE memory_fts USING fts5(
                  text, content = 'memory_chunks', content_rowid = 'id',
                  tokenize = 'porter unicode61 remove_diacritics 2'
                );
                CREATE TRIGGER memory_chunks_indexed AFTER INSERT ON memory_chunks BEGIN
                  INSERT INTO memory_fts(rowid, text) VALUES (new.id, new.text);
                END;
                CREATE TRIGGER memory_chunks_unindexed AFTER DELETE ON memory_chunks BEGIN
                  INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.id, old.text);
                END;
                CREATE TABLE trace_events (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  at TEXT NOT NULL,
                  type TEXT NOT NULL,
                  session TEXT NOT NULL,
                  span_id TEXT NOT NULL,
                  agent TEXT NOT NULL,
                  role TEXT,
                  "group" TEXT,
                  tool TEXT NOT NULL,
                  decision TEXT,
                  duration_ms REAL,
                  argument_bytes INTEGER,
                  result_bytes INTEGER,
                  detail TEXT CHECK (detail IS NULL OR json_valid(detail))
                );
                CREATE INDEX trace_events_by_session ON trace_events(session, id);
                CREATE INDEX trace_events_by_agent ON trace_events(agent, id);
                """)
        }
        migrator.registerMigration("v3: git sync state and leases") { db in
            try db.execute(sql: """
                ALTER TABLE sources ADD COLUMN "commit" TEXT;
                ALTER TABLE sources ADD COLUMN config_digest TEXT;
                ALTER TABLE sources ADD COLUMN failure_kind TEXT;
                CREATE TABLE sync_leases (
                  source TEXT PRIMARY KEY NOT NULL,
                  owner TEXT,
                  expires_at DATETIME,
                  last_checked_at DATETIME,
                  next_attempt_at DATETIME
                );
                """)
        }
        migrator.registerMigration("v4: bridged tool pins and bridged server status") { db in
            try db.execute(sql: """
                CREATE TABLE bridge_tool_pins (
                  tool TEXT PRIMARY KEY NOT NULL,
                  server TEXT NOT NULL,
                  digest TEXT NOT NULL,
                  first_seen_at DATETIME NOT NULL,
                  changed_digest TEXT,
                  changed_at DATETIME
                );
                CREATE INDEX bridge_tool_pins_by_server ON bridge_tool_pins(server);
                CREATE TABLE bridge_servers (
                  owner TEXT NOT NULL,
                  server TEXT NOT NULL,
                  status TEXT NOT NULL,
                  updated_at DATETIME NOT NULL,
                  PRIMARY KEY (owner, server)
                );
                """)
        }
        migrator.registerMigration("v5: running hosts, and the manifest revision of each trace event") { db in
            try db.execute(sql: """
                CREATE TABLE hosts (
                  id TEXT PRIMARY KEY NOT NULL,
                  pid INTEGER NOT NULL,
                  start_ticks TEXT NOT NULL,
                  kind TEXT NOT NULL,
                  config TEXT NOT NULL,
                  started_at DATETIME NOT NULL,
                  heartbeat_at DATETIME NOT NULL,
                  revision TEXT NOT NULL,
                  http TEXT,
                  reloads INTEGER NOT NULL DEFAULT 0,
                  last_reload_at DATETIME,
                  last_reload_trigger TEXT,
                  last_reload_result TEXT,
                  last_reload_message TEXT,
                  last_reload_errors TEXT CHECK (last_reload_errors IS NULL OR json_valid(last_reload_errors))
                );
                ALTER TABLE trace_events ADD COLUMN revision TEXT;
                """)
        }
        migrator.registerMigration("v6: API keys, agent-reported events, agent status") { db in
            try db.execute(sql: """
                CREATE TABLE api_keys (
                  id TEXT PRIMARY KEY NOT NULL,
                  hash BLOB NOT NULL UNIQUE,
                  agent TEXT NOT NULL,
                  label TEXT,
                  hint TEXT NOT NULL,
                  created_at DATETIME NOT NULL,
                  expires_at DATETIME,
                  revoked_at DATETIME
                );
                CREATE INDEX api_keys_by_agent ON api_keys(agent);
                ALTER TABLE trace_events ADD COLUMN trace_id TEXT;
                ALTER TABLE trace_events ADD COLUMN state TEXT;
                ALTER TABLE trace_events ADD COLUMN client_ts TEXT;
                CREATE INDEX trace_events_by_type ON trace_events(type, id);
                CREATE TABLE agent_status (
                  agent TEXT PRIMARY KEY NOT NULL,
                  state TEXT,
                  model TEXT,
                  session TEXT,
                  last_seen TEXT NOT NULL,
                  last_event_id INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v7: approval requests and lasting grants") { db in
            try db.execute(sql: """
                CREATE TABLE approvals (
                  id TEXT PRIMARY KEY NOT NULL,
                  tool TEXT NOT NULL,
                  arguments TEXT NOT NULL CHECK (json_valid(arguments)),
                  arguments_digest TEXT NOT NULL,
                  agent TEXT NOT NULL,
                  role TEXT,
                  grp TEXT,
                  session TEXT NOT NULL,
                  span_id TEXT NOT NULL,
                  rule TEXT NOT NULL,
                  rule_key TEXT NOT NULL,
                  policy_reason TEXT NOT NULL,
                  revision TEXT,
                  host_id TEXT,
                  created_at DATETIME NOT NULL,
                  expires_at DATETIME NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'denied', 'expired', 'withdrawn')),
                  scope TEXT CHECK (scope IS NULL OR scope IN ('call', 'session', 'agent')),
                  decided_at DATETIME,
                  decided_by TEXT,
                  decided_via TEXT,
                  decision_reason TEXT,
                  used_at DATETIME
                );
                CREATE INDEX approvals_by_status ON approvals(status, created_at);
                CREATE INDEX approvals_by_call ON approvals(agent, tool, arguments_digest);
                CREATE TABLE approval_grants (
                  id TEXT PRIMARY KEY NOT NULL,
                  approval_id TEXT NOT NULL REFERENCES approvals(id),
                  tool TEXT NOT NULL,
                  agent TEXT NOT NULL,
                  session TEXT,
                  scope TEXT NOT NULL CHECK (scope IN ('session', 'agent')),
                  rule TEXT NOT NULL,
                  rule_key TEXT NOT NULL,
                  granted_by TEXT NOT NULL,
                  created_at DATETIME NOT NULL,
                  expires_at DATETIME,
                  revoked_at DATETIME,
                  revoked_by TEXT,
                  revoke_reason TEXT
                );
                CREATE INDEX approval_grants_by_caller ON approval_grants(agent, tool);
                """)
        }
        migrator.registerMigration("v8: who may answer an approval, what a client may grant, sessions that end; events by span") { db in
            try db.execute(sql: """
                ALTER TABLE approvals ADD COLUMN approvers TEXT NOT NULL DEFAULT 'operator' CHECK (approvers IN ('any', 'operator', 'client'));
                ALTER TABLE approvals ADD COLUMN client_scope TEXT NOT NULL DEFAULT 'call' CHECK (client_scope IN ('call', 'session', 'agent'));
                ALTER TABLE approvals ADD COLUMN session_ends BOOLEAN NOT NULL DEFAULT 0;
                ALTER TABLE approvals ADD COLUMN deferred BOOLEAN NOT NULL DEFAULT 0;
                CREATE INDEX approvals_pending_by_agent ON approvals(agent, status);
                CREATE INDEX trace_events_by_span ON trace_events(span_id);
                UPDATE approval_grants SET expires_at = datetime(created_at, '+1 hour') WHERE expires_at IS NULL;
                """)
        }
        migrator.registerMigration("v9: MCP sessions over HTTP and console sessions, so another host can serve them") { db in
            try db.execute(sql: """
                CREATE TABLE mcp_sessions (
                  id TEXT PRIMARY KEY,
                  agent TEXT NOT NULL,
                  trace_session TEXT NOT NULL,
                  protocol_version TEXT NOT NULL,
                  capabilities TEXT,
                  created_at DATETIME NOT NULL,
                  seen_at DATETIME NOT NULL
                );
                CREATE TABLE console_sessions (
                  token_hash BLOB PRIMARY KEY,
                  agent TEXT NOT NULL,
                  key_hash BLOB NOT NULL,
                  csrf TEXT NOT NULL,
                  created_at DATETIME NOT NULL,
                  seen_at DATETIME NOT NULL
                );
                CREATE INDEX console_sessions_by_key ON console_sessions(key_hash);
                """)
        }
        migrator.registerMigration("v10: each skill file's digest and exact bytes, each skill's frontmatter as written") { db in
            // Skills published before this have neither; their digests lack the new storage format,
            // so each source's next sync reads and publishes them again.
            try db.execute(sql: """
                ALTER TABLE skill_files ADD COLUMN digest TEXT;
                ALTER TABLE skill_files ADD COLUMN data BLOB;
                ALTER TABLE skills ADD COLUMN frontmatter TEXT;
                """)
        }
        migrator.registerMigration("v11: sources of kind mcp (skills a bridged server publishes)") { db in
            // SQLite cannot change a CHECK: the table is rebuilt (foreign keys are off while a
            // migration runs, and checked before it commits).
            try db.execute(sql: """
                CREATE TABLE sources_v11 (
                  name TEXT PRIMARY KEY NOT NULL,
                  kind TEXT NOT NULL CHECK (kind IN ('local', 'git', 'mcp')),
                  location TEXT NOT NULL,
                  position INTEGER NOT NULL,
                  status TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'ready', 'syncing', 'failed', 'stalled', 'suspended', 'suspect', 'removed')),
                  status_reason TEXT,
                  revision TEXT,
                  last_attempt_at DATETIME,
                  last_success_at DATETIME,
                  consecutive_failures INTEGER NOT NULL DEFAULT 0,
                  skill_count INTEGER NOT NULL DEFAULT 0,
                  "commit" TEXT,
                  config_digest TEXT,
                  failure_kind TEXT
                );
                INSERT INTO sources_v11 (name, kind, location, position, status, status_reason, revision, last_attempt_at, last_success_at,
                                         consecutive_failures, skill_count, "commit", config_digest, failure_kind)
                  SELECT name, kind, location, position, status, status_reason, revision, last_attempt_at, last_success_at,
                         consecutive_failures, skill_count, "commit", config_digest, failure_kind FROM sources;
                DROP TABLE sources;
                ALTER TABLE sources_v11 RENAME TO sources;
                """)
        }
        migrator.registerMigration("v12: tool calls as tasks") { db in
            try db.execute(sql: """
                CREATE TABLE tasks (
                  id TEXT PRIMARY KEY NOT NULL,
                  tool TEXT NOT NULL,
                  arguments TEXT NOT NULL,
                  arguments_complete BOOLEAN NOT NULL,
                  agent TEXT NOT NULL,
                  role TEXT,
                  grp TEXT,
                  session TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('working', 'input_required', 'completed', 'failed', 'cancelled')),
                  status_message TEXT,
                  result TEXT,
                  error TEXT,
                  approval_id TEXT,
                  retry_of TEXT,
                  host_id TEXT NOT NULL,
                  created_at DATETIME NOT NULL,
                  updated_at DATETIME NOT NULL,
                  expires_at DATETIME NOT NULL,
                  cancel_requested BOOLEAN NOT NULL DEFAULT 0
                );
                CREATE INDEX tasks_by_agent ON tasks(agent, created_at);
                CREATE INDEX tasks_running ON tasks(status) WHERE status IN ('working', 'input_required');
                """)
        }
        migrator.registerMigration("v13: credentials for remote bridged servers, sealed") { db in
            try db.execute(sql: """
                CREATE TABLE bridge_credentials (
                  server TEXT NOT NULL,
                  agent TEXT NOT NULL,
                  sealed TEXT NOT NULL,
                  updated_at DATETIME NOT NULL,
                  PRIMARY KEY (server, agent)
                );
                """)
        }
        return migrator
    }
}
