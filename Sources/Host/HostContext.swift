import Registry
import RegistryPostgres
import Foundation
import Logging
import Base
import Core
import Plugins
import Yams

/// The manifest and the registry it names, opened together: what every CLI command starts from.
public struct HostContext: Sendable {
    public let manifest: Manifest
    /// The registry the manifest names: the SQLite file, or PostgreSQL.
    public let registry: any RegistryStore
    /// The skills each caller is served, decided in the core.
    public var catalog: SkillCatalog { SkillCatalog(store: registry) }
    /// The sources with their derived status.
    public var directory: SourceDirectory { SourceDirectory(store: registry) }
    /// The event log (traces and what agents report).
    public var events: EventLog { EventLog(store: registry) }
    /// The processes on this registry, their bridged servers and the tool pins.
    public var hosts: HostDirectory { HostDirectory(registry: registry) }
    /// An approval desk for a one-shot command: answers, lists and revokes with this process's recorder.
    public func approvalDesk() -> ApprovalDesk {
        ApprovalDesk(ledger: registry, recorder: TraceRecorder(sink: registry, logger: logger), logger: logger)
    }
    public let logger: Logger
    /// The OAuth logins of remote bridged servers, sealed with the host's secret key.
    public func bridgeCredentials() throws(HostError) -> BridgeCredentials {
        guard let ledger = registry.pins, !ledger.isReadOnly else { throw HostError(.registry, "the registry is open only to read; logins cannot be stored") }
        return BridgeCredentials(ledger: ledger, sealer: CredentialSealer(secret: try HostSecret.load(manifest, environment: environment)))
    }
    /// The manifest's revision: the first 12 hex digits of the SHA-256 of the bytes it was read from.
    public var revision = ""
    /// The environment `token_env` variables are read from (and `AGENTHUB_BINARY`, the fetch worker).
    public var environment: [String: String] = HostEnvironment.values

    /// Loads the manifest at `configPath`, opens its registry database and registers its sources.
    /// `access: .readOnly` (commands that only read) opens the registry without taking its write
    /// lock and leaves the declared sources as they are.
    public static func open(configPath: String, logger: Logger, access: RegistryDatabase.Access = .readWrite,
                            environment: [String: String] = HostEnvironment.values) throws(HostError) -> HostContext {
        let (manifest, revision) = try ManifestLoader.loadWithRevision(path: configPath, environment: environment)
        return try open(manifest, revision: revision, logger: logger, access: access, environment: environment)
    }

    /// The SQLite side of `open` and `connect`, over a manifest already loaded.
    static func open(_ manifest: Manifest, revision: String, logger: Logger, access: RegistryDatabase.Access,
                     environment: [String: String]) throws(HostError) -> HostContext {
        for warning in manifest.warnings { logger.warning("\(warning.located)") }
        try refusePostgres(manifest.host.database)
        let databasePath = manifest.resolve(manifest.host.database)
        let registry: RegistryDatabase
        do { registry = try RegistryDatabase(path: databasePath, access: access, logger: logger) } catch {
            throw HostError(.registry, error.message)
        }
        var context = HostContext(manifest: manifest, registry: registry, logger: logger, environment: environment)
        context.revision = revision
        if !registry.isReadOnly { try context.syncer.declareSources() }
        return context
    }

    /// Loads the manifest at `configPath` and opens the registry it names, SQLite or PostgreSQL (the
    /// commands' way in: `open` takes only a SQLite file, for callers that cannot wait), and
    /// registers its sources.
    public static func connect(configPath: String, logger: Logger, access: RegistryDatabase.Access = .readWrite,
                               environment: [String: String] = HostEnvironment.values) async throws(HostError) -> HostContext {
        let (manifest, revision) = try ManifestLoader.loadWithRevision(path: configPath, environment: environment)
        guard PostgresLocation.hasScheme(manifest.host.database) else {
            return try open(manifest, revision: revision, logger: logger, access: access, environment: environment)
        }
        for warning in manifest.warnings { logger.warning("\(warning.located)") }
        let registry = try await openPostgres(manifest.host.database, logger: logger)
        var context = HostContext(manifest: manifest, registry: registry, logger: logger, environment: environment)
        context.revision = revision
        let syncer = context.syncer
        let declared: HostError? = await onThread {
            do throws(HostError) { try syncer.declareSources(); return nil } catch { return error }
        }
        if let declared { throw declared }
        return context
    }

    /// The registry `host.database` names, SQLite or PostgreSQL, even when the manifest has problems.
    public static func connectRegistry(configPath: String, logger: Logger, access: RegistryDatabase.Access) async throws(HostError) -> any RegistryStore {
        let settings = lenientHostSettings(configPath: configPath, expanding: true)
        if PostgresLocation.hasScheme(settings.database) { return try await openPostgres(settings.database, logger: logger) }
        return try openRegistry(configPath: configPath, settings: settings, logger: logger, access: access)
    }

    static func openPostgres(_ database: String, logger: Logger) async throws(HostError) -> PostgresRegistry {
        let location: RegistryLocation
        do { location = try RegistryLocation.parse(database) } catch { throw HostError(.registry, "host.database: \(error.message)") }
        guard case .postgres(let postgres) = location else { throw HostError(.registry, "host.database is not a PostgreSQL URL") }
        do { return try await PostgresRegistry.open(postgres, logger: logger) } catch { throw HostError(.registry, error.message) }
    }

    /// Opens the registry a manifest names even when the manifest has problems (what `agenthub
    /// reload` and `status` need: the hosts to report on run on the last good one).
    public static func openRegistry(configPath: String, logger: Logger, access: RegistryDatabase.Access) throws(HostError) -> RegistryDatabase {
        try openRegistry(configPath: configPath, settings: lenientHostSettings(configPath: configPath), logger: logger, access: access)
    }

    static func openRegistry(configPath: String, settings: HostSettings, logger: Logger,
                             access: RegistryDatabase.Access) throws(HostError) -> RegistryDatabase {
        try refusePostgres(settings.database)
        let path = PathText.resolve(settings.database, against: PathText.folder(of: configPath), home: HostEnvironment.values["HOME"])
        do { return try RegistryDatabase(path: path, access: access, logger: logger) } catch { throw HostError(.registry, error.message) }
    }

    /// A PostgreSQL `host.database` is opened by `connect` (it awaits the server); every command goes
    /// through it. The synchronous openers (tests, benches) say so instead of creating a file named
    /// after the URL.
    static func refusePostgres(_ database: String) throws(HostError) {
        guard PostgresLocation.hasScheme(database) else { return }
        let shown = (try? PostgresLocation(url: database)).map { "\($0)" } ?? "a PostgreSQL URL"
        throw HostError(.registry, "host.database names a PostgreSQL database (\(shown)), which this caller cannot open (HostContext.connect opens it)")
    }

    /// `host.database` and `host.http` read as plainly as they can be from a manifest that may not load
    /// (the defaults where they cannot be read).
    /// `expanding`: `${VAR}` in `host.database` is read from the environment (a PostgreSQL password).
    public static func lenientHostSettings(configPath: String, expanding: Bool = false) -> HostSettings {
        var settings = HostSettings()
        guard let data = try? ManifestLoader.read(configPath), let text = String(data: data, encoding: .utf8),
              let root = try? Yams.load(yaml: text) as? [String: Any], let host = root["host"] as? [String: Any] else { return settings }
        if let value = host["database"] as? String, !value.isEmpty {
            if !value.contains("${") {
                settings.database = value
            } else if expanding, let expanded = try? CommandLineExpansion.expand(value, what: "host.database") {
                settings.database = expanded
            }
        }
        if let value = host["http"] as? String, !value.isEmpty { settings.http = value }
        return settings
    }

    /// A context for a host whose manifest did not load: an empty manifest (no sources, no tools,
    /// everything denied) with the `host` settings read leniently, and the registry they name. It
    /// serves until a reload brings a good one.
    public static func unloaded(configPath: String, logger: Logger,
                                environment: [String: String] = HostEnvironment.values) async throws(HostError) -> HostContext {
        var manifest = Manifest()
        manifest.host = lenientHostSettings(configPath: configPath, expanding: true)
        let registry = try await connectRegistry(configPath: configPath, logger: logger, access: .readWrite)
        manifest.file = configPath
        manifest.directory = PathText.folder(of: configPath)
        var context = HostContext(manifest: manifest, registry: registry, logger: logger, environment: environment)
        context.revision = "none"
        return context
    }

    public var syncer: SourceSyncer {
        SourceSyncer(manifest: manifest, registry: registry, logger: logger, supervisor: .current(environment: environment), environment: environment)
    }
}
