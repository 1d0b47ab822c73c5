import Foundation

/// SKILL.md split into its YAML frontmatter and Markdown body, with the text normalised for the
/// lenient loader (BOM removed, CRLF folded, invalid UTF-8 replaced) and a record of what was done.
struct SkillFrontmatter {
    /// The text exactly as skills-ref would see it (UTF-8 decoded, no BOM stripping), or nil when
    /// the bytes are not valid UTF-8.
    let strictText: String?
    /// The text after normalisation.
    let text: String
    /// The frontmatter YAML (between the opening and closing `---` lines), nil when there is none.
    let yaml: String?
    /// The Markdown after the closing `---` line, trimmed.
    let body: String
    /// Problems found while splitting; non-nil means there is no usable frontmatter.
    let splitError: String?
    /// Notes about normalisation (BOM, CRLF, invalid UTF-8).
    let notes: [String]

    init(data: Data) {
        var notes: [String] = []
        // Foundation's String(data:encoding:) drops a BOM and is lenient on Linux: validate explicitly.
        let decoded = String(validating: data, as: UTF8.self)
        strictText = decoded
        var text: String
        if let decoded {
            text = decoded
        } else {
            text = String(decoding: data, as: UTF8.self)
            let offset = SkillFrontmatter.firstInvalidUTF8Offset(data) ?? 0
            notes.append("SKILL.md is not valid UTF-8 (first bad byte at offset \(offset)); invalid bytes were replaced")
        }
        if text.hasPrefix("\u{FEFF}") {
            text.removeFirst()
            notes.append("SKILL.md starts with a byte order mark; it was ignored")
        }
        if text.contains("\r") {
            text = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        }
        self.text = text
        self.notes = notes

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.contains(where: { !$0.isWhitespace }) else {
            (yaml, body, splitError) = (nil, "", "SKILL.md is empty")
            return
        }
        guard let first = lines.first, SkillFrontmatter.isDelimiter(first) else {
            (yaml, body, splitError) = (nil, text.trimmedWhitespace,
                                        "SKILL.md has no YAML frontmatter: the first line must be ---")
            return
        }
        guard let close = lines.indices.dropFirst().first(where: { SkillFrontmatter.isDelimiter(lines[$0]) }) else {
            (yaml, body, splitError) = (nil, "", "SKILL.md frontmatter is not closed: no line with --- after line 1")
            return
        }
        yaml = lines[1..<close].joined(separator: "\n")
        body = lines[(close + 1)...].joined(separator: "\n").trimmedWhitespace
        splitError = nil
    }

    /// A frontmatter delimiter line: `---` followed by nothing but spaces or tabs.
    static func isDelimiter(_ line: Substring) -> Bool {
        line.hasPrefix("---") && line.dropFirst(3).allSatisfy { $0 == " " || $0 == "\t" }
    }

    static func firstInvalidUTF8Offset(_ data: Data) -> Int? {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let b = bytes[offset]
            let length: Int
            switch b {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return offset
            }
            guard offset + length <= bytes.count else { return offset }
            for i in 1..<length where bytes[offset + i] & 0xC0 != 0x80 { return offset }
            if String(bytes: bytes[offset..<(offset + length)], encoding: .utf8) == nil { return offset }
            offset += length
        }
        return nil
    }
}
