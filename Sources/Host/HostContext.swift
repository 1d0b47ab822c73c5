import Registry
import Foundation
import Logging

/// The manifest and the registry it names, opened together: what every CLI command starts from.
public struct HostContext: Sendable {
    public let manifest: Manifest
    public let registry: RegistryDatabase
    public let logger: Logger
    /// The environment `token_env` variables are read from (and `AGENTHUB_BINARY`, the fetch worker).
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    /// Loads the manifest at `configPath`, opens its registry database and registers its sources.
    /// `access: .readOnly` (commands that only read) opens the registry without taking its write
    /// lock and leaves the declared sources as they are.
    public static func open(configPath: String, logger: Logger, access: RegistryDatabase.Access = .readWrite,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(HostError) -> HostContext {
        let manifest = try ManifestLoader.load(path: configPath, environment: environment)
        for warning in manifest.warnings { logger.warning("\(warning)") }
        let databasePath = manifest.resolve(manifest.host.database)
        let registry: RegistryDatabase
        do { registry = try RegistryDatabase(path: databasePath, access: access, logger: logger) } catch {
            throw HostError(.registry, error.message)
        }
        let context = HostContext(manifest: manifest, registry: registry, logger: logger, environment: environment)
        if !registry.isReadOnly { try context.syncer.declareSources() }
        return context
    }

    public var syncer: SourceSyncer {
        SourceSyncer(manifest: manifest, registry: registry, logger: logger, supervisor: .current(environment: environment), environment: environment)
    }
}
