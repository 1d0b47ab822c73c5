import ArgumentParser
import Base
import Foundation
import Host
import Registry
import RegistryPostgres

/// `agenthub db`: moving a registry between backends.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Move a registry between backends (a SQLite file into PostgreSQL).",
        subcommands: [Copy.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite registry into a PostgreSQL database and print the rows per table on both sides.",
            discussion: """
                Copies sources, skills and their files, sync runs, memories, traces and agent status, approvals and \
                grants, API keys and bridged tool pins, in one transaction: the target holds all of it or none. \
                Hosts may keep running on the SQLite file: the copy reads one snapshot of it. Not copied: \
                \(RegistryTable.notCopied). API key hashes are keyed with the pepper: hosts on the new database \
                need the same one (set AGENTHUB_KEY_PEPPER to the contents of the key-pepper file next to the \
                SQLite registry). ${VAR} in --to is read from the environment, so the password can stay out of \
                the command line. Exit 0 when every table's counts match, 1 otherwise (and nothing is kept).
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: "The SQLite registry to copy (default: host.database of --config).")
        var from: String?

        @Option(name: .long, help: "The PostgreSQL database: postgres://user:password@host:port/database?sslmode=…")
        var to: String

        @Flag(name: .long, help: "Empty the target's registry tables first when they hold rows (otherwise such a target is refused).")
        var replace = false

        func run() async throws {
            let logger = global.logger()
            let source: String
            if let from { source = from } else {
                let database = HostContext.lenientHostSettings(configPath: global.config).database
                guard !PostgresLocation.hasScheme(database) else {
                    Output.stderr("error: host.database of \(global.config) is already a PostgreSQL URL; name the SQLite file to copy with --from")
                    throw ExitCode(64)
                }
                source = PathText.resolve(database, against: PathText.folder(of: global.config), home: HostEnvironment.values["HOME"])
            }
            guard FileManager.default.fileExists(atPath: source) else {
                Output.stderr("error: no SQLite registry at \(source) (--from)")
                throw ExitCode(1)
            }
            let location: PostgresLocation
            do {
                let url = try CommandLineExpansion.expand(to, what: "--to")
                guard case .postgres(let parsed) = try RegistryLocation.parse(url) else {
                    Output.stderr("error: --to must be a postgres:// or postgresql:// URL")
                    throw ExitCode(64)
                }
                location = parsed
            } catch let error as ExitCode { throw error } catch {
                Output.fail(error)
                throw ExitCode(64)
            }
            do {
                let sqlite = try RegistryDatabase(path: source, access: .readOnly, logger: logger)
                let snapshot = try sqlite.snapshot()
                let target = try await PostgresRegistry.open(location, logger: logger)
                defer { target.close() }
                let json = global.json
                let report = try await target.copy(from: snapshot, replace: replace) { table, rows in
                    if !json { Output.stderr("copied \(table): \(rows) rows") }
                }
                if global.json {
                    Output.json(JSONValue.object([
                        "from": .string(source), "to": .string("\(location)"), "matches": .bool(report.matches),
                        "tables": .array(report.tables.map { .object(["table": .string($0.name), "sqlite": .int($0.source),
                                                                      "postgres": .int($0.copied)]) }),
                        "nuls_replaced": .int(report.nulsReplaced), "json_nuls_replaced": .int(report.jsonNulsReplaced),
                    ]))
                } else {
                    Output.table(["TABLE", "SQLITE", "POSTGRES", ""], report.tables.map {
                        [$0.name, String($0.source), String($0.copied), $0.source == $0.copied ? "ok" : "DIFFERS"]
                    })
                    print("copied \(source) into \(location); not copied: \(RegistryTable.notCopied)")
                    if report.nulsReplaced > 0 {
                        print("\(report.nulsReplaced) text values held NUL characters, which PostgreSQL cannot store; they hold U+FFFD instead")
                    }
                    if report.jsonNulsReplaced > 0 {
                        print("\(report.jsonNulsReplaced) JSON values held \\u0000, which jsonb refuses; they hold \\ufffd instead")
                    }
                }
            } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
        }
    }
}
