/// Settings a running host reads once, at start: a reload that changes them applies everything else
/// and says these wait for a restart (the registry it has open, the address it listens on, the
/// scheduler's knobs, the stdio front's limits).
enum RestartOnlySettings {
    /// One sentence per changed setting, naming its key.
    static func changed(from old: Manifest, to new: Manifest) -> [String] {
        var keys: [String] = []
        if old.resolve(old.host.database) != new.resolve(new.host.database) { keys.append("host.database") }
        if old.host.http != new.host.http { keys.append("host.http") }
        if old.sync.maxConcurrent != new.sync.maxConcurrent { keys.append("sync.max_concurrent") }
        if old.sync.jitter != new.sync.jitter { keys.append("sync.jitter") }
        if old.sync.backoff.seconds != new.sync.backoff.seconds { keys.append("sync.backoff") }
        if old.sync.maxBackoff.seconds != new.sync.maxBackoff.seconds { keys.append("sync.max_backoff") }
        if old.mcp.maxMessageBytes != new.mcp.maxMessageBytes { keys.append("mcp.max_message_bytes") }
        if old.http.idleTimeout.seconds != new.http.idleTimeout.seconds { keys.append("http.idle_timeout") }
        if old.mcp.pageSize != new.mcp.pageSize { keys.append("mcp.page_size") }
        return keys.map { "\($0) changed: it takes effect when the host restarts" }
    }
}
