import Crypto
import Core
import Foundation
import Registry

/// API keys: made, listed and revoked by `agenthub keys`, checked by the HTTP front on every request.
///
/// A key is `ah_` and 43 base62 characters (256 bits). The registry keeps only its HMAC-SHA-256 under
/// the pepper, so checking a key is one hash and one indexed lookup, never a scan (and, for a key
/// checked in the last seconds, one `stat` of the stamp `keys` commands rewrite: see `KeyCache`). A key stands for
/// an agent declared in `agents:`; its role, group and `admin` flag come from the manifest as it is
/// now, so a reload that changes them changes what the key may do at once.
public struct APIKeys: Sendable {
    public static let prefix = "ah_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Where the keys' hashes are kept (the SQLite registry, or PostgreSQL).
    let ledger: any KeyLedger
    let pepper: Data
    let cache: KeyCache
    /// HMAC keyed with the pepper once: keying it (two SHA-256 blocks) was a third of every check.
    private let keyed: KeyedHash

    public init(ledger: any KeyLedger, pepper: Data) {
        self.ledger = ledger
        self.pepper = pepper
        keyed = KeyedHash(hmac: HMAC<SHA256>(key: SymmetricKey(data: pepper)))
        cache = KeyCache(feed: ledger.changes)
    }

    public init(registry: RegistryDatabase, pepper: Data) {
        self.init(ledger: registry, pepper: pepper)
    }

    /// The keys of the registry `context` opens, with the pepper next to it (or from the environment).
    public init(context: HostContext) throws(HostError) {
        self.init(ledger: context.registry, pepper: try KeyPepper.load(folder: context.registry.pepperFolder, place: context.registry.place,
                                                                       environment: context.environment))
    }

    /// The keyed hash of a presented key.
    public func hash(_ key: String) -> Data {
        var hmac = keyed.hmac
        var key = key
        key.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        return Data(hmac.finalize())
    }

    /// Makes a key for `agent` (declared in `manifest`), stores its hash and returns the key: the only
    /// time it is ever shown.
    public func create(agent: String, manifest: Manifest, label: String?, expiresIn: TimeInterval?,
                       now: Date = Date()) async throws(HostError) -> (key: String, record: APIKeyRecord) {
        guard manifest.agents.contains(where: { $0.name == agent }) else {
            let names = manifest.agents.map(\.name)
            let hint = Suggestion.closest(to: agent, in: names).map { "; did you mean '\($0)'?" } ?? ""
            throw HostError(.keys, "agent '\(agent)' is not declared in agents: of \(manifest.file)\(hint) (a key stands for a declared agent: its role, group and admin flag come from there; declared: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        if let label, label.utf8.count > 200 || label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw HostError(.keys, "--label must be at most 200 characters with no control characters")
        }
        let key = Self.newKey()
        let id = "key_" + Self.random(count: 12)
        let record = APIKeyRecord(id: id, agent: agent, label: label, hint: String(key.prefix(Self.prefix.count + 6)) + "…",
                                  createdAt: now, expiresAt: expiresIn.map { now.addingTimeInterval($0) })
        do { try await ledger.storeKey(record, hash: hash(key)) } catch { throw HostError(.keys, error.message) }
        return (key, record)
    }

    public func list(agent: String? = nil) async throws(HostError) -> [APIKeyRecord] {
        do { return try await ledger.keys(agent: agent) } catch { throw HostError(.keys, error.message) }
    }

    /// Revokes a key by its id or hint; a running host refuses it from its next request.
    public func revoke(_ idOrHint: String) async throws(HostError) -> APIKeyRecord {
        let record: APIKeyRecord?
        do { record = try await ledger.revokeKey(idOrHint) } catch { throw HostError(.keys, error.message) }
        guard let record else { throw HostError(.keys, "no API key '\(idOrHint)' (agenthub keys list shows their ids)") }
        return record
    }

    /// Who a presented key stands for: the stored key's agent, or an `agents.NAME.key_env` key's.
    public enum Verdict: Sendable, Equatable {
        case agent(String, keyId: String)
        case refused(String)
        /// The registry could not be asked: neither accepted nor refused (try again).
        case unavailable(String)
    }

    /// Checks a presented key. `environmentKeys` maps the hashes of `key_env` keys to their agents.
    public func check(_ key: String, environmentKeys: [Data: String], now: Date = Date()) async -> Verdict {
        guard key.hasPrefix(Self.prefix) || !environmentKeys.isEmpty, key.utf8.count <= 512 else { return .refused("the key is not valid") }
        let digest = hash(key)
        // Only a key_env key may lack the prefix; anything else without it is not looked up.
        guard key.hasPrefix(Self.prefix) || environmentKeys[digest] != nil else { return .refused("the key is not valid") }
        return await check(hash: digest, environmentKeys: environmentKeys, now: now)
    }

    /// Checks a key by its hash (what a console session keeps of the key it signed in with).
    public func check(hash digest: Data, environmentKeys: [Data: String], now: Date = Date()) async -> Verdict {
        if let agent = environmentKeys[digest] { return .agent(agent, keyId: "env") }
        var record = cache.lookup(digest)
        if record == nil {
            // Fail closed, and say it is the registry: a key is not taken on trust while no revocation can be read.
            do { record = try await ledger.key(hash: digest) } catch { return .unavailable("the key could not be checked: the registry cannot be read now (\(error.code.rawValue)); try again") }
            if let record { cache.store(digest, record) }
        }
        guard let record else { return .refused("the key is not valid") }
        switch record.status(at: now) {
        case "revoked": return .refused("the key was revoked")
        case "expired": return .refused("the key expired")
        default: return .agent(record.agent, keyId: record.id)
        }
    }

    /// The hashes of the keys `agents.NAME.key_env` name, from `environment` (unset ones are skipped).
    public func environmentKeys(_ manifest: Manifest, environment: [String: String]) -> [Data: String] {
        var keys: [Data: String] = [:]
        for agent in manifest.agents {
            guard let variable = agent.keyEnv, let value = environment[variable], !value.isEmpty else { continue }
            keys[hash(value)] = agent.name
        }
        return keys
    }

    static func newKey() -> String { prefix + random(count: 43) }

    /// `count` base62 characters from the system's CSPRNG (rejection sampling: no bias).
    static func random(count: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var generator = SystemRandomNumberGenerator()
        while out.count < count {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { out.append(alphabet[Int(byte % 62)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The pepper-keyed HMAC state, copied for each hash. Sendable, unchecked: `HMAC` is a value (its
/// hash states are structs) that Crypto does not mark; it is only ever copied, never shared mutably.
private struct KeyedHash: @unchecked Sendable {
    let hmac: HMAC<SHA256>
}
