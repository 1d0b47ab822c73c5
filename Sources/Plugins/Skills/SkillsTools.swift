import Base

enum SkillsTools {
    static let descriptors: [ToolDescriptor] = [
        ToolDescriptor(
            name: "skills_search", title: "Search skills",
            description: "Full-text search over the skills your role may use (name, description, instructions), best first.",
            inputSchema: Schema.object([
                "query": Schema.string("Words to look for.", maxLength: 1000),
                "source": Schema.string("Only skills from this source.", minLength: 1, maxLength: 200),
                "limit": Schema.integer("How many results (1 to 50, default 10).", minimum: 1, maximum: 50),
            ], required: ["query"]),
            outputSchema: Schema.object(["results": Schema.array(Schema.object([
                "name": Schema.string("Skill name."), "source": Schema.string("Source name."),
                "description": Schema.string("What the skill does."), "path": Schema.string("Folder in its source."),
                "revision": Schema.string("The source revision it was read at."),
                "loadable": Schema.boolean("Whether it loads (always true here)."), "strict": Schema.boolean("Whether it passes the strict (skills-ref) rules."),
                "shadowed": Schema.boolean("Whether another source's copy serves its name (always false here)."),
                "license": Schema.string("Its license field."), "compatibility": Schema.string("Its compatibility field."),
                "allowed_tools": Schema.string("Its allowed-tools field."),
                "metadata": ["type": "object", "description": "Its metadata field."],
                "load_errors": Schema.array(Schema.string("A reason it does not load."), "Why it does not load."),
                "strict_errors": Schema.array(Schema.string("A strict-rule violation."), "Strict-rule violations."),
                "warnings": Schema.array(Schema.string("A warning."), "Everything else worth fixing."),
            ], required: ["name", "source", "description", "path"]), "Best first.")], required: ["results"]),
            annotations: .readOnly),
        ToolDescriptor(
            name: "skills_get", title: "Get a skill",
            description: "Returns a skill's instructions (the SKILL.md body) and the list of its files, or with path, one file of the skill at its synced revision.",
            inputSchema: Schema.object([
                "name": Schema.string("The skill's name.", minLength: 1, maxLength: 200),
                "source": Schema.string("Pick the skill from this source (default: the one that serves the name).", minLength: 1, maxLength: 200),
                "path": Schema.string("A file of the skill, relative to its folder (like references/guide.md).", minLength: 1, maxLength: 4096),
            ], required: ["name"]),
            annotations: .readOnly),
    ]
}
