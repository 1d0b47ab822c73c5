/// Whoever asks the catalog for skills: answers whether one copy of a skill (its name in one source)
/// is in their role's `skills:` patterns. The catalog decides everything else (shadowing, verdicts).
public protocol SkillViewer: Sendable {
    /// Whether the caller's role may see the skill `name` from `source`.
    func canSeeSkill(name: String, source: String) -> Bool
}

/// A viewer that may see every skill: the operator at the CLI, tests, benchmarks.
public struct EverySkillViewer: SkillViewer {
    public init() {}
    public func canSeeSkill(name: String, source: String) -> Bool { true }
}
