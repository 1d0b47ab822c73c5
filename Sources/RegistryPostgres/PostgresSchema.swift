import Foundation
import Logging
import PostgresNIO
import Registry

/// The registry's tables in PostgreSQL, one numbered migration at a time, and the runner that
/// applies them. The runner holds a transaction-scoped advisory lock while it reads the version
/// table and applies what is missing (DDL is transactional in PostgreSQL), so two hosts starting
/// at once migrate once and the second finds the work done.
///
/// The tables mirror the SQLite registry's (`RegistryMigrations`), with PostgreSQL's types:
/// `BIGSERIAL` ids, `TIMESTAMPTZ` times, `JSONB` for JSON, `BYTEA` for key hashes, and generated
/// `tsvector` columns with GIN indexes where SQLite has FTS5 tables.
enum PostgresSchema {
    /// The key of the advisory lock migrations take (the bytes of "agenthub" as one number).
    static let lockKey: Int64 = 0x6167_656E_7468_7562

    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "the registry: sources, skills, memory, traces, approvals, keys, hosts, bridge, sessions", statements: [
            """
            CREATE TABLE sources (
              name TEXT PRIMARY KEY,
              kind TEXT NOT NULL CHECK (kind IN ('local', 'git')),
              location TEXT NOT NULL,
              position INTEGER NOT NULL,
              status TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'ready', 'syncing', 'failed', 'stalled', 'suspended', 'suspect', 'removed')),
              status_reason TEXT,
              revision TEXT,
              "commit" TEXT,
              config_digest TEXT,
              failure_kind TEXT,
              last_attempt_at TIMESTAMPTZ,
              last_success_at TIMESTAMPTZ,
              consecutive_failures INTEGER NOT NULL DEFAULT 0,
              skill_count INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE skills (
              id BIGSERIAL PRIMARY KEY,
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
              metadata JSONB,
              extra_fields JSONB,
              body TEXT NOT NULL,
              loadable BOOLEAN NOT NULL,
              strict BOOLEAN NOT NULL,
              load_errors JSONB NOT NULL,
              strict_errors JSONB NOT NULL,
              warnings JSONB NOT NULL,
              shadowed_by BIGINT REFERENCES skills(id) ON DELETE SET NULL,
              first_seen_at TIMESTAMPTZ NOT NULL,
              updated_at TIMESTAMPTZ NOT NULL,
              deleted_at TIMESTAMPTZ,
              search TSVECTOR GENERATED ALWAYS AS (
                setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', description), 'B')
                  || setweight(to_tsvector('english', body), 'C')) STORED,
              UNIQUE (source, path)
            )
            """,
            "CREATE INDEX skills_by_name ON skills(name) WHERE deleted_at IS NULL",
            "CREATE INDEX skills_by_shadow ON skills(shadowed_by) WHERE shadowed_by IS NOT NULL",
            "CREATE INDEX skills_search ON skills USING GIN (search)",
            """
            CREATE TABLE skill_files (
              skill_id BIGINT NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
              path TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('file', 'directory', 'symlink', 'other')),
              size BIGINT NOT NULL,
              is_binary BOOLEAN NOT NULL,
              content TEXT,
              link_target TEXT,
              note TEXT,
              PRIMARY KEY (skill_id, path)
            )
            """,
            """
            CREATE TABLE sync_runs (
              id BIGSERIAL PRIMARY KEY,
              source TEXT NOT NULL REFERENCES sources(name) ON DELETE CASCADE,
              started_at TIMESTAMPTZ NOT NULL,
              finished_at TIMESTAMPTZ NOT NULL,
              outcome TEXT NOT NULL CHECK (outcome IN ('published', 'unchanged', 'held', 'failed')),
              revision TEXT,
              added INTEGER NOT NULL DEFAULT 0,
              updated INTEGER NOT NULL DEFAULT 0,
              removed INTEGER NOT NULL DEFAULT 0,
              unchanged INTEGER NOT NULL DEFAULT 0,
              rows_written INTEGER NOT NULL DEFAULT 0,
              message TEXT
            )
            """,
            "CREATE INDEX sync_runs_by_source ON sync_runs(source, id)",
            """
            CREATE TABLE sync_leases (
              source TEXT PRIMARY KEY,
              owner TEXT,
              fence BIGINT NOT NULL DEFAULT 0,
              expires_at TIMESTAMPTZ,
              last_checked_at TIMESTAMPTZ,
              next_attempt_at TIMESTAMPTZ
            )
            """,
            """
            CREATE TABLE memories (
              id BIGSERIAL PRIMARY KEY,
              type TEXT NOT NULL CHECK (type IN ('core', 'episodic', 'archival')),
              scope TEXT NOT NULL CHECK (scope IN ('agent', 'role', 'group', 'global')),
              owner TEXT NOT NULL,
              text TEXT NOT NULL,
              metadata JSONB,
              importance DOUBLE PRECISION NOT NULL CHECK (importance BETWEEN 0 AND 1),
              created_at DOUBLE PRECISION NOT NULL,
              agent TEXT NOT NULL,
              role TEXT
            )
            """,
            "CREATE INDEX memories_by_owner ON memories(scope, owner)",
            """
            CREATE TABLE memory_chunks (
              id BIGSERIAL PRIMARY KEY,
              memory_id BIGINT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
              seq INTEGER NOT NULL,
              text TEXT NOT NULL,
              search TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
            )
            """,
            "CREATE INDEX memory_chunks_by_memory ON memory_chunks(memory_id)",
            "CREATE INDEX memory_chunks_search ON memory_chunks USING GIN (search)",
            """
            CREATE TABLE trace_events (
              id BIGSERIAL PRIMARY KEY,
              at TEXT NOT NULL,
              type TEXT NOT NULL,
              session TEXT NOT NULL,
              span_id TEXT NOT NULL,
              agent TEXT NOT NULL,
              role TEXT,
              "group" TEXT,
              tool TEXT NOT NULL,
              decision TEXT,
              duration_ms DOUBLE PRECISION,
              argument_bytes BIGINT,
              result_bytes BIGINT,
              detail JSONB,
              revision TEXT,
              trace_id TEXT,
              state TEXT,
              client_ts TEXT,
              host_id TEXT
            )
            """,
            "CREATE INDEX trace_events_by_session ON trace_events(session, id)",
            "CREATE INDEX trace_events_by_agent ON trace_events(agent, id)",
            "CREATE INDEX trace_events_by_type ON trace_events(type, id)",
            "CREATE INDEX trace_events_by_span ON trace_events(span_id)",
            """
            CREATE TABLE agent_status (
              agent TEXT PRIMARY KEY,
              state TEXT,
              model TEXT,
              session TEXT,
              last_seen TEXT NOT NULL,
              last_event_id BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE approvals (
              id TEXT PRIMARY KEY,
              tool TEXT NOT NULL,
              arguments JSONB NOT NULL,
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
              created_at TIMESTAMPTZ NOT NULL,
              expires_at TIMESTAMPTZ NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'denied', 'expired', 'withdrawn')),
              scope TEXT CHECK (scope IS NULL OR scope IN ('call', 'session', 'agent')),
              decided_at TIMESTAMPTZ,
              decided_by TEXT,
              decided_via TEXT,
              decision_reason TEXT,
              used_at TIMESTAMPTZ,
              approvers TEXT NOT NULL DEFAULT 'operator' CHECK (approvers IN ('any', 'operator', 'client')),
              client_scope TEXT NOT NULL DEFAULT 'call' CHECK (client_scope IN ('call', 'session', 'agent')),
              session_ends BOOLEAN NOT NULL DEFAULT FALSE,
              deferred BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            "CREATE INDEX approvals_by_status ON approvals(status, created_at)",
            "CREATE INDEX approvals_by_call ON approvals(agent, tool, arguments_digest)",
            "CREATE INDEX approvals_pending_by_agent ON approvals(agent, status)",
            """
            CREATE TABLE approval_grants (
              id TEXT PRIMARY KEY,
              approval_id TEXT NOT NULL REFERENCES approvals(id),
              tool TEXT NOT NULL,
              agent TEXT NOT NULL,
              session TEXT,
              scope TEXT NOT NULL CHECK (scope IN ('session', 'agent')),
              rule TEXT NOT NULL,
              rule_key TEXT NOT NULL,
              granted_by TEXT NOT NULL,
              created_at TIMESTAMPTZ NOT NULL,
              expires_at TIMESTAMPTZ,
              revoked_at TIMESTAMPTZ,
              revoked_by TEXT,
              revoke_reason TEXT
            )
            """,
            "CREATE INDEX approval_grants_by_caller ON approval_grants(agent, tool)",
            """
            CREATE TABLE api_keys (
              id TEXT PRIMARY KEY,
              hash BYTEA NOT NULL UNIQUE,
              agent TEXT NOT NULL,
              label TEXT,
              hint TEXT NOT NULL,
              created_at TIMESTAMPTZ NOT NULL,
              expires_at TIMESTAMPTZ,
              revoked_at TIMESTAMPTZ
            )
            """,
            "CREATE INDEX api_keys_by_agent ON api_keys(agent)",
            """
            CREATE TABLE hosts (
              id TEXT PRIMARY KEY,
              machine TEXT NOT NULL,
              pid INTEGER NOT NULL,
              start_ticks TEXT NOT NULL,
              kind TEXT NOT NULL,
              config TEXT NOT NULL,
              started_at TIMESTAMPTZ NOT NULL,
              heartbeat_at TIMESTAMPTZ NOT NULL,
              revision TEXT NOT NULL,
              http TEXT,
              reloads INTEGER NOT NULL DEFAULT 0,
              last_reload_at TIMESTAMPTZ,
              last_reload_trigger TEXT,
              last_reload_result TEXT,
              last_reload_message TEXT,
              last_reload_errors JSONB
            )
            """,
            """
            CREATE TABLE bridge_tool_pins (
              tool TEXT PRIMARY KEY,
              server TEXT NOT NULL,
              digest TEXT NOT NULL,
              first_seen_at TIMESTAMPTZ NOT NULL,
              changed_digest TEXT,
              changed_at TIMESTAMPTZ
            )
            """,
            "CREATE INDEX bridge_tool_pins_by_server ON bridge_tool_pins(server)",
            """
            CREATE TABLE bridge_servers (
              owner TEXT NOT NULL,
              server TEXT NOT NULL,
              status TEXT NOT NULL,
              updated_at TIMESTAMPTZ NOT NULL,
              PRIMARY KEY (owner, server)
            )
            """,
            """
            CREATE TABLE console_sessions (
              token_hash BYTEA PRIMARY KEY,
              agent TEXT NOT NULL,
              key_hash BYTEA NOT NULL,
              csrf TEXT NOT NULL,
              created_at TIMESTAMPTZ NOT NULL,
              seen_at TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE mcp_sessions (
              id TEXT PRIMARY KEY,
              agent TEXT NOT NULL,
              protocol_version TEXT NOT NULL,
              client JSONB,
              capabilities JSONB,
              created_at TIMESTAMPTZ NOT NULL,
              seen_at TIMESTAMPTZ NOT NULL,
              ended_at TIMESTAMPTZ
            )
            """,
            // The change feed: a mark per kind of change, moved by whoever changes it; every move is
            // announced on the `agenthub_changes` channel (LISTEN/NOTIFY) with the kind as payload.
            """
            CREATE TABLE change_marks (
              kind TEXT PRIMARY KEY CHECK (kind IN ('skills', 'approvals', 'keys', 'events')),
              mark BIGINT NOT NULL DEFAULT 0
            )
            """,
            "INSERT INTO change_marks (kind) VALUES ('skills'), ('approvals'), ('keys'), ('events')",
            """
            CREATE FUNCTION announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_notify('agenthub_changes', NEW.kind);
              RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER change_marks_announce AFTER UPDATE ON change_marks FOR EACH ROW EXECUTE FUNCTION announce_change()",
        ]),
        // A trace batch the writer sends again (its first try may have committed after the host gave
        // up on it) is stored once: each batch has a key, each of its events a place in it.
        Migration(version: 2, name: "trace batches stored once", statements: [
            "ALTER TABLE trace_events ADD COLUMN batch TEXT, ADD COLUMN batch_index INTEGER",
            "CREATE UNIQUE INDEX trace_events_by_batch ON trace_events(batch, batch_index) WHERE batch IS NOT NULL",
        ]),
        // An MCP session another host opened is served under the name its calls are traced and
        // granted under; a session ended is deleted, not marked.
        Migration(version: 3, name: "MCP sessions served by any host", statements: [
            "ALTER TABLE mcp_sessions ADD COLUMN trace_session TEXT NOT NULL DEFAULT '', DROP COLUMN client, DROP COLUMN ended_at",
            "ALTER TABLE mcp_sessions ALTER COLUMN capabilities TYPE TEXT USING capabilities::text",
            "CREATE INDEX mcp_sessions_by_use ON mcp_sessions(seen_at)",
            "ALTER TABLE change_marks DROP CONSTRAINT change_marks_kind_check",
            "ALTER TABLE change_marks ADD CONSTRAINT change_marks_kind_check CHECK (kind IN ('skills', 'approvals', 'keys', 'events', 'sessions'))",
            "INSERT INTO change_marks (kind) VALUES ('sessions')",
        ]),
        // What the Skills extension serves: each file's digest and exact bytes, each skill's
        // frontmatter as written. Skills published before have none; their digests lack the new
        // storage format, so each source's next sync publishes them again.
        Migration(version: 4, name: "skill file digests and bytes, skill frontmatter", statements: [
            "ALTER TABLE skill_files ADD COLUMN digest TEXT, ADD COLUMN data BYTEA",
            "ALTER TABLE skills ADD COLUMN frontmatter JSONB",
        ]),
        Migration(version: 5, name: "sources of kind mcp", statements: [
            "ALTER TABLE sources DROP CONSTRAINT sources_kind_check",
            "ALTER TABLE sources ADD CONSTRAINT sources_kind_check CHECK (kind IN ('local', 'git', 'mcp'))",
        ]),
        Migration(version: 6, name: "tool calls as tasks", statements: [
            """
            CREATE TABLE tasks (
              id TEXT PRIMARY KEY,
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
              created_at TIMESTAMPTZ NOT NULL,
              updated_at TIMESTAMPTZ NOT NULL,
              expires_at TIMESTAMPTZ NOT NULL,
              cancel_requested BOOLEAN NOT NULL DEFAULT false
            )
            """,
            "CREATE INDEX tasks_by_agent ON tasks(agent, created_at)",
            "CREATE INDEX tasks_running ON tasks(status) WHERE status IN ('working', 'input_required')",
        ]),
        Migration(version: 7, name: "credentials for remote bridged servers, sealed", statements: [
            """
            CREATE TABLE bridge_credentials (
              server TEXT NOT NULL,
              agent TEXT NOT NULL,
              sealed TEXT NOT NULL,
              updated_at TIMESTAMPTZ NOT NULL,
              PRIMARY KEY (server, agent)
            )
            """,
        ]),
    ]

    /// Applies the migrations this database lacks, under the lock. A database whose schema is newer
    /// than this build knows is refused: an older host must not write to it.
    static func migrate(_ connection: PostgresConnection, logger: Logger, host: String) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS agenthub_migrations (
                  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_by TEXT NOT NULL)
                """, logger: logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM agenthub_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            let known = migrations.map(\.version)
            if let newest = applied.max(), newest > known.max() ?? 0 {
                throw RegistryError(.migration, "the database's schema is version \(newest), newer than this agenthub knows (\(known.max() ?? 0)): upgrade agenthub")
            }
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO agenthub_migrations (version, name, applied_by) VALUES (\(migration.version), \(migration.name), \(host))",
                                           logger: logger)
                logger.notice("registry schema migrated", metadata: ["registry.version": "\(migration.version)", "registry.migration": "\(migration.name)"])
            }
        }
    }
}
