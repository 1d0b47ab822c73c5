import Foundation
import Ink

/// A skill's Markdown as HTML the console can show. Raw HTML in the source is shown as text (Ink never
/// sees a `<`), so a skill's `<script>`, `<iframe>`, `<style>` or `onerror=` never runs; what Ink makes
/// is then checked against an allowlist of tags and attributes, and links keep only `http`, `https`,
/// `mailto` and relative targets. The page's Content-Security-Policy (no inline script, no foreign
/// images) is the third wall.
enum SkillMarkdown {
    /// Bodies past this size are shown as plain text: Markdown rendering time grows with them, and a
    /// SKILL.md this long is not written to be read as a page.
    static let maxRenderedBytes = 512 * 1024
    /// What stands for `<` while Ink renders.
    static let placeholder = "\u{E000}"

    /// The whole path in this process (tests; the console renders through `MarkdownWorker`).
    static func html(_ markdown: String) -> String {
        guard markdown.utf8.count <= maxRenderedBytes else { return plain(markdown) }
        return HTMLSanitizer.clean(restored(ink(guarded(markdown))))
    }

    /// The body as Ink gets it. Ink never sees a `<`: its raw-HTML reader loops forever on an unclosed
    /// tag at the end of the input (`<p`), and a skill's HTML is shown as text anyway, so each `<`
    /// travels through Ink as a private-use character and comes back as `&lt;`, in text and code
    /// alike. Trailing blank space is dropped (a list whose last line is only spaces traps Ink), and a
    /// leading `---` rule is written `***` (Ink takes it for a metadata block, and traps on some).
    static func guarded(_ markdown: String) -> String {
        var text = markdown.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: placeholder, with: "\u{FFFD}")
            .replacingOccurrences(of: "<", with: placeholder)
        while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
        // A body that opens with a `---` line is read by Ink as a metadata block, and it traps when no
        // `key: value` follows. At the top of a document such a line can only be a rule: write it `***`.
        while text.hasPrefix("\n") { text.removeFirst() }
        let firstLine = text.prefix { $0 != "\n" }
        if firstLine.count >= 3, firstLine.allSatisfy({ $0 == "-" || $0 == " " }), firstLine.hasPrefix("---") {
            text = "***" + text.dropFirst(firstLine.count)
        }
        return text + "\n"
    }

    /// Ink's HTML (what `agenthub render-markdown` prints).
    static func ink(_ guarded: String) -> String { MarkdownParser().html(from: guarded) }

    static func restored(_ html: String) -> String { html.replacingOccurrences(of: placeholder, with: "&lt;") }

    /// The body as escaped text, when it is not rendered.
    static func plain(_ markdown: String) -> String { "<pre class=\"plain-body\">" + HTMLText.escape(markdown) + "</pre>" }
}

/// `agenthub render-markdown`: the child `MarkdownWorker` runs. Reads a guarded body on stdin and
/// writes Ink's HTML on stdout, under a CPU limit of its own.
public enum MarkdownRenderCommand {
    public static func main() -> Int32 {
        var limit = rlimit(rlim_cur: 10, rlim_max: 10)
        _ = setrlimit(Int32(RLIMIT_CPU.rawValue), &limit)
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard input.count <= SkillMarkdown.maxRenderedBytes * 4 else { return 2 }
        let html = SkillMarkdown.ink(String(decoding: input, as: UTF8.self))
        FileHandle.standardOutput.write(Data(html.utf8))
        return 0
    }
}

/// Escaping for text placed in HTML (Mustache escapes template values; this is for HTML built in code).
enum HTMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// Keeps the tags Markdown produces and nothing else. Tags are re-written from what was parsed (name
/// lowercased, allowed attributes only, values escaped), unknown ones become visible text, closing
/// tags must match an open one, and whatever is still open at the end is closed, so a skill cannot
/// reach outside its box.
enum HTMLSanitizer {
    static let allowed: Set<String> = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "em", "strong", "del", "s",
        "a", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "img", "b", "i", "sup", "sub", "kbd", "dl", "dt", "dd",
    ]
    static let void: Set<String> = ["hr", "br", "img"]
    static let attributes: [String: Set<String>] = ["a": ["href", "title"], "img": ["src", "alt", "title"], "ol": ["start"],
                                                    "th": ["align"], "td": ["align"]]

    static func clean(_ html: String) -> String {
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var open: [String] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == UInt8(ascii: "<") else {
                // `>` outside a tag is harmless, but escaped anyway so the output is unambiguous.
                if b == UInt8(ascii: ">") { out += Array("&gt;".utf8) } else { out.append(b) }
                i += 1
                continue
            }
            if let end = commentEnd(bytes, from: i) { i = end; continue }  // comments are dropped
            guard let tag = Tag.parse(bytes, from: i), allowed.contains(tag.name) else {
                out += Array("&lt;".utf8)
                i += 1
                continue
            }
            i = tag.end
            if tag.closing {
                guard let index = open.lastIndex(of: tag.name) else { continue }
                for name in open[index...].reversed() { out += Array("</\(name)>".utf8) }
                open.removeSubrange(index...)
                continue
            }
            out += Array(render(tag).utf8)
            if !void.contains(tag.name) && !tag.selfClosing { open.append(tag.name) }
        }
        for name in open.reversed() { out += Array("</\(name)>".utf8) }
        return String(decoding: out, as: UTF8.self)
    }

    static func render(_ tag: Tag) -> String {
        var text = "<" + tag.name
        let keep = attributes[tag.name] ?? []
        for (name, value) in tag.attributes where keep.contains(name) {
            if name == "href" || name == "src" {
                guard safeURL(value) else { continue }
            }
            if name == "start", Int(value) == nil { continue }
            if name == "align", !["left", "right", "center"].contains(value.lowercased()) { continue }
            text += " \(name)=\"\(HTMLText.escape(value))\""
        }
        if tag.name == "a" { text += " rel=\"nofollow noopener noreferrer\"" }
        return text + ">"
    }

    /// `http`, `https`, `mailto`, a fragment or a relative path; entities and control characters are
    /// undone first, as the browser would, so `jav&#x61;script:` is caught. A scheme-relative
    /// `//host` (or `\\host`, `/\\host`: browsers read a backslash as a slash) leaves the host: refused.
    static func safeURL(_ raw: String) -> Bool {
        let decoded = decodeEntities(raw).unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7f }
        let text = String(String.UnicodeScalarView(decoded)).lowercased()
        let lead = text.prefix(2).map { $0 == "\\" ? "/" : $0 }
        if lead == ["/", "/"] { return false }
        guard let colon = text.firstIndex(of: ":") else { return true }
        if let stop = text.firstIndex(where: { "/?#".contains($0) }), stop < colon { return true }
        let scheme = text[..<colon]
        return ["http", "https", "mailto"].contains(scheme)
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[amp...]
            let body = rest.dropFirst().prefix(12)
            let end = body.firstIndex(of: ";")
            let name = end.map { body[..<$0] } ?? body.prefix { $0.isLetter || $0.isNumber || $0 == "#" || $0 == "x" || $0 == "X" }
            var scalar: Unicode.Scalar?
            if name.hasPrefix("#x") || name.hasPrefix("#X") { scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
            else if name.hasPrefix("#") { scalar = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init) }
            else { scalar = ["colon": ":", "tab": "\t", "newline": "\n", "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"][name.lowercased()] }
            if let scalar, !name.isEmpty {
                out.unicodeScalars.append(scalar)
                rest = rest.dropFirst(1 + name.count + (end == nil ? 0 : 1))
            } else {
                out += "&"
                rest = rest.dropFirst()
            }
        }
        return out + rest
    }

    /// Where `<!-- … -->` starting at `start` ends (past `-->`), or nil.
    static func commentEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        let open = Array("<!--".utf8)
        guard start + open.count <= bytes.count, Array(bytes[start..<start + open.count]) == open else { return nil }
        var j = start + open.count
        while j + 2 < bytes.count {
            if bytes[j] == UInt8(ascii: "-"), bytes[j + 1] == UInt8(ascii: "-"), bytes[j + 2] == UInt8(ascii: ">") { return j + 3 }
            j += 1
        }
        return bytes.count
    }

    /// One start or end tag as written: its name, attributes and where it ends.
    struct Tag {
        var name: String
        var closing: Bool
        var selfClosing = false
        var attributes: [(String, String)] = []
        var end: Int

        static func isNameByte(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-")
        }
        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0c || b == 0x0d }

        static func parse(_ bytes: [UInt8], from start: Int) -> Tag? {
            var j = start + 1
            var closing = false
            if j < bytes.count, bytes[j] == UInt8(ascii: "/") { closing = true; j += 1 }
            let nameStart = j
            guard j < bytes.count, (bytes[j] >= 0x61 && bytes[j] <= 0x7a) || (bytes[j] >= 0x41 && bytes[j] <= 0x5a) else { return nil }
            while j < bytes.count, isNameByte(bytes[j]) { j += 1 }
            let name = String(decoding: bytes[nameStart..<j], as: UTF8.self).lowercased()
            var tag = Tag(name: name, closing: closing, end: j)
            while j < bytes.count {
                while j < bytes.count, isSpace(bytes[j]) { j += 1 }
                guard j < bytes.count else { return nil }
                if bytes[j] == UInt8(ascii: ">") { tag.end = j + 1; return tag }
                if bytes[j] == UInt8(ascii: "/") {
                    if j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: ">") { tag.selfClosing = true; tag.end = j + 2; return tag }
                    j += 1
                    continue
                }
                if bytes[j] == UInt8(ascii: "<") { return nil }
                let attrStart = j
                while j < bytes.count, !isSpace(bytes[j]), bytes[j] != UInt8(ascii: "="), bytes[j] != UInt8(ascii: ">"), bytes[j] != UInt8(ascii: "/") { j += 1 }
                let attrName = String(decoding: bytes[attrStart..<j], as: UTF8.self).lowercased()
                while j < bytes.count, isSpace(bytes[j]) { j += 1 }
                var value = ""
                if j < bytes.count, bytes[j] == UInt8(ascii: "=") {
                    j += 1
                    while j < bytes.count, isSpace(bytes[j]) { j += 1 }
                    guard j < bytes.count else { return nil }
                    if bytes[j] == UInt8(ascii: "\"") || bytes[j] == UInt8(ascii: "'") {
                        let quote = bytes[j]
                        j += 1
                        let valueStart = j
                        while j < bytes.count, bytes[j] != quote { j += 1 }
                        guard j < bytes.count else { return nil }
                        value = String(decoding: bytes[valueStart..<j], as: UTF8.self)
                        j += 1
                    } else {
                        let valueStart = j
                        while j < bytes.count, !isSpace(bytes[j]), bytes[j] != UInt8(ascii: ">") { j += 1 }
                        value = String(decoding: bytes[valueStart..<j], as: UTF8.self)
                    }
                }
                if !attrName.isEmpty { tag.attributes.append((attrName, decodeEntities(value))) }
            }
            return nil
        }
    }
}
