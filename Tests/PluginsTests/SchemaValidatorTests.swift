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
    }

    @Test func aNonObjectIsNamedAsTheArguments() {
        #expect(SchemaValidator.problems(in: "text", schema: schema) == ["arguments: expected an object, got \"text\""])
    }
}
