import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// Hosts on one database: listed with their revision and last reload, and gone once they stop
/// heartbeating, their leases released.
@Suite(.serialized) struct PostgresHostsTests {
    static let logger = Logger(label: "test")

    @Test func aHostThatStopsHeartbeatingIsShownGoneAndItsLeaseIsFreed() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { return }
        let a = try await PostgresRegistry.open(location, logger: Self.logger), b = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { a.close(); b.close() }
        try await a.registerHost(HostRecord(id: "101@1", pid: 101, startTicks: "1", kind: "serve", config: "registry.yaml", startedAt: Date(),
                                            revision: "aaaaaaaaaaaa", http: "10.0.0.1:8080"), machine: "machine-a")
        try await b.registerHost(HostRecord(id: "202@2", pid: 202, startTicks: "2", kind: "serve", config: "registry.yaml", startedAt: Date(),
                                            revision: "aaaaaaaaaaaa", http: "10.0.0.2:8080"), machine: "machine-b")
        try await a.recordReload(host: "101@1", revision: "bbbbbbbbbbbb", trigger: "file", result: "rejected", message: "kept aaaaaaaaaaaa",
                                 errors: ["registry.yaml:3:5: unknown key"])
        // Leases are owned as a syncer names itself: MACHINE:PID:NONCE, not by the host row's id.
        #expect(try await b.acquireLease("team", owner: "machine-b:202:9f8e7d6c", for: .seconds(3600)) != nil)
        var listed = try await a.hosts(goneAfter: .seconds(30))
        #expect(listed.count == 2 && listed.allSatisfy(\.alive))
        let first = try #require(listed.first { $0.record.id == "101@1" })
        #expect(first.machine == "machine-a" && first.record.revision == "bbbbbbbbbbbb" && first.record.reloads == 1)
        #expect(first.record.lastReloadErrors == ["registry.yaml:3:5: unknown key"])
        // Host B stops (killed: no clean removal) and its last heartbeat ages past the limit; A keeps heartbeating.
        _ = try server.psql("UPDATE hosts SET heartbeat_at = now() - interval '20 minutes' WHERE id = '202@2'")
        try await a.heartbeat(host: "101@1")
        listed = try await a.hosts(goneAfter: .seconds(60))
        #expect(listed.first { $0.record.id == "202@2" }?.alive == false)
        #expect(listed.first { $0.record.id == "101@1" }?.alive == true)
        // Its hour-long lease did not wait for the hour.
        #expect(try await a.acquireLease("team", owner: "machine-a:101:1a2b3c4d", for: .seconds(60)) != nil)
        // A clean stop removes the row and what it held.
        try await a.removeHost("101@1")
        #expect(try await b.hosts(goneAfter: .seconds(30)).map(\.record.id) == ["202@2"])
        #expect(try server.psql("SELECT count(*) FROM sync_leases WHERE owner IS NOT NULL") == "0")

        // The host ledger forgets gone hosts by their heartbeat, never by a pid another machine's kernel knows nothing of.
        #expect(try await onOwnThread { try b.removeGoneHosts(isRunning: { _ in false }) } == ["202@2"])
        try await onOwnThread { try a.registerHost(HostRecord(id: "303@3", pid: 303, startTicks: "3", kind: "mcp", config: "registry.yaml",
                                                           startedAt: Date(), revision: "cccccccccccc", http: nil)) }
        #expect(try await onOwnThread { try b.removeGoneHosts(isRunning: { _ in false }) }.isEmpty, "a host heartbeating is not gone, whatever its pid")
        #expect(try await a.hosts(goneAfter: .seconds(30)).map(\.record.id) == ["303@3"])

        // What every host does at each heartbeat: a host gone a minute loses its lease at once and
        // stays listed, as gone, until it has been gone for `forgetAfter`.
        #expect(try await a.acquireLease("team", owner: "\(ProcessInfo.processInfo.hostName):303:5e6f7a8b", for: .seconds(3600)) != nil)
        _ = try server.psql("UPDATE hosts SET heartbeat_at = now() - interval '1 minute' WHERE id = '303@3'")
        #expect(try await onOwnThread { try b.removeGoneHosts(isRunning: { _ in true }) }.isEmpty)
        #expect(try server.psql("SELECT count(*) FROM sync_leases WHERE owner IS NOT NULL") == "0")
        #expect(try await a.hosts(goneAfter: .seconds(30)).map { "\($0.record.id) \($0.alive)" } == ["303@3 false"])
    }

}
