import Base
import CShims
import Foundation

/// What every `agenthub` process does first: it becomes non-dumpable, so another process of the
/// same user (a bridged server, a skill's script) cannot read its memory or `/proc/PID/environ`
/// nor attach a debugger; and it scrubs secrets from its live environment once `HostEnvironment`
/// holds them. What a same-user process can still do is in the README ("What the host protects").
public enum ProcessHardening {
    /// Non-dumpable, and every secret-looking variable scrubbed (`HostEnvironment.isSecretName`).
    public static func harden() {
        _ = agenthub_set_undumpable()
        // Tests (and supervisors that want it) ask that this process never outlive its parent process.
        if HostEnvironment.values["AGENTHUB_DIE_WITH_PARENT"] == "1", agenthub_die_with_parent_process() != 0 { exit(1) }
        scrub(HostEnvironment.values.keys.filter(HostEnvironment.isSecretName))
    }

    /// Scrubs the variables a manifest names as secrets (`agents.NAME.key_env`, `sources[].token_env`,
    /// `host.secret_key_env`, a remote server's `oauth.client_secret_env`),
    /// whatever they are called.
    public static func scrub(secretsOf manifest: Manifest) {
        scrub(manifest.agents.compactMap(\.keyEnv) + manifest.sources.compactMap(\.tokenEnv) + [manifest.host.secretKeyEnv]
              + (manifest.plugins.mcp?.servers.compactMap { $0.remote?.oauth?.clientSecretEnv } ?? []))
    }

    static func scrub(_ names: some Sequence<String>) {
        _ = HostEnvironment.values
        for name in names where getenv(name) != nil { agenthub_scrub_env(name) }
    }
}
