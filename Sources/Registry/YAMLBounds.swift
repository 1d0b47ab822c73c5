import CYaml

/// Bounds YAML before anything builds a tree from it. Yams expands aliases as it composes and
/// hashes mapping keys, so nine nested anchors of ten aliases each (a 600-byte "billion laughs")
/// run for minutes and take gigabytes. This walks libyaml's event stream once, in time linear in
/// the text, and counts the nodes the document would have with every alias expanded.
public enum YAMLBounds {
    /// Nodes a SKILL.md frontmatter may expand to (real ones have tens).
    public static let skillFrontmatterNodes = 10_000
    /// Nodes a manifest may expand to.
    public static let manifestNodes = 200_000

    public struct Exceeded: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based line where the count passed the limit.
        public let line: Int
        public let limit: Int
        public var description: String {
            "the YAML expands to more than \(limit) nodes (through anchors and aliases) by line \(line); refused"
        }
    }

    /// Throws `Exceeded` when `text` has more than `limit` nodes with aliases expanded. Syntax errors
    /// are not reported here (the real parser reports them with their position); counting just stops.
    public static func check(_ text: String, limit: Int) throws(Exceeded) {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { return }
        defer { yaml_parser_delete(parser) }
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(Exceeded) in
            guard let base = buffer.baseAddress else { return }
            yaml_parser_set_input_string(parser, base, buffer.count)
            var counter = Counter(limit: limit)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_SCALAR_EVENT:
                    try counter.leaf(1, anchor: name(event.data.scalar.anchor), line: line)
                case YAML_ALIAS_EVENT:
                    let size = name(event.data.alias.anchor).flatMap { counter.anchors[$0] } ?? 1
                    try counter.leaf(size, anchor: nil, line: line)
                case YAML_SEQUENCE_START_EVENT:
                    counter.open(anchor: name(event.data.sequence_start.anchor))
                case YAML_MAPPING_START_EVENT:
                    counter.open(anchor: name(event.data.mapping_start.anchor))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    try counter.close(line: line)
                default:
                    break
                }
            }
        }
    }

    private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    /// Expanded sizes: each open collection's running count, and each anchor's total.
    private struct Counter {
        let limit: Int
        var anchors: [String: Int] = [:]
        var stack: [(anchor: String?, count: Int)] = []
        var total = 0

        mutating func open(anchor: String?) { stack.append((anchor, 1)) }

        mutating func leaf(_ size: Int, anchor: String?, line: Int) throws(YAMLBounds.Exceeded) {
            if let anchor { anchors[anchor] = size }
            try add(size, line: line)
        }

        mutating func close(line: Int) throws(YAMLBounds.Exceeded) {
            guard let (anchor, count) = stack.popLast() else { return }
            if let anchor { anchors[anchor] = count }
            try add(count, line: line)
        }

        private mutating func add(_ size: Int, line: Int) throws(YAMLBounds.Exceeded) {
            if let last = stack.indices.last {
                stack[last].count = min(stack[last].count + size, limit + 1)
                if stack[last].count > limit { throw YAMLBounds.Exceeded(line: line, limit: limit) }
            } else {
                total = min(total + size, limit + 1)
                if total > limit { throw YAMLBounds.Exceeded(line: line, limit: limit) }
            }
        }
    }
}
