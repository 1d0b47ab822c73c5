import Registry

/// The skills every front serves, with the one rule for who sees what. Search, list, by-name,
/// files and MCP resources all come from here, so every front gives one answer.
///
/// The rule: **a name means the copy that serves it** (the first source in manifest order that
/// holds a loadable skill of that name). A caller sees a name only when its role may see that
/// serving copy; search and listings never show a shadowed copy. A shadowed copy is reached only
/// by naming its source (`skills_get` with `source`, `GET /v1/skills/NAME?source=`, the console's
/// copy link), and then only when the role may see that source's copy.
public struct SkillCatalog: Sendable {
    let store: any SkillStore

    public init(store: any SkillStore) { self.store = store }

    /// Rows a page may read past the ones it returns before it stops (a role that hides nearly
    /// everything must not make one page read the whole registry).
    static let scanBound = 20_000

    /// A page of the skills `viewer` may see, in the catalog's order, filtered after ranking.
    public func search(_ request: SkillSearch, as viewer: some SkillViewer) async throws(CoreError) -> SkillPage {
        var query = SkillQuery(text: request.text, source: request.source)
        query.withoutBody = request.withoutBody
        let admits: @Sendable (SkillRecord) -> Bool
        switch request.copies {
        case .served: admits = { _ in true }
        case .every(let filter):
            query.includeShadowed = true
            query.includeUnloadable = true
            admits = filter
        }
        var found: [SkillHit] = []
        var position = max(0, request.offset)
        // A page and one more first; bigger batches only when the role or the filter hides some.
        var batchSize = request.limit + 1
        while true {
            query.offset = position
            query.limit = batchSize
            let hits = try await read("search skills") { () throws(RegistryError) in try await store.skills(query) }
            for hit in hits {
                if admits(hit.skill), viewer.canSeeSkill(name: hit.skill.name, source: hit.skill.source) {
                    if found.count == request.limit { return SkillPage(hits: found, next: position) }
                    found.append(hit)
                }
                position += 1
            }
            if hits.count < batchSize || position - request.offset > Self.scanBound { return SkillPage(hits: found, next: nil) }
            batchSize = max(batchSize, 200)
        }
    }

    /// Every skill `viewer` is served, one per name, by name, without bodies (MCP resources and prompts).
    public func servedSkills(as viewer: some SkillViewer) async throws(CoreError) -> [SkillRecord] {
        var all: [SkillRecord] = []
        var query = SkillQuery(limit: 2_000)
        query.withoutBody = true
        while true {
            let hits = try await read("list skills") { () throws(RegistryError) in try await store.skills(query) }
            all += hits.lazy.map(\.skill).filter { viewer.canSeeSkill(name: $0.name, source: $0.source) }
            if hits.count < query.limit { return all }
            query.offset += hits.count
        }
    }

    /// The skill `name` as `viewer` is served it: the serving copy, or with `source` that source's
    /// loadable copy (shadowed or not). Hidden and missing look the same: `notFound`.
    public func skill(named name: String, source: String? = nil, as viewer: some SkillViewer) async throws(CoreError) -> SkillRecord {
        let copies = try await read("look up skill '\(name)'") { () throws(RegistryError) in try await store.skills(named: name) }
        let chosen = copies.first { copy in
            (source.map { copy.source == $0 } ?? (copy.shadowedBy == nil)) && viewer.canSeeSkill(name: copy.name, source: copy.source)
        }
        guard let chosen else {
            throw CoreError(.notFound, "no skill named '\(name)'" + (source.map { " in source '\($0)'" } ?? ""))
        }
        return chosen
    }

    /// Every live copy of `name` that `viewer` may see (loadable or not, served first): what an
    /// operator inspecting a name is shown.
    public func copies(named name: String, as viewer: some SkillViewer) async throws(CoreError) -> [SkillRecord] {
        let copies = try await read("look up the copies of skill '\(name)'") { () throws(RegistryError) in try await store.liveSkills(named: name) }
        return copies.filter { viewer.canSeeSkill(name: $0.name, source: $0.source) }
    }

    /// One copy by its id (any verdict, not tombstoned), if `viewer` may see it: the console's copy links.
    public func copy(id: Int64, as viewer: some SkillViewer) async throws(CoreError) -> SkillRecord {
        let record = try await read("look up skill \(id)") { () throws(RegistryError) in try await store.skill(id: id) }
        guard let record, record.deletedAt == nil, viewer.canSeeSkill(name: record.name, source: record.source) else {
            throw CoreError(.notFound, "no skill with id \(id)")
        }
        return record
    }

    /// The files of `skill` without their content, by path.
    public func listing(of skill: SkillRecord) async throws(CoreError) -> [SkillFileRecord] {
        try await listings(of: [skill])[skill.id] ?? []
    }

    /// The files of several skills without their content, by skill id.
    public func listings(of skills: [SkillRecord]) async throws(CoreError) -> [Int64: [SkillFileRecord]] {
        try await read("list skill files") { () throws(RegistryError) in try await store.fileListings(ofSkills: skills.map(\.id)) }
    }

    /// The files of `skill` with their content (text files the registry keeps), by path.
    public func files(of skill: SkillRecord) async throws(CoreError) -> [SkillFileRecord] {
        try await read("read skill '\(skill.name)'") { () throws(RegistryError) in try await store.files(ofSkill: skill.id) }
    }

    /// The text of one file of `skill`. A path that is missing, not a file, binary or too large to
    /// keep is `notFound`, with a message that says which.
    public func text(of path: String, in skill: SkillRecord) async throws(CoreError) -> String {
        let files = try await read("read skill '\(skill.name)'") { () throws(RegistryError) in try await store.files(ofSkill: skill.id) }
        guard let file = files.first(where: { $0.path == path }) else {
            throw CoreError(.notFound, "skill '\(skill.name)' has no file '\(path)'")
        }
        guard file.kind == .file else {
            throw CoreError(.notFound, "'\(path)' in skill '\(skill.name)' is a \(file.kind.rawValue), not a file")
        }
        guard let content = file.content else {
            let why = file.isBinary ? "binary" : "too large"
            throw CoreError(.notFound, "'\(path)' in skill '\(skill.name)' is \(why); the registry keeps only its listing"
                            + (file.note.map { " (\($0))" } ?? ""))
        }
        return content
    }

    func read<T>(_ what: String, _ body: () async throws(RegistryError) -> T) async throws(CoreError) -> T {
        do { return try await body() } catch { throw CoreError(.storage, "the registry could not \(what) (\(error.code.rawValue))") }
    }
}
