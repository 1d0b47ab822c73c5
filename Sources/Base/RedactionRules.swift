/// The patterns `Redaction.text` hides, each with a cheap literal check that skips the regex when
/// the text cannot contain a match (the check runs on every traced string).
/// Sendable, unchecked: it holds an `NSRegularExpression`, which is immutable once built and
/// safe to match from any thread, but is not marked Sendable by Foundation.
struct RedactionRule: @unchecked Sendable {
    let pattern: Regex<AnyRegexOutput>
    /// Literals (ASCII) one of which must appear, case-insensitively when `folded`, for the rule to run.
    let triggers: [[UInt8]]
    let folded: Bool
    let replacement: (AnyRegexOutput) -> String

    init(pattern: Regex<AnyRegexOutput>, triggers: [String], folded: Bool, replacement: @escaping (AnyRegexOutput) -> String) {
        self.pattern = pattern
        self.triggers = triggers.map { Array((folded ? $0.lowercased() : $0).utf8) }
        self.folded = folded
        self.replacement = replacement
    }

    /// A byte scan, no allocation: most strings match no trigger and never meet a regex.
    func applies(to bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        triggers.contains { Self.find($0, in: bytes, folded: folded) }
    }

    static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, folded: Bool) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        let last = haystack.count - needle.count
        var i = 0
        while i <= last {
            var byte = haystack[i]
            if folded, byte >= 0x41, byte <= 0x5A { byte |= 0x20 }
            if byte == first {
                var j = 1
                while j < needle.count {
                    var b = haystack[i + j]
                    if folded, b >= 0x41, b <= 0x5A { b |= 0x20 }
                    if b != needle[j] { break }
                    j += 1
                }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}

enum RedactionRules {
    /// Keeps capture `n` (a prefix such as the key or scheme) and hides the rest of the match.
    static func keep(_ n: Int, _ hidden: String = Redaction.marker) -> (AnyRegexOutput) -> String {
        { output in (output[n].substring.map(String.init) ?? "") + hidden }
    }
    static func hide(_ output: AnyRegexOutput) -> String { Redaction.marker }

    static func rule(_ pattern: String, _ triggers: [String], folded: Bool = false,
                     _ replacement: @escaping (AnyRegexOutput) -> String = hide) -> RedactionRule {
        // The patterns are constants checked by the test suite.
        RedactionRule(pattern: try! Regex(pattern), triggers: triggers, folded: folded, replacement: replacement)
    }

    static let secretWords = "(?:[a-z0-9_]*(?:token|passw(?:or)?d|secret|api[_-]?key|apikey|credential|private[_-]?key|client[_-]?secret|signature)[a-z0-9_]*|pwd|pass|auth|jwt|otp|sig|key)"

    static let all: [RedactionRule] = [
        // PEM private keys, whole block (or to the end when cut).
        rule(#"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"#, ["PRIVATE KEY"]),
        // URL user-info, with a scheme or scheme-relative: https://user:pass@host, //token@host.
        rule(#"((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)[^/\s@"'<>]+@"#, ["@"], keep(1, "***@")),
        // scp form with a password: user:pass@host:repo.git
        rule(#"(^|[\s"'=(,<])[A-Za-z0-9._~-]+:[^\s@/:"']+@(?=[A-Za-z0-9.-]+:)"#, ["@"], keep(1, "***@")),
        // Authorization schemes.
        rule(#"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{6,}"#, ["bearer"], folded: true, keep(1)),
        rule(#"(\bBasic\s+)[A-Za-z0-9+/]{8,}={0,2}"#, ["Basic"], keep(1)),
        // Well-known token formats.
        rule(#"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,})"#, ["gh", "github_pat_", "glpat-"]),
        rule(#"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}"#, ["_live_", "_test_"]),
        rule(#"\bsk-[A-Za-z0-9_-]{16,}"#, ["sk-"]),
        rule(#"\bxox[abposre]-[A-Za-z0-9-]{8,}"#, ["xox"]),
        rule(#"\bAIza[0-9A-Za-z_-]{30,}"#, ["AIza"]),
        rule(#"\bnpm_[A-Za-z0-9]{30,}"#, ["npm_"]),
        // AgentHub's own API keys: `ah_` and 43 base62 characters (a cut one too, from 16).
        rule(#"\bah_[A-Za-z0-9]{16,}"#, ["ah_"]),
        rule(#"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"#, ["AKIA", "ASIA"]),
        rule(#"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"#, ["eyJ"]),
        // key=value and key: value with a secret-looking key (query strings, DSNs, env lines, JSON text).
        rule(#"(?i)(\b"# + secretWords + #"["']?\s*[=:]\s*["']?)(?!\[redacted\])[^\s&"',;}\]]{3,}"#,
             ["token", "pass", "pwd", "secret", "key", "credential", "signature", "auth", "jwt", "otp", "sig"], folded: true, keep(1)),
    ]
}
