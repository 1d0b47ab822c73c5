import Core
import Foundation
import Hummingbird
import Mustache

/// The console's pages: Mustache templates parsed once, rendered into the layout with the signed-in
/// agent's navigation (what its key may not use is not shown). Every value is HTML-escaped by Mustache;
/// only the rendered page body and sanitised Markdown are inserted raw (`{{{…}}}`).
struct ConsoleView: Sendable {
    let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            do { try library.register(text, named: name) } catch {
                preconditionFailure("console template '\(name)' does not parse: \(error)")  // a build defect, caught by every console test
            }
        }
        self.library = library
    }

    /// The console's sections, in navigation order; `admin` ones are shown to admins only.
    static let sections: [(path: String, label: String, admin: Bool)] = [
        ("/", "Overview", false), ("/skills", "Skills", false), ("/sources", "Sources", false), ("/tools", "Tools", false),
        ("/events", "Events", false), ("/approvals", "Approvals", false), ("/tasks", "Tasks", false),
        ("/keys", "Keys", true),
    ]

    /// A whole page: `template` rendered with `data`, inside the layout.
    func page(_ template: String, title: String, section: String, data: [String: Any], who: ConsoleViewer,
              status: HTTPResponse.Status = .ok, refresh: Int? = nil, flash: ConsoleFlash? = nil) -> Response {
        var data = data
        data["csrf"] = who.csrf  // every form of every page carries the session's token
        let body = library.render(data, withTemplate: template) ?? ""
        var nav: [[String: Any]] = []
        for s in Self.sections where !s.admin || who.admin {
            var item: [String: Any] = ["href": s.path, "label": s.label, "current": s.path == section]
            if s.path == "/approvals", who.pending > 0 { item["badge"] = who.pending }
            nav.append(item)
        }
        var layout: [String: Any] = [
            "title": title, "page": template, "body": body, "nav": nav, "agent": who.agent, "role": who.role,
            "admin": who.admin, "csrf": who.csrf,
        ]
        if let refresh { layout["refresh"] = refresh }
        if let flash { layout["flash"] = ["text": flash.text, "kind": flash.kind] }
        return Self.html(library.render(layout, withTemplate: "layout") ?? "", status: status)
    }

    /// A page outside the layout (sign-in, errors before sign-in).
    func bare(_ template: String, data: [String: Any], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var response = Self.html(library.render(data, withTemplate: template) ?? "", status: status)
        for field in headers { response.headers.append(field) }
        return response
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// Who the page is for: what the layout needs to draw the navigation and the sign-out form.
struct ConsoleViewer: Sendable {
    let agent: String
    let role: String
    let admin: Bool
    let csrf: String
    var pending: Int
}

/// A one-line message at the top of a page (the outcome of the form just sent).
struct ConsoleFlash: Sendable {
    let text: String
    let kind: String  // "ok" or "error"
    static func ok(_ text: String) -> ConsoleFlash { ConsoleFlash(text: text, kind: "ok") }
    static func error(_ text: String) -> ConsoleFlash { ConsoleFlash(text: text, kind: "error") }
}

/// The console's one error: a status and a sentence, shown as a page (the API's errors are JSON).
struct ConsoleError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    static let view = ConsoleView()

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A core service's answer: not found is 404, a bad request 400, forbidden 403, a conflict 409,
    /// the store failing 500, a host that cannot 503.
    init(_ error: CoreError) {
        switch error.code {
        case .notFound: self.init(.notFound, error.message)
        case .invalid: self.init(.badRequest, error.message)
        case .forbidden: self.init(.forbidden, error.message)
        case .conflict: self.init(.conflict, error.message)
        case .storage: self.init(.internalServerError, error.message)
        case .unavailable: self.init(.serviceUnavailable, error.message)
        }
    }

    static func forbidden(_ message: String) -> ConsoleError { ConsoleError(.forbidden, message) }
    static func notFound(_ message: String) -> ConsoleError { ConsoleError(.notFound, message) }
    static func badRequest(_ message: String) -> ConsoleError { ConsoleError(.badRequest, message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Self.view.bare("error", data: ["status": Int(status.code), "reason": status.reasonPhrase, "message": message], status: status)
        ConsoleHeaders.apply(&response.headers)
        return response
    }
}

/// Formatting shared by the pages.
enum ConsoleFormat {
    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// "3 min ago", "in 2 h", "just now".
    static func relative(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "never" }
        let seconds = date.timeIntervalSince(now)
        let magnitude = abs(seconds)
        let text: String
        switch magnitude {
        case ..<5: return "just now"
        case ..<60: text = "\(Int(magnitude)) s"
        case ..<3600: text = "\(Int(magnitude / 60)) min"
        case ..<86400: text = "\(Int(magnitude / 3600)) h"
        default: text = "\(Int(magnitude / 86400)) d"
        }
        return seconds < 0 ? "\(text) ago" : "in \(text)"
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s) s" }
        func two(_ big: Int, _ bigUnit: String, _ small: Int, _ smallUnit: String) -> String {
            small == 0 ? "\(big) \(bigUnit)" : "\(big) \(bigUnit) \(small) \(smallUnit)"
        }
        if s < 3600 { return two(s / 60, "min", s % 60, "s") }
        if s < 86400 { return two(s / 3600, "h", s % 3600 / 60, "min") }
        return two(s / 86400, "d", s % 86400 / 3600, "h")
    }

    static func short(_ revision: String?) -> String {
        guard let revision, !revision.isEmpty else { return "–" }
        return String(revision.prefix(12))
    }

    /// Percent-encodes a path segment or query value.
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
