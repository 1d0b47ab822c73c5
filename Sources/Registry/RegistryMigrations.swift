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
        return migrator
    }
}
