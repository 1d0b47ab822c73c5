import Foundation
import TestSupport

/// A browser without a browser: a cookie jar over `http()`, for the console's server-side behaviour
/// (cookies, CSRF, 403s, pages without JavaScript). The real browser runs in ConsoleBrowserTests.
struct ConsoleClient {
    let port: Int
    var cookies: [String: String] = [:]
    /// The CSRF token of the last page that carried one.
    var csrf: String?

    init(port: Int) { self.port = port }

    var cookieHeader: [String: String] {
        cookies.isEmpty ? [:] : ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")]
    }

    /// Every `Set-Cookie` of an answer, by name: (value, attributes as written).
    static func setCookies(_ answer: HTTPAnswer) -> [String: (value: String, attributes: String)] {
        var out: [String: (String, String)] = [:]
        for line in (answer.headers["set-cookie"] ?? "").split(separator: "\n") {
            let pair = line.split(separator: ";", maxSplits: 1)
            let nameValue = pair[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard nameValue.count == 2 else { continue }
            out[String(nameValue[0]).trimmingCharacters(in: .whitespaces)] = (String(nameValue[1]), pair.count > 1 ? String(pair[1]) : "")
        }
        return out
    }

    mutating func remember(_ answer: HTTPAnswer) {
        for (name, cookie) in Self.setCookies(answer) {
            if cookie.attributes.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = cookie.value }
        }
        if let token = Self.firstMatch(#"name="csrf" value="([^"]+)""#, in: answer.body) { csrf = token }
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), match.numberOfRanges > 1,
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return String(text[range])
    }

    mutating func get(_ path: String, headers: [String: String] = [:]) async -> HTTPAnswer {
        let answer = await http(port, "GET", path, headers: cookieHeader.merging(headers) { $1 }) ?? HTTPAnswer(status: 0, headers: [:], body: "no answer")
        remember(answer)
        return answer
    }

    /// Reads `path` again (every 100 ms, up to 10 s) until its page satisfies `shows`; the last answer.
    mutating func get(_ path: String, until shows: (String) -> Bool) async -> HTTPAnswer {
        var answer = await get(path)
        for _ in 0..<100 where !shows(answer.body) {
            try? await Task.sleep(for: .milliseconds(100))
            answer = await get(path)
        }
        return answer
    }

    /// Posts a form; the page's CSRF token is added unless `csrf` says otherwise ("" sends none).
    mutating func post(_ path: String, _ fields: [String: String] = [:], csrf: String? = nil, headers: [String: String] = [:]) async -> HTTPAnswer {
        var fields = fields
        let token = csrf ?? self.csrf ?? ""
        if !token.isEmpty { fields["csrf"] = token }
        let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.sorted().joined(separator: "&")
        var all = cookieHeader.merging(headers) { $1 }
        all["Content-Type"] = "application/x-www-form-urlencoded"
        let answer = await http(port, "POST", path, headers: all, body: body) ?? HTTPAnswer(status: 0, headers: [:], body: "no answer")
        remember(answer)
        return answer
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Signs in with `key` as a browser would: the sign-in page (its cookie and token), then the form.
    mutating func signIn(_ key: String, next: String = "/", headers: [String: String] = [:]) async -> HTTPAnswer {
        _ = await get("/login")
        return await post("/login", ["key": key, "next": next], headers: headers)
    }
}
