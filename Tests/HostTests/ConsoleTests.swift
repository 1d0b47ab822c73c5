import Base
import Foundation
import Host
import Testing
import TestSupport

/// The web console as a browser's requests reach it, without a browser: sign-in, the cookie, CSRF,
/// what a non-admin key may see, and every read page working without JavaScript.
@Suite(.serialized) struct ConsoleTests {
    /// The API test manifest with `memory_delete` asking for approval.
    static let manifest = APIHost.manifest()
        .replacingOccurrences(of: "    - deny: [write_file]", with: "    - ask: [memory_delete]\n    - deny: [write_file]")

    /// A host with the API test skills plus one whose body carries script, and one that does not load.
    static func start(_ dir: String) async throws -> APIHost {
        try write("""
            ---
            name: public-trap
            description: A skill whose body tries to run script.
            ---
            # Trap
            Hello <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> [x](javascript:alert(1))
            """, to: "skills/public-trap/SKILL.md", in: dir)
        try write("---\nname: Broken Name!\n---\nno description\n", to: "skills/public-broken/SKILL.md", in: dir)
        return try await APIHost.start(dir, manifest: manifest)
    }

    @Test func signingInWithAKeySetsAnHttpOnlyStrictSessionCookieAndOpensTheOverview() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            let before = await browser.get("/")
            #expect(before.status == 303 && before.headers["location"] == "/login?next=%2F")
            let signedIn = await browser.signIn(host.keys["boss"]!, next: "/sources")
            #expect(signedIn.status == 303 && signedIn.headers["location"] == "/sources")
            let cookie = try #require(ConsoleClient.setCookies(signedIn)["agenthub_session"])
            #expect(cookie.attributes.contains("HttpOnly") && cookie.attributes.contains("SameSite=Strict") && cookie.attributes.contains("Path=/"))
            #expect(!cookie.attributes.contains("Secure"), "plain HTTP: a Secure cookie would never come back")
            #expect(!cookie.value.contains(host.keys["boss"]!.suffix(20)), "the cookie is a session token, never the key")
            let overview = await browser.get("/")
            #expect(overview.status == 200)
            #expect(overview.body.contains("<h1>Overview</h1>") && overview.body.contains("boss · editor · admin"))
            #expect(overview.body.contains("href=\"/skills?source=local\"") && overview.body.contains("id=\"revision\""))
            #expect(overview.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(overview.headers["x-frame-options"] == "DENY")
        }
    }

    @Test func aCookieIsSecureWhenTheHostIsReachedOverTLSThroughAProxy() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            let signedIn = await browser.signIn(host.keys["reader"]!, headers: ["X-Forwarded-Proto": "https"])
            #expect(ConsoleClient.setCookies(signedIn)["agenthub_session"]?.attributes.contains("Secure") == true)
        }
    }

    @Test func aWrongKeyIsRefusedOnTheSignInPageWithoutASession() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            let refused = await browser.signIn("ah_not_a_real_key")
            #expect(refused.status == 401)
            #expect(refused.body.contains("id=\"login-error\"") && refused.body.contains("That key was refused"))
            #expect(ConsoleClient.setCookies(refused)["agenthub_session"] == nil)
            #expect(await browser.get("/skills").status == 303)
            // The sign-in form's own token is checked too: a form from elsewhere cannot sign a browser in.
            var other = ConsoleClient(port: host.port)
            #expect(await other.post("/login", ["key": host.keys["boss"]!], csrf: "forged").status == 403)
            var foreign = ConsoleClient(port: host.port)
            _ = await foreign.get("/login")
            #expect(await foreign.post("/login", ["key": host.keys["boss"]!], headers: ["Origin": "https://evil.example"]).status == 403)
        }
    }

    @Test func everyReadPageRendersOnTheServerWithoutJavaScript() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            _ = await host.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"hello"}, "session":"s-1"}"#)
            _ = await host.call("POST", "/v1/tools/write_file/call", as: "writer", body: #"{"arguments":{"path":"x","content":"y"}, "session":"s-1"}"#)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["boss"]!)
            let pages: [(String, [String])] = [
                ("/", ["Sources", "Recent failures", "write_file"]),
                ("/skills", ["public-guide", "secret-plan", "public-trap"]),
                ("/skills?q=guide", ["public-guide", "best match first"]),
                ("/skills?verdict=unloadable", ["does not load"]),
                ("/skills?source=local&verdict=strict", ["public-guide"]),
                ("/skills/public-guide", ["Read the guide.", "notes/usage.md", "Strict (skills-ref)", "local:"]),
                ("/skills/public-guide/files/notes/usage.md", ["Some notes."]),
                ("/sources", ["local", "Sync now", "ready"]),
                ("/tools", ["memory_write", "registry.yaml:", "asks first", "blocked"]),
                ("/tools?role=researcher", ["As role researcher"]),
                ("/events", ["tool.called", "memory_write", "tool.blocked", "writer"]),
                ("/events?agent=writer&type=tool.blocked", ["write_file"]),
                ("/events/timeline?session=s-1", ["memory_write", "result", "write_file", "blocked"]),
                ("/approvals", ["Nothing waits for an answer", "Lasting grants"]),
                ("/keys", ["key_", "Create key", "reader"]),
            ]
            for (path, expected) in pages {
                let page = await browser.get(path)
                #expect(page.status == 200, "\(path): \(page.status) \(page.body.prefix(300))")
                #expect(page.headers["content-type"]?.hasPrefix("text/html") == true, "\(path)")
                for text in expected { #expect(page.body.contains(text), "\(path) should show \(text)") }
                // The only script is the console's own file; nothing inline.
                #expect(page.body.components(separatedBy: "<script").count == 2, "\(path) has inline script")
            }
            let filtered = await browser.get("/events?type=tool.blocked")
            #expect(!filtered.body.contains(">tool.called<"), "the type filter applies")
            let export = await browser.get("/events/export.jsonl?session=s-1")
            let lines = export.body.split(separator: "\n")
            #expect(export.headers["content-type"]?.hasPrefix("application/x-ndjson") == true && lines.count >= 4)
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        }
    }

    @Test func aSkillsScriptAndHandlersAreShownAsTextNeverAsMarkup() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["reader"]!)
            let page = await browser.get("/skills/public-trap")
            #expect(page.status == 200)
            let article = try #require(page.body.range(of: #"<article[\s\S]*</article>"#, options: .regularExpression).map { String(page.body[$0]) })
            #expect(article.contains("&lt;script&gt;window.") && article.contains("&lt;img src=x onerror="), "shown as text: \(article)")
            #expect(!article.contains("<script") && !article.contains("<img"), "\(article)")
            #expect(article.range(of: #"<[^>]*\son\w+="#, options: .regularExpression) == nil && !article.contains("javascript:"), "\(article)")
            #expect(article.contains("<h1>Trap</h1>"))
        }
    }

    @Test func aFormPostedWithoutItsCSRFTokenIsRefusedAndChangesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["boss"]!)
            _ = await browser.get("/keys")
            let keysBefore = await host.call("GET", "/v1/agents", as: "boss")
            let missing = await browser.post("/keys", ["agent": "reader", "label": "csrf-test"], csrf: "")
            #expect(missing.status == 403 && missing.body.contains("CSRF token is missing or wrong"))
            let wrong = await browser.post("/keys", ["agent": "reader", "label": "csrf-test"], csrf: "x" + (browser.csrf ?? ""))
            #expect(wrong.status == 403)
            let foreign = await browser.post("/keys", ["agent": "reader", "label": "csrf-test"], headers: ["Origin": "https://evil.example"])
            #expect(foreign.status == 403)
            #expect(!(await browser.get("/keys")).body.contains("csrf-test"), "no key was made")
            #expect(keysBefore.status == 200)
            // With the token the same form works, and the key is shown once.
            let made = await browser.post("/keys", ["agent": "reader", "label": "csrf-test"])
            #expect(made.status == 200 && made.body.contains("id=\"created-key\"") && made.body.contains("ah_"))
            #expect(!(await browser.get("/keys")).body.contains("id=\"created-key\""), "shown only in the answer to the form")
            // Without a session, a form is refused even with a token.
            var stranger = ConsoleClient(port: host.port)
            #expect(await stranger.post("/keys", ["agent": "reader"], csrf: browser.csrf ?? "x").status == 403)
        }
    }

    @Test func aNonAdminKeySeesNoAdminPageOrButtonAndGets403OnTheirRoutes() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["reader"]!)
            let overview = await browser.get("/")
            #expect(!overview.body.contains("href=\"/keys\""), "no Keys link for a non-admin")
            #expect(await browser.get("/keys").status == 403)
            let sources = await browser.get("/sources")
            #expect(sources.status == 200 && !sources.body.contains("Sync now"))
            #expect(await browser.post("/sources/local/sync").status == 403)
            #expect(await browser.post("/keys", ["agent": "reader"]).status == 403)
            #expect(await browser.get("/tools?role=editor").status == 403)
            #expect(await browser.get("/events?agent=boss").status == 403)
            let skills = await browser.get("/skills")
            #expect(skills.body.contains("public-guide") && !skills.body.contains("secret-plan"), "only the role's skills")
            #expect(await browser.get("/skills/secret-plan").status == 404)
            // A pending request is shown to its own agent, without the answer buttons.
            let call = Task { await host.call("POST", "/v1/tools/memory_delete/call", as: "reader", body: #"{"arguments":{"id":"mem_1"}}"#) }
            let shown = await browser.get("/approvals", until: { $0.contains("data-id=\"apr_") }).body
            #expect(shown.contains("memory_delete") && !shown.contains("Approve</button>") && shown.contains("An admin answers"))
            let id = try #require(ConsoleClient.firstMatch(#"data-id="(apr_[a-z0-9]+)""#, in: shown))
            #expect(await browser.post("/approvals/\(id)/approve", ["scope": "call"]).status == 403)
            var boss = ConsoleClient(port: host.port)
            _ = await boss.signIn(host.keys["boss"]!)
            _ = await boss.get("/approvals")
            #expect(await boss.post("/approvals/\(id)/deny", ["reason": "not now"]).status == 303)
            #expect(await call.value.status == 403)
        }
    }

    @Test func aSessionEndsWhenItsKeyIsRevokedOrWhenItSignsOut() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var reader = ConsoleClient(port: host.port)
            _ = await reader.signIn(host.keys["reader"]!)
            #expect(await reader.get("/skills").status == 200)
            var boss = ConsoleClient(port: host.port)
            _ = await boss.signIn(host.keys["boss"]!)
            let keys = await boss.get("/keys")
            let readerKey = try #require(ConsoleClient.firstMatch(#"<td><code>(key_[A-Za-z0-9]+)</code><br><small><code>ah_[^<]*</code></small></td><td>reader</td>"#, in: keys.body))
            let revoked = await boss.post("/keys/\(readerKey)/revoke")
            #expect(revoked.status == 303)
            let after = await reader.get("/skills")
            #expect(after.status == 303 && after.headers["location"] == "/login?expired=1")
            // Signing out ends the session: the old cookie no longer opens a page.
            let cookie = boss.cookies["agenthub_session"]
            #expect(await boss.post("/logout").status == 303)
            var replay = ConsoleClient(port: host.port)
            replay.cookies["agenthub_session"] = cookie
            #expect(await replay.get("/").status == 303)
        }
    }

    @Test func syncNowAsAdminWaitsForTheRunAndShowsHowItEnded() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["boss"]!)
            _ = await browser.get("/sources")
            let started = await browser.post("/sources/local/sync")
            let location = try #require(started.headers["location"])
            #expect(started.status == 303 && location.hasPrefix("/sources?run=run_"))
            let page = await browser.get(location)
            #expect(page.body.contains("Sync finished: <strong>local: unchanged") || page.body.contains("Sync finished: <strong>local: published"), "\(page.body)")
        }
    }

    @Test func theOverviewShowsARejectedReloadWithTheLineAndColumnOfEachError() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["boss"]!)
            let good = try String(contentsOfFile: dir + "/registry.yaml", encoding: .utf8)
            try good.replacingOccurrences(of: "default: deny", with: "default: maybe").write(toFile: dir + "/registry.yaml", atomically: true, encoding: .utf8)
            let page = await browser.get("/", until: { $0.contains(">rejected<") }).body
            #expect(page.contains(">rejected<"), "the overview shows the rejected reload")
            #expect(page.range(of: #"<code>registry\.yaml:\d+:\d+"#, options: .regularExpression) != nil, "each error names its line and column")
            #expect(page.contains("maybe"))
            // The last good manifest still serves: the pages work.
            #expect(await browser.get("/tools").status == 200)
        }
    }

    @Test func anEventRecordedByAnotherProcessReachesAnOpenStreamWithoutWaitingForTheKeepAlive() async throws {
        try await withTemporaryDirectory { dir in
            // A keep-alive longer than the test: only the store being read again can bring the event.
            let host = try await APIHost.start(dir, manifest: APIHost.manifest(http: "http: { keep_alive: 10m }"))
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["boss"]!)
            let cookie = browser.cookieHeader
            let port = host.port
            let reader = Task {
                await onThread { () -> String? in
                    guard let stream = SSEStream(port, "/events/stream?agent=writer", headers: cookie), stream.head() else { return nil }
                    while let event = stream.next(timeout: 120) {
                        if event.event == "tool.called", event.data.contains("memory_write") { return event.data }
                    }
                    return nil
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            // Another process (the CLI, as an `agenthub mcp` would) records a call in the same registry.
            let call = try await run(agenthubBinary(), ["tools", "call", "memory_write", "--agent", "writer", "--args", #"{"type":"core","text":"from another process"}"#], in: dir)
            #expect(call.status == 0, "\(call.stderr)")
            let seen = await reader.value
            #expect(seen?.contains("\"agent\":\"writer\"") == true, "the stream saw \(seen ?? "nothing")")
        }
    }

    @Test func olderEventsArePagedBackWithoutALiveTailAndExportFollowsThePage() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            let events = (0..<130).map { #"{"type":"status","session_id":"paging","state":"RUNNING","payload":{"n":\#($0)}}"# }
            #expect(await host.call("POST", "/v1/events", as: "writer", body: "[" + events.joined(separator: ",") + "]").status == 201)
            var browser = ConsoleClient(port: host.port)
            _ = await browser.signIn(host.keys["boss"]!)
            let latest = await browser.get("/events?session=paging")
            #expect(latest.body.components(separatedBy: "<tr data-id=").count - 1 == 100)
            #expect(latest.body.contains(#"data-stream="/events/stream?session=paging&amp;after="#), "the newest page follows the stream")
            let older = try #require(ConsoleClient.firstMatch(#"href="(/events\?session=paging&amp;before=\d+)""#, in: latest.body))
            let page = await browser.get(older.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(page.body.components(separatedBy: "<tr data-id=").count - 1 == 30)
            #expect(page.body.contains(#"data-stream="""#) && page.body.contains("Back to the latest"), "an older page has no live tail")
            #expect(!page.body.contains("id=\"older\""), "the oldest page has no older link")
        }
    }

    /// A REST call of `writer` that asks, and the boss signed in to the console with its request on the approvals page.
    static func waitingWrite(_ host: APIHost) async throws -> (call: Task<HTTPAnswer, Never>, boss: ConsoleClient, page: String, request: String) {
        let call = Task { await host.call("POST", "/v1/tools/memory_delete/call", as: "writer", body: #"{"arguments":{"id":"mem_1"}}"#) }
        var boss = ConsoleClient(port: host.port)
        _ = await boss.signIn(host.keys["boss"]!)
        let pending = await boss.get("/approvals", until: { $0.contains("data-id=\"apr_") }).body
        let request = try #require(ConsoleClient.firstMatch(#"data-id="(apr_[a-z0-9]+)""#, in: pending))
        return (call, boss, pending, request)
    }

    @Test func theTasksPagesShowAgentsTasksLiveAndCancelAndRetryThem() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            let prefer = ["Prefer": "respond-async"]
            let done = await host.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"from a task"}}"#, headers: prefer)
            let doneId = try #require(done.json["id"] as? String, "\(done.body)")
            // An `ask` call as a task waits for its approval.
            let waiting = await host.call("POST", "/v1/tools/memory_delete/call", as: "writer", body: #"{"arguments":{"id":"mem_1"}}"#, headers: prefer)
            let waitingId = try #require(waiting.json["id"] as? String, "\(waiting.body)")
            var writer = ConsoleClient(port: host.port)
            _ = await writer.signIn(host.keys["writer"]!)
            let list = await writer.get("/tasks", until: { $0.contains("input required") && $0.contains(">completed<") })
            #expect(list.body.contains(doneId) && list.body.contains(waitingId) && list.body.contains("memory_delete"), "\(list.body.prefix(3000))")
            #expect(list.body.contains(#"data-poll="2""#), "a page with a running task polls")
            let detail = await writer.get("/tasks/\(doneId)")
            #expect(detail.body.contains("mem_") && detail.body.contains("Retry as a new task") && !detail.body.contains(">Cancel<"), "\(detail.body.prefix(3000))")
            let asking = await writer.get("/tasks/\(waitingId)")
            #expect(asking.body.contains("/approvals#apr_") && asking.body.contains(">Cancel<"), "\(asking.body.prefix(3000))")
            // Cancel the waiting one; retry the finished one as a new task linked to it.
            let cancelled = await writer.post("/tasks/\(waitingId)/cancel")
            #expect(cancelled.status == 303)
            let ended = await writer.get("/tasks/\(waitingId)", until: { $0.contains(">cancelled<") })
            #expect(ended.body.contains(">cancelled<"), "\(ended.body.prefix(3000))")
            let retried = await writer.post("/tasks/\(doneId)/retry")
            let location = retried.headers["location"] ?? ""
            #expect(retried.status == 303 && location.hasPrefix("/tasks/tsk_") && !location.hasPrefix("/tasks/\(doneId)"), "\(retried.status) \(location)")
            let fresh = await writer.get(location)
            #expect(fresh.body.contains("It retries") && fresh.body.contains(doneId), "\(fresh.body.prefix(3000))")
            // Another agent's task is not there for a non-admin; an admin sees it.
            var reader = ConsoleClient(port: host.port)
            _ = await reader.signIn(host.keys["reader"]!)
            #expect(await reader.get("/tasks/\(doneId)").status == 404)
            #expect(!(await reader.get("/tasks")).body.contains(doneId))
            #expect(await reader.post("/tasks/\(doneId)/retry").status == 404)
            var boss = ConsoleClient(port: host.port)
            _ = await boss.signIn(host.keys["boss"]!)
            #expect((await boss.get("/tasks")).body.contains(doneId))
            // Retrying is its own agent's: an admin may look and cancel, not run another agent's call.
            #expect(await boss.post("/tasks/\(doneId)/retry").status == 403)
        }
    }

    @Test func anAdminApprovesForTheAgentForAsLongAsTheFormSays() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            let (call, signedIn, _, request) = try await Self.waitingWrite(host)
            var boss = signedIn
            let bad = await boss.post("/approvals/\(request)/approve", ["scope": "agent", "duration": "soon"])
            #expect(bad.status == 400 && bad.body.contains("duration"), "\(bad.body.prefix(300))")
            #expect(await boss.post("/approvals/\(request)/approve", ["scope": "agent", "duration": "2h", "reason": "for the migration"]).status == 303)
            #expect(await call.value.status == 200)
            let grants = await host.call("GET", "/v1/approvals/grants", as: "boss").json["grants"] as? [[String: Any]] ?? []
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let expires = (grants.first?["expires_at"] as? String).flatMap { format.date(from: $0) }
            let hours = (expires?.timeIntervalSinceNow ?? 0) / 3600
            #expect(grants.count == 1 && grants.first?["scope"] as? String == "agent" && hours > 1.9 && hours <= 2.0, "\(grants)")
        }
    }

    @Test func aRESTCallersRequestOffersNoSessionScopeAndASessionAnswerIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await Self.start(dir)
            let (call, signedIn, pending, request) = try await Self.waitingWrite(host)
            var boss = signedIn
            #expect(!pending.contains(#"<option value="session">"#), "a REST call has no session that ends")
            let refused = await boss.post("/approvals/\(request)/approve", ["scope": "session"])
            #expect(refused.status == 409 && refused.body.contains("session that ends"), "\(refused.status) \(refused.body.prefix(400))")
            #expect(await boss.post("/approvals/\(request)/approve", ["scope": "call"]).status == 303)
            #expect(await call.value.status == 200)
        }
    }
}
