/// Settings a running host reads once, at start (`ManifestKey.restartOnly`): a reload that changes
/// them applies everything else and says these wait for a restart (the registry it has open, the
/// address it listens on, the scheduler's knobs, the fronts' limits).
enum RestartOnlySettings {
    /// One sentence per changed setting, naming its key.
    static func changed(from old: Manifest, to new: Manifest) -> [String] {
        var keys: [String] = []
        // The database compares as the file it names (a relative path resolves against the manifest).
        if old.resolve(old.host.database) != new.resolve(new.host.database) { keys.append("host.database") }
        keys += ManifestKeys.host.restartOnlyChanges(old.host, new.host).filter { $0 != "host.database" }
        keys += ManifestKeys.sync.restartOnlyChanges(old.sync, new.sync)
        keys += ManifestKeys.router.restartOnlyChanges(old.router, new.router)
        keys += ManifestKeys.mcp.restartOnlyChanges(old.mcp, new.mcp)
        keys += ManifestKeys.http.restartOnlyChanges(old.http, new.http)
        return keys.map { "\($0) changed: it takes effect when the host restarts" }
    }
}
