/// What PostgreSQL cannot store that SQLite can: a NUL character in text, and the JSON escape
/// `\u0000` in `jsonb`. Both become U+FFFD (the replacement character), and the caller counts how
/// often, so a copy says what it changed instead of failing on one memory an agent wrote.
enum PostgresText {
    /// `text` without NUL characters, and whether any were replaced.
    static func storable(_ text: String) -> (String, Bool) {
        guard text.utf8.contains(0) else { return (text, false) }
        return (String(text.unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : Character($0) }), true)
    }

    /// JSON `text` with every `\u0000` escape written `\ufffd` (an escaped backslash before `u0000`
    /// is left alone), and whether any were.
    static func storableJSON(_ text: String) -> (String, Bool) {
        let (plain, hadNul) = storable(text)
        guard plain.contains("\\u0000") else { return (plain, hadNul) }
        var bytes = Array(plain.utf8)
        var changed = hadNul
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\") else { index += 1; continue }
            // An escape: `\u0000` is replaced; any other (`\\` included) is stepped over whole.
            if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
               bytes[(index + 2)...(index + 5)].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                bytes.replaceSubrange((index + 2)...(index + 5), with: Array("fffd".utf8))
                changed = true
                index += 6
            } else {
                index += 2
            }
        }
        return (String(decoding: bytes, as: UTF8.self), changed)
    }
}
