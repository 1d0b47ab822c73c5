import Registry
import Foundation
import Logging
import Plugins

/// The tool side of a running host: the plugins the manifest enables, the policy engine, the
/// trace recorder and the router over them.
public struct ToolHost: Sendable {
    public let router: ToolRouter
    public let identity: CallerIdentity
    public let plugins: [any ToolPlugin]

    public init(manifest: Manifest, registry: RegistryDatabase, logger: Logger) throws(HostError) {
        let recorder = TraceRecorder(registry: registry, logger: logger)
        var plugins: [any ToolPlugin] = []
        let config = manifest.plugins
        if let file = config.file {
            var settings = FilePlugin.Settings(roots: file.roots.map(manifest.resolve))
            settings.maxBytes = file.maxBytes
            settings.allowHardLinks = file.allowHardLinks
            settings.hardLinkRoots = Set(file.hardLinkRoots.map(manifest.resolve))
            let plugin = FilePlugin(settings: settings)
            for problem in plugin.rootProblems { logger.warning("\(problem)", metadata: ["host.plugin": "file"]) }
            plugins.append(plugin)
        }
        if let memory = config.memory {
            var settings = MemoryPlugin.Settings()
            settings.relevanceWeight = memory.relevanceWeight
            settings.importanceWeight = memory.importanceWeight
            settings.recencyWeight = memory.recencyWeight
            settings.recencyHalfLife = memory.recencyHalfLife.seconds
            settings.maxTextBytes = memory.maxTextBytes
            plugins.append(MemoryPlugin(registry: registry, settings: settings))
        }
        if let export = config.export {
            plugins.append(ExportPlugin(registry: registry, maxLimit: export.maxLimit, flush: { await recorder.flush() }))
        }
        if config.skills != nil {
            plugins.append(SkillsPlugin(registry: registry))
        }
        let policy = PolicyEngine(manifest: manifest)
        var settings = ToolRouter.Settings()
        settings.timeout = .milliseconds(Int64(manifest.router.timeout.seconds * 1000))
        settings.maxConcurrent = manifest.router.maxConcurrent
        settings.maxTraceArgumentBytes = manifest.router.maxTraceArgumentBytes
        let skillPatterns = ManifestPermissions.skillPatterns(manifest)
        router = try ToolRouter(plugins: plugins, policy: policy, recorder: recorder, settings: settings, logger: logger) { caller in
            ManifestPermissions(policy: policy, caller: caller, skillPatterns: caller.role.map { skillPatterns[$0] ?? [] })
        }
        identity = CallerIdentity(manifest: manifest)
        self.plugins = plugins
    }
}

extension ToolHost {
    /// A host over an already built router (tests, and fronts that bring their own plugins).
    init(router: ToolRouter, identity: CallerIdentity, plugins: [any ToolPlugin]) {
        self.router = router
        self.identity = identity
        self.plugins = plugins
    }

    /// Starts the plugins that do background work (in manifest order).
    public func start() async throws {
        for plugin in plugins { if let p = plugin as? any ToolPluginLifecycle { try await p.start() } }
    }

    /// Stops them in reverse order and writes the traces still queued.
    public func stop() async {
        for plugin in plugins.reversed() { if let p = plugin as? any ToolPluginLifecycle { await p.stop() } }
        await router.recorder.flush()
    }
}

extension HostContext {
    /// The plugins, policy and router this context's manifest describes.
    public func tools() throws(HostError) -> ToolHost {
        try ToolHost(manifest: manifest, registry: registry, logger: logger)
    }
}
