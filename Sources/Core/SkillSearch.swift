import Registry

/// What a caller asks the catalog for: words to search (nil lists by name), a source, a page.
public struct SkillSearch: Sendable {
    /// Which copies a search may return.
    public enum Copies: Sendable {
        /// What agents are served: loadable, and the copy that serves its name (never a shadowed one).
        case served
        /// Every live copy (shadowed and unloadable too) that `admits` takes: an operator inspecting
        /// the registry (the console's verdict filters, `skills list --all`).
        case every(admits: @Sendable (SkillRecord) -> Bool)
    }

    public var text: String?
    public var source: String?
    public var limit: Int
    /// Where the page starts in the catalog's order; the previous page's `next`.
    public var offset: Int
    public var copies: Copies
    /// Leave each skill's body empty (a listing that shows no instructions reads far less).
    public var withoutBody: Bool

    public init(text: String? = nil, source: String? = nil, limit: Int = 50, offset: Int = 0, copies: Copies = .served,
                withoutBody: Bool = true) {
        self.text = text.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        self.source = source
        self.limit = limit
        self.offset = offset
        self.copies = copies
        self.withoutBody = withoutBody
    }
}

/// One page of skills, best first when searching; `next` is the offset of the next page, if any.
public struct SkillPage: Sendable {
    public var hits: [SkillHit]
    public var next: Int?

    public var skills: [SkillRecord] { hits.map(\.skill) }
}
