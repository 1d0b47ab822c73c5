extension String {
    /// The longest prefix of at most `bytes` UTF-8 bytes that ends on a character boundary (the
    /// string itself when it is short enough): how stored names, previews and messages are cut.
    public func utf8Prefix(_ bytes: Int) -> String {
        guard utf8.count > bytes else { return self }
        var prefix = Substring(self).utf8.prefix(max(0, bytes))
        while !prefix.isEmpty, String(prefix) == nil { prefix = prefix.dropLast() }
        return String(prefix) ?? ""
    }
}
