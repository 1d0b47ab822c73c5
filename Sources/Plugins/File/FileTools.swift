import Registry

/// The file tools' descriptors and small byte helpers.
enum FileTools {
    static func descriptors(maxBytes: Int) -> [ToolDescriptor] {
        let path = Schema.string("A path relative to a file root (tried against each root in order), or an absolute path inside one.", minLength: 1, maxLength: 4096)
        return [
            ToolDescriptor(
                name: "read_file", title: "Read a file",
                description: "Reads a text file under the configured roots. head or tail give the first or last lines. Binary files are refused unless encoding is base64. At most \(maxBytes) bytes are returned; truncated says when there was more.",
                inputSchema: Schema.object([
                    "path": path,
                    "head": Schema.integer("Only the first N lines.", minimum: 1, maximum: 1_000_000),
                    "tail": Schema.integer("Only the last N lines.", minimum: 1, maximum: 1_000_000),
                    "max_bytes": Schema.integer("Return at most this many bytes.", minimum: 1, maximum: maxBytes),
                    "encoding": Schema.string("text (default) or base64 (for binary files).", enum: ["text", "base64"]),
                ], required: ["path"], extra: ["not": ["required": ["head", "tail"], "description": "give head or tail, not both"]]),
                outputSchema: Schema.object([
                    "path": Schema.string("The path as requested."),
                    "content": Schema.string("The text, or base64."),
                    "truncated": Schema.boolean("Whether the file has more than was returned."),
                    "size": Schema.integer("The file's size in bytes.", minimum: 0),
                    "encoding": Schema.string("text or base64.", enum: ["text", "base64"]),
                ], required: ["path", "content", "truncated", "size"]),
                annotations: .readOnly),
            ToolDescriptor(
                name: "list_files", title: "List files",
                description: "Lists a folder under the configured roots, depth levels deep (default 1). pattern filters names with * ? [...] globs. Symlinks are listed, never followed.",
                inputSchema: Schema.object([
                    "path": Schema.string("A folder relative to a file root (default: the first root).", maxLength: 4096),
                    "depth": Schema.integer("How many levels to descend (1 to 10).", minimum: 1, maximum: 10),
                    "pattern": Schema.string("Only names matching this glob (folders are still descended).", minLength: 1, maxLength: 200),
                ]),
                outputSchema: Schema.object([
                    "path": Schema.string("The folder as requested."),
                    "root": Schema.string("The root it was found in."),
                    "entries": Schema.array(Schema.object([
                        "path": Schema.string("Relative to the root."),
                        "type": Schema.string("file, directory, symlink, fifo, ..."),
                        "size": Schema.integer("Bytes, for files.", minimum: 0),
                    ], required: ["path", "type"]), "The entries, sorted by name within each folder."),
                    "truncated": Schema.boolean("Whether the listing stopped early (the entry limit, or the limit on entries read)."),
                    "truncated_reason": Schema.string("Why the listing stopped early."),
                    "visited": Schema.integer("Directory entries read, matched or not.", minimum: 0),
                ], required: ["path", "root", "entries", "truncated"]),
                annotations: .readOnly),
            ToolDescriptor(
                name: "write_file", title: "Write a file",
                description: "Replaces or creates a text file under the configured roots, atomically. High risk: blocked unless a policy rule allows write_file by its exact name.",
                inputSchema: Schema.object([
                    "path": path,
                    "content": Schema.string("The new content (UTF-8 text, at most \(maxBytes) bytes)."),
                ], required: ["path", "content"]),
                annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: false),
                risk: .high, contentArguments: ["content"]),
        ]
    }

    /// Why `bytes` look binary (a NUL byte, or invalid UTF-8), or nil for text.
    static func binaryReason(_ bytes: [UInt8], truncatedAtCap: Bool) -> String? {
        if let nul = bytes.prefix(8192).firstIndex(of: 0) { return "a NUL byte at offset \(nul)" }
        // The cut at the cap may have split the last character.
        let checked = truncatedAtCap ? trimToCharacterBoundary(bytes) : bytes
        if String(validating: checked, as: UTF8.self) == nil { return "not valid UTF-8" }
        return nil
    }

    /// Drops a partial UTF-8 character at the end of a truncated read.
    static func trimToCharacterBoundary(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for _ in 0..<4 {
            if String(validating: out, as: UTF8.self) != nil { return out }
            if out.isEmpty { return out }
            out.removeLast()
        }
        return out
    }
}
