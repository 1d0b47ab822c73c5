import ArgumentParser
import Base
import Foundation
import Host
import Core

/// `agenthub keys`: the API keys HTTP clients present (`Authorization: Bearer ah_…`).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys for the HTTP API (each stands for an agent in agents:).",
        discussion: """
            The registry keeps only an HMAC-SHA-256 of each key, keyed with a pepper from AGENTHUB_KEY_PEPPER \
            or the 0600 file key-pepper next to the database. A running host sees new and revoked keys at once.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key for an agent and print it (the only time it is shown).")

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: "The agent the key stands for (declared in agents:).")
        var agent: String

        @Option(name: .long, help: "When the key stops working, as a duration from now (30d, 12h).")
        var expires: String?

        @Option(name: .long, help: "A note to tell keys apart.")
        var label: String?

        func run() async throws {
            let context = try await global.context()
            var lifetime: TimeInterval?
            if let expires {
                do { lifetime = try ManifestDuration(parsing: expires).seconds } catch {
                    Output.stderr("error: --expires: \(error)")
                    throw ExitCode(64)
                }
            }
            do {
                let (key, record) = try await APIKeys(context: context).create(agent: agent, manifest: context.manifest, label: label, expiresIn: lifetime)
                if global.json {
                    Output.json(["key": .string(key), "id": .string(record.id), "agent": .string(record.agent),
                                 "expires_at": record.expiresAt.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null] as JSONValue)
                } else {
                    print(key)
                    Output.stderr("created \(record.id) for agent \(record.agent)\(record.expiresAt.map { ", expires \(Output.date($0))" } ?? ""); the key is shown only this once")
                }
            } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: id, agent, label, status, created, expires (never the key).")

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: "Only this agent's keys.")
        var agent: String?

        func run() async throws {
            let context = try await global.context(readOnly: true)
            let keys: [APIKeyRecord]
            do { keys = try await APIKeys(context: context).list(agent: agent) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
            if global.json {
                let iso = ISO8601DateFormatter()
                Output.json(JSONValue.array(keys.map { key in
                    ["id": .string(key.id), "agent": .string(key.agent), "label": key.label.map { .string($0) } ?? .null,
                     "hint": .string(key.hint), "status": .string(key.status()), "created_at": .string(iso.string(from: key.createdAt)),
                     "expires_at": key.expiresAt.map { .string(iso.string(from: $0)) } ?? .null,
                     "revoked_at": key.revokedAt.map { .string(iso.string(from: $0)) } ?? .null]
                }))
            } else {
                Output.table(["ID", "AGENT", "KEY", "STATUS", "CREATED", "EXPIRES", "LABEL"], keys.map {
                    [$0.id, $0.agent, $0.hint, $0.status(), Output.date($0.createdAt), $0.expiresAt.map(Output.date) ?? "never", $0.label ?? ""]
                })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id (agenthub keys list); it is refused from the next request.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The key's id (key_…).")
        var id: String

        func run() async throws {
            let context = try await global.context()
            do {
                let record = try await APIKeys(context: context).revoke(id)
                Output.stderr("revoked \(record.id) (agent \(record.agent))")
            } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
        }
    }
}
