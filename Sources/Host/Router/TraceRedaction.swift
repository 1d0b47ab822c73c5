import Registry

/// Makes arguments safe to store in a trace: values under keys that look secret, and strings that
/// look like credentials, are replaced; what is left is cut to a size cap.
public enum TraceRedaction {
    static let marker: JSONValue = "[redacted]"
    /// Key fragments (lowercased, without `_` and `-`) that mark a secret value.
    static let secretKeyFragments = ["token", "password", "passwd", "secret", "apikey", "authorization", "credential",
                                     "privatekey", "cookie", "accesskey", "bearer", "clientsecret", "passphrase"]
    /// Prefixes of well-known credential formats.
    static let secretValuePrefixes = ["Bearer ", "Basic ", "ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "sk-", "xoxb-", "xoxp-", "AKIA"]

    public static func isSecretKey(_ key: String) -> Bool {
        let normalized = key.lowercased().filter { $0 != "_" && $0 != "-" }
        return secretKeyFragments.contains { normalized.contains($0) }
    }

    public static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var out: [String: JSONValue] = [:]
            for (key, child) in object { out[key] = isSecretKey(key) ? marker : redact(child) }
            return .object(out)
        case .array(let items):
            return .array(items.map(redact))
        case .string(let s) where secretValuePrefixes.contains(where: { s.hasPrefix($0) && s.count > $0.count + 8 }):
            return marker
        default:
            return value
        }
    }

    /// The redacted value, or a preview of its JSON when that is longer than `maxBytes`.
    public static func forTrace(_ value: JSONValue, maxBytes: Int) -> JSONValue {
        let redacted = redact(value)
        guard redacted.jsonByteCount > maxBytes else { return redacted }
        let text = redacted.jsonText
        var preview = Substring(text).utf8.prefix(maxBytes)
        while !preview.isEmpty, String(preview) == nil { preview = preview.dropLast() }
        return ["truncated": true, "bytes": .int(text.utf8.count), "preview": .string(String(preview) ?? "")]
    }
}
