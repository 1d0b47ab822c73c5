import Registry
import Foundation
import Logging
import Base
import Core
import Yams

/// The manifest and the registry it names, opened together: what every CLI command starts from.
public struct HostContext: Sendable {
    public let manifest: Manifest
    public let registry: RegistryDatabase
    /// The skills each caller is served, decided in the core.
    public var catalog: SkillCatalog { SkillCatalog(store: registry) }
    /// The sources with their derived status.
    public var directory: SourceDirectory { SourceDirectory(store: registry) }
    /// The event log (traces and what agents report).
    public var events: EventLog { EventLog(store: registry) }
    /// The processes on this registry, their bridged servers and the tool pins.
    public var hosts: HostDirectory { HostDirectory(store: registry, isRunning: ProcessIdentity.isRunning) }
    /// An approval desk for a one-shot command: answers, lists and revokes with this process's recorder.
    public func approvalDesk() -> ApprovalDesk {
        ApprovalDesk(registry: registry, recorder: TraceRecorder(registry: registry, logger: logger), logger: logger)
    }
    public let logger: Logger
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

    /// A PostgreSQL `host.database` is read and checked, but the host's state does not live there
    /// yet: say so plainly instead of creating a file named after the URL.
    static func refusePostgres(_ database: String) throws(HostError) {
        guard PostgresLocation.hasScheme(database) else { return }
        let shown = (try? PostgresLocation(url: database)).map { "\($0)" } ?? "a PostgreSQL URL"
        throw HostError(.registry, "host.database names a PostgreSQL database (\(shown)); hosts keep their state only in a SQLite file so far "
                        + "(the PostgreSQL backend is in progress: README, \"Several hosts on PostgreSQL\"): set host.database to a file path")
    }

    /// `host.database` and `host.http` read as plainly as they can be from a manifest that may not load
    /// (the defaults where they cannot be read).
    public static func lenientHostSettings(configPath: String) -> HostSettings {
        var settings = HostSettings()
        guard let data = try? ManifestLoader.read(configPath), let text = String(data: data, encoding: .utf8),
              let root = try? Yams.load(yaml: text) as? [String: Any], let host = root["host"] as? [String: Any] else { return settings }
        if let value = host["database"] as? String, !value.isEmpty, !value.contains("${") { settings.database = value }
        if let value = host["http"] as? String, !value.isEmpty { settings.http = value }
        return settings
    }

    /// A context for a host whose manifest did not load: an empty manifest (no sources, no tools,
    /// everything denied) with the `host` settings read leniently, and the registry they name. It
    /// serves until a reload brings a good one.
    public static func unloaded(configPath: String, logger: Logger,
                                environment: [String: String] = HostEnvironment.values) throws(HostError) -> HostContext {
        var manifest = Manifest()
        manifest.host = lenientHostSettings(configPath: configPath)
        let registry = try openRegistry(configPath: configPath, settings: manifest.host, logger: logger, access: .readWrite)
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
