import CYaml
import Yams

/// Builds Yams `Node`s from libyaml's events, like `Yams.compose`, with two differences the manifest
/// needs: expansion through aliases is bounded (`YAMLBounds`), and a duplicate key is recorded
/// (the later value wins) instead of ending the parse, so every other problem is still reported.
public enum YAMLComposer {
    public struct Duplicate: Sendable, Equatable {
        public let key: String
        /// 1-based position of the repeated key.
        public let line: Int
        public let column: Int
        public let firstLine: Int
    }

    public struct Result {
        public let root: Node?
        public let duplicates: [Duplicate]
    }

    public enum Failure: Error {
        case syntax(problem: String, line: Int, column: Int)
        case tooLarge(YAMLBounds.Exceeded)
        case undefinedAlias(String, line: Int, column: Int)
    }

    /// The first document of `text`.
    public static func compose(_ text: String, maxNodes: Int) throws(Failure) -> Result {
        do throws(YAMLBounds.Exceeded) { try YAMLBounds.check(text, limit: maxNodes) } catch { throw .tooLarge(error) }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { throw .syntax(problem: "cannot start the YAML parser", line: 1, column: 1) }
        defer { yaml_parser_delete(parser) }
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(Failure) -> Result in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var builder = Builder(parser: parser)
            let root = try builder.document()
            return Result(root: root, duplicates: builder.duplicates)
        }
    }

    private struct Builder {
        let parser: UnsafeMutablePointer<yaml_parser_t>
        var anchors: [String: Node] = [:]
        var duplicates: [Duplicate] = []

        init(parser: UnsafeMutablePointer<yaml_parser_t>) { self.parser = parser }

        mutating func next() throws(Failure) -> yaml_event_t {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) == 1 else {
                let state = parser.pointee
                var problem = state.problem.map { String(cString: $0) } ?? "invalid YAML"
                if let context = state.context.map({ String(cString: $0) }) {
                    problem = "\(context): \(problem) (the construct starts at line \(state.context_mark.line + 1), column \(state.context_mark.column + 1))"
                }
                throw .syntax(problem: problem, line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1)
            }
            return event
        }

        mutating func document() throws(Failure) -> Node? {
            while true {
                var event = try next()
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT: return nil
                case YAML_STREAM_START_EVENT, YAML_DOCUMENT_START_EVENT: continue
                default: return try node(event)
                }
            }
        }

        mutating func node(_ event: yaml_event_t) throws(Failure) -> Node {
            let mark = makeMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                guard let node = anchors[name] else { throw .undefinedAlias(name, line: mark.line, column: mark.column) }
                return node
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
                let tagName = s.quoted_implicit == 1 ? Tag.Name.str.rawValue : string(s.tag)
                let style = Node.Scalar.Style(rawValue: numericCast(s.style.rawValue)) ?? .any
                let node = Node.scalar(.init(value, tag(tagName), style, mark))
                if let anchor = string(s.anchor) { anchors[anchor] = node }
                return node
            case YAML_SEQUENCE_START_EVENT:
                let start = event.data.sequence_start
                var items: [Node] = []
                while true {
                    var child = try next()
                    defer { yaml_event_delete(&child) }
                    if child.type == YAML_SEQUENCE_END_EVENT { break }
                    items.append(try node(child))
                }
                let style = Node.Sequence.Style(rawValue: numericCast(start.style.rawValue)) ?? .any
                let node = Node.sequence(.init(items, tag(string(start.tag)), style, mark))
                if let anchor = string(start.anchor) { anchors[anchor] = node }
                return node
            case YAML_MAPPING_START_EVENT:
                let start = event.data.mapping_start
                var pairs: [(Node, Node)] = []
                var seen: [String: Int] = [:]
                while true {
                    var keyEvent = try next()
                    defer { yaml_event_delete(&keyEvent) }
                    if keyEvent.type == YAML_MAPPING_END_EVENT { break }
                    let key = try node(keyEvent)
                    var valueEvent = try next()
                    defer { yaml_event_delete(&valueEvent) }
                    let value = try node(valueEvent)
                    if case .scalar(let scalar) = key {
                        if let index = seen[scalar.string] {
                            let first = pairs[index].0.mark?.line ?? 0
                            duplicates.append(Duplicate(key: scalar.string, line: scalar.mark?.line ?? 0, column: scalar.mark?.column ?? 0, firstLine: first))
                            pairs[index].1 = value
                            continue
                        }
                        seen[scalar.string] = pairs.count
                    }
                    pairs.append((key, value))
                }
                let style = Node.Mapping.Style(rawValue: numericCast(start.style.rawValue)) ?? .any
                let node = Node.mapping(.init(pairs, tag(string(start.tag)), style, mark))
                if let anchor = string(start.anchor) { anchors[anchor] = node }
                return node
            default:
                throw .syntax(problem: "unexpected YAML event", line: mark.line, column: mark.column)
            }
        }

        /// Yams' `Mark` has public fields but an internal initializer; it is two `Int`s (checked).
        func makeMark(line: Int, column: Int) -> Mark {
            precondition(MemoryLayout<Mark>.size == MemoryLayout<(Int, Int)>.size)
            return unsafeBitCast((line, column), to: Mark.self)
        }

        func tag(_ name: String?) -> Tag {
            Tag(name.map(Tag.Name.init(rawValue:)) ?? .implicit, .default, .default)
        }

        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
    }
}
