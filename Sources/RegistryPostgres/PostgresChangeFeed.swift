import Core
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Registry
import Synchronization

/// The change feed across hosts on one PostgreSQL database. A writer moves a topic's row in
/// `change_marks`; its trigger announces the topic on the `agenthub_changes` channel; every host
/// holds one connection that LISTENs there and moves its own copy of the mark as announcements
/// arrive. So `mark` is a lock and a dictionary read (it is asked on every cached read), and a
/// change made on one host is seen on the others as fast as PostgreSQL delivers the notification.
///
/// While the listening connection is down, notifications can be missed: on every (re)connection
/// all marks move, so caches drop what they hold and waiters look again.
public final class PostgresChangeFeed: ChangeFeed, Sendable {
    private struct State {
        var counters: [ChangeTopic: Int] = [:]
        /// Moves on every (re)connection of the listener.
        var epoch = 0
        var listening = false
        var problem: String?
    }

    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger
    private let state = Mutex(State())
    private let listener = Mutex<Task<Void, Never>?>(nil)
    static let channel = "agenthub_changes"

    init(client: PostgresClient, location: PostgresLocation, logger: Logger) {
        self.client = client
        self.location = location
        self.logger = logger
    }

    /// Starts listening (and keeps at it, reconnecting with backoff, until `stop`).
    func start() {
        let task = Task { [self] in await listen() }
        listener.withLock { $0 = task }
    }

    func stop() {
        listener.withLock { $0?.cancel() }
    }

    /// Whether the listening connection is up now; why not when it is not.
    public var listening: (up: Bool, problem: String?) { state.withLock { ($0.listening, $0.problem) } }

    /// Why the database cannot be reached, while the listener finds it so (nil before it first tried).
    var unreachable: String? { state.withLock { $0.listening ? nil : $0.problem } }

    public func mark(_ topic: ChangeTopic) -> String {
        state.withLock { "\($0.epoch).\($0.counters[topic, default: 0])" }
    }

    /// Moves the topic's row; the trigger announces it to every host, this one included (which
    /// also moves its own copy at once, so its next read does not wait for the round trip).
    public func touch(_ topic: ChangeTopic) {
        moved(topic)
        let client = self.client, logger = self.logger
        Task {
            do {
                try await client.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = \(topic.rawValue)", logger: logger)
            } catch {
                logger.warning("could not announce a change to other hosts", metadata: [
                    "registry.topic": "\(topic.rawValue)", "registry.error": "\(PostgresRegistry.describe(error))"])
            }
        }
    }

    /// Marks move when notified, so readers ask often and cheaply; every topic has a mark here.
    public func recheck(_ topic: ChangeTopic) -> Duration { .milliseconds(50) }

    private func moved(_ topic: ChangeTopic) {
        state.withLock { $0.counters[topic, default: 0] += 1 }
    }

    /// The listener is down (and may have missed announcements, so every mark moves).
    private func lost(_ why: String, onlyIfListening: Bool = false) {
        state.withLock { s in
            if onlyIfListening, !s.listening { return }
            s.listening = false
            s.problem = why
            s.epoch += 1
        }
    }

    private func listen() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let configuration = try PostgresRegistry.connectionConfiguration(location)
                let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                                      id: 1, logger: logger).get()
                defer { Task { try? await connection.close().get() } }
                // A connection the server closes may leave the notification sequence waiting: its
                // close is what says the database went away.
                connection.closeFuture.whenComplete { [self] _ in lost("the server closed the connection", onlyIfListening: true) }
                try await connection.listen(on: Self.channel) { notifications in
                    // Listening now: anything announced while we were not is unknown, so every mark moves.
                    state.withLock { s in
                        s.epoch += 1
                        s.listening = true
                        s.problem = nil
                    }
                    if failures > 0 { logger.notice("listening for changes from other hosts again", metadata: ["registry.failures": "\(failures)"]) }
                    failures = 0
                    for try await notification in notifications {
                        if let topic = ChangeTopic(rawValue: notification.payload) { moved(topic) }
                    }
                }
                // The server ended the connection (a shutdown, a restart, an administrator).
                if !Task.isCancelled { lost("the server closed the connection") }
            } catch {
                if Task.isCancelled { break }
                failures += 1
                let why = PostgresRegistry.describe(error)
                lost(why)
                if failures == 1 || failures % 10 == 0 {
                    logger.warning("not listening for changes from other hosts; retrying", metadata: [
                        "registry.database": "\(location)", "registry.error": "\(why)", "registry.failures": "\(failures)"])
                }
            }
            state.withLock { $0.listening = false }
            try? await Task.sleep(for: .milliseconds(min(2000, 100 << min(failures, 5))))
        }
    }
}
