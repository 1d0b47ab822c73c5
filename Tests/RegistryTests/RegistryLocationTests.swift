import Testing
@testable import Registry

/// `host.database`: a file, or a PostgreSQL URL read as libpq reads it.
@Suite struct RegistryLocationTests {
    @Test func aPathIsAFileAndAPostgresURLIsADatabase() throws {
        #expect(try RegistryLocation.parse(".agenthub/registry.db") == .sqlite(path: ".agenthub/registry.db"))
        guard case .postgres(let db) = try RegistryLocation.parse("postgresql://app:p%40ss%3Aword@db.internal:6543/agent%20hub?sslmode=require&connect_timeout=3") else {
            Issue.record("not read as PostgreSQL")
            return
        }
        #expect(db.user == "app" && db.password == "p@ss:word" && db.host == "db.internal" && db.port == 6543)
        #expect(db.database == "agent hub" && db.sslMode == .require && db.connectTimeout == 3)
        #expect(db.description == "postgres://app@db.internal:6543/agent hub")
        #expect(!db.description.contains("p@ss"))
    }

    @Test func defaultsAndOtherForms() throws {
        guard case .postgres(let plain) = try RegistryLocation.parse("POSTGRES://me@localhost/reg") else { Issue.record("not PostgreSQL"); return }
        #expect(plain.port == 5432 && plain.password == nil && plain.sslMode == .prefer && plain.connectTimeout == 10)
        guard case .postgres(let v6) = try RegistryLocation.parse("postgres://me:pw@[::1]:5433/reg") else { Issue.record("not PostgreSQL"); return }
        #expect(v6.host == "::1" && v6.port == 5433 && v6.description == "postgres://me@[::1]:5433/reg")
        guard case .postgres(let socket) = try RegistryLocation.parse("postgres://me@/reg?host=/run/postgresql") else { Issue.record("not PostgreSQL"); return }
        #expect(socket.socketPath == "/run/postgresql/.s.PGSQL.5432")
    }

    @Test func aMalformedURLSaysWhatIsWrongAndNeverShowsThePassword() {
        for (url, why) in [
            ("postgres://me:hunter2@db:99999/reg", "port must be 1-65535"),
            ("postgres://me:hunter2@db/", "database name is required"),
            ("postgres://:hunter2@db/reg", "user name is required"),
            ("postgres://me:hunter2@db/reg?sslmode=sometimes", "sslmode must be one of"),
            ("postgres://me:hunter2@db/reg?colour=blue", "unknown parameter 'colour'"),
            ("postgres://me:hunter2@[::1/reg", "closing ]"),
            ("postgres://me:hunter2@/reg?host=relative", "socket folder"),
            ("postgres://me:hunter2@/reg?host=/run/pg&sslmode=verify-full", "Unix socket"),
            ("postgres://me:hunter2@db/re\ng", "control character"),
        ] {
            do {
                _ = try RegistryLocation.parse(url)
                Issue.record("accepted \(url)")
            } catch {
                #expect(error.code == .location)
                #expect(error.message.contains(why), "\(url): \(error.message)")
                #expect(!error.message.contains("hunter2"), "\(url): \(error.message)")
            }
        }
    }
}
