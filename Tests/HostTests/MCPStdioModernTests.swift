import Base
import Foundation
import Logging
import Plugins
import Registry
import Testing
@testable import Host

/// MCP 2026-07-28 on one connection (what `agenthub mcp` speaks over stdio): requests carry their
/// envelope and need no handshake, results are stamped, a connection keeps the era it started in,
/// and list changes go only to a `subscriptions/listen` the client opened, tagged with its id.
@Suite struct MCPStdioModernTests {
    let sent = SentMessages()
    static let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}"#

    func line(_ json: String) -> [UInt8] { Array(json.utf8) }

    @Test func requestsWithTheirEnvelopeNeedNoHandshakeAndListChangesGoToTheSubscriptionOnly() async throws {
        try await withTemporaryDirectory { dir in
            try write("---\nname: first\ndescription: The first skill.\n---\nDo the first thing.\n", to: "skills/first/SKILL.md", in: dir)
            let manifest = probeManifest + "\nsources:\n  - name: local\n    path: ./skills\n"
            try write(manifest, to: "registry.yaml", in: dir)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "test"), environment: [:])
            _ = try context.syncer.sync()
            let parsed = try ManifestLoader.parse(manifest, file: "registry.yaml", environment: [:])
            let (router, _) = try probeRouter(dir + "/router", manifest: manifest)
            let sent = self.sent
            let server = MCPServer(host: ToolHost(router: router, identity: CallerIdentity(manifest: parsed), plugins: []), registry: context.db,
                                   caller: worker, logger: Logger(label: "test")) { sent.append($0) }

            // No initialize: the envelope is enough, and the answer is stamped as the revision says.
            server.receive(line: line(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{\#(Self.meta)}}"#))
            #expect(await sent.wait { sent.answer(to: 1) != nil })
            let listed = sent.answer(to: 1)?["result"]
            #expect(listed?["resultType"] == "complete" && listed?["ttlMs"] != nil && listed?["cacheScope"] != nil, "\(String(describing: listed))")
            #expect(listed?["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "agenthub")
            #expect(listed?["tools"]?.arrayValue?.isEmpty == false)
            // A version it does not speak is named as such, with the ones it does.
            server.receive(line: line(#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#))
            #expect(await sent.wait { sent.answer(to: 2) != nil })
            #expect(sent.answer(to: 2)?["error"]?["code"] == -32022)
            // This connection is in 2026-07-28 now: the handshake is refused.
            server.receive(line: line(#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}},\#(Self.meta)}"#))
            #expect(await sent.wait { sent.answer(to: 3) != nil })
            #expect(sent.answer(to: 3)?["error"] != nil)

            // A skill published before anyone listens is no news to anyone: nothing is sent untagged.
            try write("---\nname: second\ndescription: The second skill.\n---\nDo the second thing.\n", to: "skills/second/SKILL.md", in: dir)
            _ = try context.syncer.sync()
            server.listsMayHaveChanged()
            await server.listChecksSettled()
            #expect(sent.notifications("notifications/resources/list_changed") == 0)

            // A subscription is acknowledged with the kinds honored, and hears of the next change, tagged.
            server.receive(line: line(#"{"jsonrpc":"2.0","id":"listen-1","method":"subscriptions/listen","params":{"notifications":{"resourcesListChanged":true,"bogus":true},\#(Self.meta)}}"#))
            #expect(await sent.wait { sent.all.contains { $0["method"] == "notifications/subscriptions/acknowledged" } })
            let ack = sent.all.first { $0["method"] == "notifications/subscriptions/acknowledged" }
            #expect(ack?["params"]?["notifications"] == ["resourcesListChanged": true])
            #expect(ack?["params"]?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == "listen-1")
            try write("---\nname: third\ndescription: The third skill.\n---\nDo the third thing.\n", to: "skills/third/SKILL.md", in: dir)
            _ = try context.syncer.sync()
            server.listsMayHaveChanged()
            await server.listChecksSettled()
            let changes = sent.all.filter { $0["method"] == "notifications/resources/list_changed" }
            #expect(changes.count == 1 && changes.first?["params"]?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == "listen-1", "\(changes)")
            #expect(sent.notifications("notifications/prompts/list_changed") == 0, "not asked for")
            #expect(sent.answer(to: 1) != nil && sent.all.filter { $0["id"] == "listen-1" && $0["result"] != nil }.isEmpty, "the listen stays open")

            // The client leaves the stream; when the server stops, nothing more is said of it.
            server.receive(line: line(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"listen-1"}}"#))
            await server.shutdown()
            #expect(sent.all.filter { $0["id"] == "listen-1" }.isEmpty)
        }
    }

    @Test func aConnectionThatCompletedTheHandshakeStaysInIt() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry) = try probeRouter(dir, manifest: probeManifest)
            let parsed = try ManifestLoader.parse(probeManifest, file: "registry.yaml", environment: [:])
            let sent = self.sent
            let server = MCPServer(host: ToolHost(router: router, identity: CallerIdentity(manifest: parsed), plugins: []), registry: registry,
                                   caller: worker, logger: Logger(label: "test")) { sent.append($0) }
            server.receive(line: line(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#))
            #expect(await sent.wait { sent.answer(to: 1) != nil })
            server.receive(line: line(#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{\#(Self.meta)}}"#))
            #expect(await sent.wait { sent.answer(to: 2) != nil })
            #expect(sent.answer(to: 2)?["error"]?["message"]?.stringValue?.contains("initialize handshake") == true)
            server.receive(line: line(#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#))
            #expect(await sent.wait { sent.answer(to: 3) != nil })
            #expect(sent.answer(to: 3)?["result"]?["tools"] != nil && sent.answer(to: 3)?["result"]?["resultType"] == nil)
        }
    }
}
