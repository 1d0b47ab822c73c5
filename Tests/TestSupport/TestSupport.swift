import Foundation

/// Helpers every test target shares: temporary folders, files, child processes, the test virtualenv.

/// A temporary directory that exists for the duration of `body` and is removed afterwards.
public func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "agenthub-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Writes `text` to `root/relative`, creating folders.
public func write(_ text: String, to relative: String, in root: String) throws {
    try write(Data(text.utf8), to: relative, in: root)
}

public func write(_ data: Data, to relative: String, in root: String) throws {
    let path = root + "/" + relative
    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path))
}

/// The package root (where registry.yaml, registry.schema.json and .venv live).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The interpreter of the test virtualenv (`make test` creates it and sets AGENTHUB_PYTHON).
public func testPython() -> String? {
    if let path = ProcessInfo.processInfo.environment["AGENTHUB_PYTHON"], FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    let local = packageRoot + "/.venv/bin/python"
    return FileManager.default.isExecutableFile(atPath: local) ? local : nil
}

/// The `agenthub` executable built next to the running test bundle.
public func agenthubBinary() -> String {
    // Every agenthub a test starts dies with the test process, even when the runner is killed
    // (the variable is inherited by the children that take this process's environment).
    setenv("AGENTHUB_DIE_WITH_PARENT", "1", 1)
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().path + "/agenthub"
}

/// Runs a program to completion; returns its status, stdout and stderr.
@discardableResult
public func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                stdin: String? = nil, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    // Drain stderr on another thread so a chatty child cannot fill the pipe and block.
    nonisolated(unsafe) var errData = Data()
    let drained = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        drained.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The async form of `withTemporaryDirectory`.
public func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "agenthub-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// `run`, on a thread of its own: async tests use this so a child process that takes seconds never
/// holds one of the cooperative pool's few threads (timers and other tests need them).
public func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                stdin: String? = nil, environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result {
                try run(executable, arguments, in: directory, stdin: stdin, environment: environment) as (status: Int32, stdout: String, stderr: String)
            })
        }
    }
}

/// Runs `body` on a thread of its own and awaits it: for work that blocks (a server's `initdb`, a
/// registry ledger call) and must not hold one of the cooperative pool's few threads.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
