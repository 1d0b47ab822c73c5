import Base
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import TestSupport
@testable import Host
@testable import HTTPFront

/// The HTTP routes and console pages driven in process (HummingbirdTesting's router client: no
/// socket, no child process), on a real registry in a temporary folder, with the API's wall clock
/// injected so expiry is tested by moving time, never by sleeping.
@Suite struct InProcessRoutesTests {
    /// A host built in this process: the manifest, a synced local source, keys for a reader and an
    /// admin, and a clock the test moves.
    struct Host {
        let app: Application<RouterResponder<APIContext>>
        let reader: String
        let boss: String
        let clock: LockedValue<Date>

        static let manifest = """
            version: 1
            host: { database: registry.db, cache: cache }
            sources:
              - { name: local, path: ./skills }
            policy:
              default: deny
              rules:
                - allow: [skills_search, skills_get, memory_get, memory_write]
            roles:
              researcher: { skills: ["local/public-*"] }
              editor: { skills: ["*"] }
            plugins:
              memory: {}
              skills: {}
            agents:
              reader: { role: researcher }
              boss: { role: editor, admin: true }
            """

        static func with(_ body: @escaping @Sendable (Host, any TestClientProtocol) async throws -> Void) async throws {
            try await withTemporaryDirectory { dir in
                try write(manifest, to: "registry.yaml", in: dir)
                try write("---\nname: public-guide\ndescription: A guide anyone may read.\n---\nRead the guide.\n", to: "skills/public-guide/SKILL.md", in: dir)
                try write("---\nname: private-plan\ndescription: Only editors see this.\n---\nThe plan.\n", to: "skills/private-plan/SKILL.md", in: dir)
                let logger = Logger(label: "in-process-test")
                let config = dir + "/registry.yaml"
                let context = try HostContext.open(configPath: config, logger: logger)
                _ = try context.syncer.sync()
                let runtime = try HostRuntime(context: context, configPath: config, kind: "test", syncing: false)
                let keys = try APIKeys(context: context)
                let clock = LockedValue(Date())
                let reader = try await keys.create(agent: "reader", manifest: context.manifest, label: nil, expiresIn: 3600, now: clock.value).key
                let boss = try await keys.create(agent: "boss", manifest: context.manifest, label: nil, expiresIn: nil, now: clock.value).key
                let api = HTTPAPI(runtime: runtime, keys: keys, listen: ("127.0.0.1", 0), logger: logger, now: { clock.value })
                let app = Application(router: HTTPFront.router(runtime: runtime, api: api, metrics: PrometheusCollectorRegistry(), started: clock.value))
                let host = Host(app: app, reader: reader, boss: boss, clock: clock)
                try await app.test(.router) { client in try await body(host, client) }
                api.stop()
            }
        }
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)", .contentType: "application/json"] }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    @Test func aKeyWorksUntilTheClockPassesItsExpiryThenEveryRouteRefusesIt() async throws {
        try await Host.with { host, client in
            try await client.execute(uri: "/v1/skills", method: .get, headers: Self.bearer(host.reader)) { response in
                #expect(response.status == .ok)
            }
            host.clock.value = host.clock.value.addingTimeInterval(2 * 3600)
            try await client.execute(uri: "/v1/skills", method: .get, headers: Self.bearer(host.reader)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("expired"), "\(String(buffer: response.body))")
            }
            // A key without an end is not touched by the clock.
            try await client.execute(uri: "/v1/skills", method: .get, headers: Self.bearer(host.boss)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func aRoleIsServedOnlyTheSkillsItsPatternsNameAndAHiddenOneLooksMissing() async throws {
        try await Host.with { host, client in
            try await client.execute(uri: "/v1/skills", method: .get, headers: Self.bearer(host.reader)) { response in
                let names = (Self.json(response)["skills"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(names == ["public-guide"])
            }
            try await client.execute(uri: "/v1/skills/private-plan", method: .get, headers: Self.bearer(host.reader)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/skills/private-plan", method: .get, headers: Self.bearer(host.boss)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func argumentsThatAreNotAnObjectAreRefusedInTheWordsOfTheOneRule() async throws {
        try await Host.with { host, client in
            let bad = ByteBuffer(string: #"{"arguments": [1, 2]}"#)
            try await client.execute(uri: "/v1/tools/memory_get/call", method: .post, headers: Self.bearer(host.reader), body: bad) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("must be a JSON object, got array"), "\(String(buffer: response.body))")
            }
            let write = ByteBuffer(string: #"{"arguments": {"type": "episodic", "text": "the sky is green"}}"#)
            var id = ""
            try await client.execute(uri: "/v1/tools/memory_write/call", method: .post, headers: Self.bearer(host.reader), body: write) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                id = (Self.json(response)["structuredContent"] as? [String: Any])?["id"] as? String ?? ""
            }
            #expect(!id.isEmpty)
            let read = ByteBuffer(string: #"{"arguments": {"id": "\#(id)"}}"#)
            try await client.execute(uri: "/v1/tools/memory_get/call", method: .post, headers: Self.bearer(host.reader), body: read) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("the sky is green"))
            }
        }
    }

    @Test func onlyAnAdminRevokesGrantsAndAnUnknownOneIsNotFound() async throws {
        try await Host.with { host, client in
            try await client.execute(uri: "/v1/approvals/grants/grt_nope", method: .delete, headers: Self.bearer(host.reader)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/approvals/grants/grt_nope", method: .delete, headers: Self.bearer(host.boss)) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no grant 'grt_nope'"))
            }
            try await client.execute(uri: "/v1/approvals/apr_nope", method: .get, headers: Self.bearer(host.boss)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/approvals?status=all", method: .get, headers: Self.bearer(host.reader)) { response in
                #expect(response.status == .ok)
                #expect((Self.json(response)["approvals"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func anAgentsReportIsPagedBackAndARouterEventCannotBeForged() async throws {
        try await Host.with { host, client in
            let report = ByteBuffer(string: #"{"type": "status", "state": "RUNNING", "session_id": "s1"}"#)
            try await client.execute(uri: "/v1/events", method: .post, headers: Self.bearer(host.reader), body: report) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
            }
            let forged = ByteBuffer(string: #"{"type": "tool.called", "session_id": "s1"}"#)
            try await client.execute(uri: "/v1/events", method: .post, headers: Self.bearer(host.reader), body: forged) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/events?limit=10", method: .get, headers: Self.bearer(host.reader)) { response in
                let types = (Self.json(response)["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
                #expect(types == ["status"])
            }
            try await client.execute(uri: "/v1/agents", method: .get, headers: Self.bearer(host.reader)) { response in
                let agents = Self.json(response)["agents"] as? [[String: Any]] ?? []
                #expect(agents.count == 1 && agents.first?["state"] as? String == "RUNNING")
            }
        }
    }

    @Test func theConsoleSendsASignedOutBrowserToTheLoginPage() async throws {
        try await Host.with { _, client in
            try await client.execute(uri: "/approvals", method: .get) { response in
                #expect(response.status == .seeOther || response.status == .found)
                #expect(response.headers[.location]?.hasPrefix("/login") == true)
            }
            try await client.execute(uri: "/login", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
