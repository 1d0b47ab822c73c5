import Crypto
import Foundation

/// Reads an OpenSSH known_hosts file: plain (`host,alias keytype base64`), bracketed ports
/// (`[host]:2222`) and hashed (`|1|salt|hash`) host fields.
enum KnownHosts {
    enum Verdict { case match, mismatch, unknown }

    static func check(host: String, key: Data, file: String) -> Verdict {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return .unknown }
        let (name, port) = split(host)
        let patterns = port == nil ? [name] : ["[\(name)]:\(port!)"]
        var sawHost = false
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, !fields[0].hasPrefix("#"), !fields[0].hasPrefix("@") else { continue }
            guard hostField(fields[0], matchesAnyOf: patterns) else { continue }
            sawHost = true
            if let blob = Data(base64Encoded: String(fields[2])), blob == key { return .match }
        }
        return sawHost ? .mismatch : .unknown
    }

    static func split(_ host: String) -> (String, String?) {
        guard let colon = host.lastIndex(of: ":"), !host.hasPrefix("[") else { return (host, nil) }
        let port = String(host[host.index(after: colon)...])
        return (String(host[..<colon]), port == "22" ? nil : port)
    }

    static func hostField(_ field: Substring, matchesAnyOf patterns: [String]) -> Bool {
        if field.hasPrefix("|1|") {
            let parts = field.split(separator: "|")
            guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else { return false }
            let key = SymmetricKey(data: salt)
            return patterns.contains { Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data($0.utf8), using: key)) == hash }
        }
        return field.split(separator: ",").contains { patterns.contains(String($0)) }
    }
}
