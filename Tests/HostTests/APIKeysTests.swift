import Foundation
import Logging
import Registry
import TestSupport
import Testing
@testable import Host

/// API keys: what is stored, the pepper, and how a presented key is judged.
struct APIKeysTests {
    func context(_ dir: String) throws -> HostContext {
        try write("""
            version: 1
            host: { database: state/registry.db, cache: cache }
            roles: { worker: {} }
            agents:
              bot: { role: worker, key_env: BOT_KEY }
              other: { role: worker }
            """, to: "registry.yaml", in: dir)
        return try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "test"), environment: [:])
    }

    @Test func aKeyIsStoredOnlyAsAPepperedHashAndIsJudgedByIt() async throws {
        try await withTemporaryDirectory { dir in
            let context = try context(dir)
            let keys = try APIKeys(context: context)
            let (key, record) = try await keys.create(agent: "bot", manifest: context.manifest, label: "ci", expiresIn: nil)
            #expect(key.hasPrefix("ah_") && key.count == 46)
            #expect(record.hint == String(key.prefix(9)) + "…")
            #expect(await keys.check(key, environmentKeys: [:]) == .agent("bot", keyId: record.id))
            #expect(await keys.check(key + "x", environmentKeys: [:]) == .refused("the key is not valid"))
            #expect(await keys.check("", environmentKeys: [:]) == .refused("the key is not valid"))
            // The same key under another pepper is another hash: a stolen database alone proves nothing.
            let otherPepper = APIKeys(registry: context.db, pepper: Data(repeating: 1, count: 32))
            #expect(await otherPepper.check(key, environmentKeys: [:]) == .refused("the key is not valid"))
            #expect(keys.hash(key) != otherPepper.hash(key))

            _ = try await keys.revoke(record.id)
            #expect(await keys.check(key, environmentKeys: [:]) == .refused("the key was revoked"))
            await #expect(throws: HostError.self) { try await keys.revoke("key_nonexistent") }
        }
    }

    @Test func aRevocationElsewhereIsSeenByTheNextCheckDespiteTheCache() async throws {
        try await withTemporaryDirectory { dir in
            let context = try context(dir)
            let host = try APIKeys(context: context)
            let (key, record) = try await host.create(agent: "bot", manifest: context.manifest, label: nil, expiresIn: nil)
            #expect(await host.check(key, environmentKeys: [:]) == .agent("bot", keyId: record.id))
            #expect(await host.check(key, environmentKeys: [:]) == .agent("bot", keyId: record.id), "now from the cache")
            // Another process (its own cache) revokes it.
            let cli = try APIKeys(context: try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "cli"), environment: [:]))
            _ = try await cli.revoke(record.id)
            #expect(await host.check(key, environmentKeys: [:]) == .refused("the key was revoked"))
        }
    }

    @Test func anExpiredKeyAndAnUndeclaredAgentAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let context = try context(dir)
            let keys = try APIKeys(context: context)
            let (key, _) = try await keys.create(agent: "other", manifest: context.manifest, label: nil, expiresIn: 60, now: Date().addingTimeInterval(-120))
            #expect(await keys.check(key, environmentKeys: [:]) == .refused("the key expired"))
            await #expect { try await keys.create(agent: "bott", manifest: context.manifest, label: nil, expiresIn: nil) } throws: { error in
                "\(error)".contains("did you mean 'bot'?")
            }
        }
    }

    @Test func keyEnvKeysStandForTheirAgent() async throws {
        try await withTemporaryDirectory { dir in
            let context = try context(dir)
            let keys = try APIKeys(context: context)
            let environment = keys.environmentKeys(context.manifest, environment: ["BOT_KEY": "a-key-from-the-environment"])
            #expect(await keys.check("a-key-from-the-environment", environmentKeys: environment) == .agent("bot", keyId: "env"))
            #expect(await keys.check("another-key", environmentKeys: environment) == .refused("the key is not valid"))
            #expect(keys.environmentKeys(context.manifest, environment: [:]).isEmpty)
        }
    }

    @Test func thePepperFileIsMadeOnceWithMode0600AndAnOpenOneIsRefused() throws {
        try withTemporaryDirectory { dir in
            let database = dir + "/registry.db"
            let first = try KeyPepper.load(databasePath: database, environment: [:])
            let second = try KeyPepper.load(databasePath: database, environment: [:])
            #expect(first == second && first.count >= 64)
            let path = dir + "/key-pepper"
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            chmod(path, 0o644)
            #expect { try KeyPepper.load(databasePath: database, environment: [:]) } throws: { "\($0)".contains("chmod 600") }
            // The environment wins, and must be long enough.
            #expect(try KeyPepper.load(databasePath: database, environment: [KeyPepper.environmentVariable: String(repeating: "p", count: 40)]) == Data(String(repeating: "p", count: 40).utf8))
            #expect(throws: HostError.self) { try KeyPepper.load(databasePath: database, environment: [KeyPepper.environmentVariable: "short"]) }
        }
    }
}
