import Registry

/// What the skill catalog reads. SQLite (`RegistryDatabase`) is the one implementation today; a
/// second backend implements this protocol and nothing above it changes.
public protocol SkillStore: Sendable {
    /// Skills matching a query, best first when searching, by name when listing.
    func skills(_ query: SkillQuery) async throws(RegistryError) -> [SkillHit]
    /// Every live, loadable copy called `name`: the serving one first, then shadowed ones in source order.
    func skills(named name: String) async throws(RegistryError) -> [SkillRecord]
    /// Every live copy called `name`, loadable or not, served first.
    func liveSkills(named name: String) async throws(RegistryError) -> [SkillRecord]
    /// A skill row by id, tombstoned or not.
    func skill(id: Int64) async throws(RegistryError) -> SkillRecord?
    /// The files of a skill with their content, by path.
    func files(ofSkill id: Int64) async throws(RegistryError) -> [SkillFileRecord]
    /// The files of the given skills without their content.
    func fileListings(ofSkills ids: [Int64]) async throws(RegistryError) -> [Int64: [SkillFileRecord]]
}

/// What the source directory reads.
public protocol SourceStore: Sendable {
    /// All sources, in manifest order (removed ones last).
    func sources() async throws(RegistryError) -> [SourceRecord]
    func source(named name: String) async throws(RegistryError) -> SourceRecord?
}

extension RegistryDatabase: SkillStore, SourceStore {}
