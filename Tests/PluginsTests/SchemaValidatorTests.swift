import Base
import Testing
@testable import Plugins
import Registry

/// Argument validation names the field and what was expected.
@Suite struct SchemaValidatorTests {
    let schema = Schema.object([
        "query": Schema.string("q", minLength: 1),
        "top_k": Schema.integer("k", minimum: 1, maximum: 50),
        "type": Schema.string("t", enum: ["core", "episodic"]),
        "filters": Schema.object(["tags": Schema.array(Schema.string("tag"), "tags", maxItems: 2)]),
    ], required: ["query"], extra: ["not": ["required": ["top_k", "type"], "description": "give top_k or type, not both"]])

    @Test(arguments: [
        (JSONValue.object(["query": "x"]), [String]()),
        (JSONValue.object(["query": "x", "top_k": 8.0]), []),
        (JSONValue.object([:]), ["query: is required"]),
        (JSONValue.object(["query": ""]), ["query: must not be empty"]),
        (JSONValue.object(["query": 3]), ["query: expected a string, got 3"]),
        (JSONValue.object(["query": "x", "top_k": 80]), ["top_k: expected at most 50, got 80"]),
        (JSONValue.object(["query": "x", "top_k": 1.5]), ["top_k: expected an integer, got 1.5"]),
        (JSONValue.object(["query": "x", "type": "semantic"]), ["type: expected one of \"core\", \"episodic\", got \"semantic\""]),
        (JSONValue.object(["query": "x", "topk": 3]), ["arguments: unknown field 'topk' (expected filters, query, top_k, type)"]),
        (JSONValue.object(["query": "x", "filters": ["tags": ["a", 2]]]), ["filters.tags[1]: expected a string, got 2"]),
        (JSONValue.object(["query": "x", "filters": ["tags": ["a", "b", "c"]]]), ["filters.tags: expected at most 2 items, got 3"]),
        (JSONValue.object(["query": "x", "top_k": 2, "type": "core"]), ["arguments: give top_k or type, not both"]),
    ] as [(JSONValue, [String])])
    func problems(_ arguments: JSONValue, _ expected: [String]) {
        #expect(SchemaValidator.problems(in: arguments, schema: schema) == expected)
        // Compiled once and asked again, as the router asks a tool's schema on every call.
        let compiled = CompiledSchema(schema)
        #expect(compiled.problems(in: arguments) == expected)
        #expect(compiled.problems(in: arguments) == expected)
    }

    @Test func nestedNamesAndTheProblemLimitHoldWhenCompiled() {
        let nested = CompiledSchema(["type": "object", "properties": [
            "rows": ["type": "array", "items": ["type": "object", "required": ["id"], "properties": ["id": ["type": "integer", "minimum": 1]],
                                                "additionalProperties": ["type": "string"]]],
        ]])
        #expect(nested.problems(in: ["rows": [["id": 1], ["id": 0, "note": 3], [:]]])
                == ["rows[1].id: expected at least 1, got 0", "rows[1].note: expected a string, got 3", "rows[2].id: is required"])
        let many: JSONValue = ["rows": .array((0..<20).map { _ in [:] })]
        #expect(nested.problems(in: many).count == 8)
        #expect(nested.problems(in: many, limit: 2) == ["rows[0].id: is required", "rows[1].id: is required"])
        #expect(CompiledSchema(false).problems(in: 1) == ["arguments: is not allowed"])
        #expect(CompiledSchema(true).problems(in: ["anything": [1, 2]]).isEmpty)
    }

    @Test func aNonObjectIsNamedAsTheArguments() {
        #expect(SchemaValidator.problems(in: "text", schema: schema) == ["arguments: expected an object, got \"text\""])
    }
}
