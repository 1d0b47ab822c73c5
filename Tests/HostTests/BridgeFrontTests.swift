import Base
import Foundation
import Logging
import Plugins
import Registry
import TestSupport
import Testing
@testable import Host

/// What an MCP client of `agenthub mcp` sees of bridged servers: progress for its calls, and
/// `list_changed` when a server changes its tools.
@Suite(.serialized) struct BridgeFrontTests {
    func frontLine(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func theClientGetsProgressForItsTokenAndListChangedWhenAServerChangesItsTools() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let sent = SentMessages()
            let server = MCPServer(host: host.tools, registry: host.registry, caller: worker, logger: Logger(label: "test")) { sent.append($0) }
            server.receive(line: frontLine(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#))
            server.receive(line: frontLine(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#))
            #expect(await sent.wait { sent.answer(to: 2) != nil })
            let listed = sent.answer(to: 2)?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(listed.contains("t__echo"))

            server.receive(line: frontLine(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t__sleep","arguments":{"seconds":0.3},"_meta":{"progressToken":"tok-1"}}}"#))
            #expect(await host.wait { sent.answer(to: 3) != nil })
            let progress = sent.all.filter { $0["method"] == "notifications/progress" }
            #expect(progress.count == 3)
            #expect(progress.allSatisfy { $0["params"]?["progressToken"] == "tok-1" })
            #expect(progress.last?["params"]?["total"] == 3)

            #expect(sent.notifications("notifications/tools/list_changed") == 0)
            server.receive(line: frontLine(#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"t__add_tool","arguments":{}}}"#))
            #expect(await host.wait { sent.notifications("notifications/tools/list_changed") == 1 })
            server.receive(line: frontLine(#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#))
            #expect(await host.wait { sent.answer(to: 5) != nil })
            let relisted = sent.answer(to: 5)?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(relisted.contains("t__added"))
            await server.shutdown()
            await host.stop()
        }
    }
}
