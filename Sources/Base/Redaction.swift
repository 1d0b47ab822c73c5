/// Keeps secrets out of everything the host stores or prints: traces, logs, source status, sync
/// output and error messages. One function per kind of input, all built on `text(_:)`:
///
/// - `text`: free text with credentials inside it (URL user-info, `?access_token=…`, `password=…`,
///   bearer and basic credentials, well-known token formats, JWTs, PEM private keys);
/// - `url`: a repository URL as it is shown (user-info and secret query values hidden);
/// - `value`: JSON, where values under secret-looking keys are hidden as well;
/// - `isSecretKey`: whether a key (`api_key`, `ssh-key`, `X-Auth-Token`, `dsn`) names a secret.
public enum Redaction {
    /// What a hidden value becomes.
    public static let marker = "[redacted]"

    /// `text` with every credential in it replaced by `[redacted]` (or `***` for URL user-info).
    public static func text(_ text: String) -> String {
        guard text.utf8.count >= 6 else { return text }
        // One scan for the common case: no rule's trigger appears, so nothing is replaced.
        var scanned = text
        let rules = RedactionRules.all
        let any = scanned.withUTF8 { bytes in rules.indices.contains { rules[$0].applies(to: bytes) } }
        guard any else { return text }
        var out = text
        for rule in RedactionRules.all {
            var copy = out
            let applies = copy.withUTF8 { rule.applies(to: $0) }
            if applies { out = out.replacing(rule.pattern) { match in rule.replacement(match.output) } }
        }
        return out
    }

    /// A URL (or scp-style address) as it may be shown: user-info becomes `***`, and so do the
    /// values of secret-looking query parameters.
    public static func url(_ url: String) -> String { text(url) }

    /// `text` with each of `secrets` (longer than 3 characters) replaced by `***`, then `text(_:)`.
    public static func removing(_ secrets: [String], from text: String) -> String {
        let removed = secrets.filter { $0.count > 3 }.reduce(text) { $0.replacing($1, with: "***") }
        return Self.text(removed)
    }

    /// Whether `key` names a secret: it contains a word such as `token`, `password`, `secret`,
    /// `apikey`, `credential`, `cookie` or `passphrase`, or one of its words is exactly `auth`,
    /// `pass`, `pwd`, `jwt`, `dsn`, `otp`, `pin`, `sig` or `signature` (so `author` and `compass` are not).
    public static func isSecretKey(_ key: String) -> Bool {
        let ascii = key.utf8.allSatisfy { $0 < 0x80 }
        if ascii {
            // ASCII (nearly every key): a byte scan. Foundation's substring search cost 2 µs a
            // fragment, 150 µs for the four keys of one memory_write's trace.
            let normalized = key.utf8.compactMap { byte -> UInt8? in
                byte == 0x5F || byte == 0x2D || byte == 0x2E || byte == 0x20 ? nil : (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            }
            let found = normalized.withUnsafeBufferPointer { bytes in
                secretKeyFragmentBytes.contains { RedactionRule.find($0, in: bytes, folded: false) }
            }
            if found { return true }
        } else {
            // Other scripts lowercase to ASCII in places (the Kelvin sign to `k`): Unicode rules.
            let normalized = key.lowercased().filter { $0 != "_" && $0 != "-" && $0 != "." && $0 != " " }
            if secretKeyFragments.contains(where: { normalized.contains($0) }) { return true }
        }
        if ascii { return hasSecretWord(ascii: key) }
        return words(of: key).contains { secretKeyWords.contains($0) }
    }

    /// Key fragments (lowercased, without separators) that mark a secret wherever they appear.
    static let secretKeyFragments = ["token", "password", "passwd", "secret", "apikey", "authorization", "credential",
                                     "privatekey", "cookie", "accesskey", "bearer", "passphrase", "sshkey",
                                     "authkey", "sessionkey", "signingkey", "encryptionkey", "connectionstring"]
    static let secretKeyFragmentBytes = secretKeyFragments.map { Array($0.utf8) }
    /// Words that mark a secret only as a whole word of the key.
    static let secretKeyWords: Set<String> = ["auth", "pass", "pwd", "jwt", "dsn", "otp", "pin", "sig", "signature",
                                              "cred", "creds", "mfa", "totp"]

    static let secretKeyWordBytes = secretKeyWords.map { Array($0.utf8) }

    /// `words(of:)` for an ASCII key, over its bytes: whether one of its words is a secret word.
    static func hasSecretWord(ascii key: String) -> Bool {
        var word: [UInt8] = []
        word.reserveCapacity(16)
        var previousLower = false
        func ends() -> Bool {
            defer { word.removeAll(keepingCapacity: true) }
            return !word.isEmpty && secretKeyWordBytes.contains(word)
        }
        for byte in key.utf8 {
            switch byte {
            case 0x5F, 0x2D, 0x2E, 0x20, 0x2F, 0x3A:   // _ - . space / :
                if ends() { return true }
                previousLower = false
                continue
            case 0x41...0x5A:   // A-Z
                if previousLower, ends() { return true }
                word.append(byte | 0x20)
                previousLower = false
            default:
                word.append(byte)
                previousLower = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            }
        }
        return ends()
    }

    /// `aB_c-dEf.g` → `a b c d ef g`: split at separators and lower-to-upper case changes.
    static func words(of key: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for ch in key {
            if ch == "_" || ch == "-" || ch == "." || ch == " " || ch == "/" || ch == ":" {
                if !current.isEmpty { words.append(current.lowercased()) }
                current = ""
                previousLower = false
                continue
            }
            if ch.isUppercase, previousLower, !current.isEmpty {
                words.append(current.lowercased())
                current = ""
            }
            current.append(ch)
            previousLower = ch.isLowercase || ch.isNumber
        }
        if !current.isEmpty { words.append(current.lowercased()) }
        return words
    }

    /// JSON with values under secret keys and credentials inside strings hidden. Strings longer than
    /// `maxStringBytes` are replaced by their size (they would be cut anyway, and scanning them is not free).
    public static func value(_ value: JSONValue, maxStringBytes: Int = 64 * 1024) -> JSONValue {
        switch value {
        case .object(let object):
            var out: [String: JSONValue] = [:]
            for (key, child) in object {
                let safeKey = key.utf8.count > 256 ? key.utf8Prefix(256) + "…" : key
                out[safeKey] = isSecretKey(key) ? .string(marker) : Self.value(child, maxStringBytes: maxStringBytes)
            }
            return .object(out)
        case .array(let items):
            return .array(items.map { Self.value($0, maxStringBytes: maxStringBytes) })
        case .string(let s):
            if s.utf8.count > maxStringBytes { return .string("[\(s.utf8.count) bytes]") }
            return .string(text(s))
        default:
            return value
        }
    }
}
