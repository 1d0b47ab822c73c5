import Foundation
@testable import Host

/// A temporary directory that exists for the duration of `body`.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "agenthub-host-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func write(_ text: String, to relative: String, in root: String) throws {
    let path = root + "/" + relative
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// The package root (where registry.yaml and registry.schema.json live).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The diagnostics a manifest text produces ("LINE:COL: message" each), or [] when it is valid.
func problems(_ yaml: String, environment: [String: String] = [:]) -> [String] {
    do {
        _ = try ManifestLoader.parse(yaml, file: "registry.yaml", environment: environment)
        return []
    } catch {
        return error.diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
}

/// The `agenthub` executable built next to this test bundle.
func agenthubBinary() -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (exe as NSString).deletingLastPathComponent + "/agenthub"
}

@discardableResult
func run(_ executable: String, _ arguments: [String], in directory: String? = nil, stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

func testPython() -> String? {
    if let path = ProcessInfo.processInfo.environment["AGENTHUB_PYTHON"], FileManager.default.isExecutableFile(atPath: path) { return path }
    let local = packageRoot + "/.venv/bin/python"
    return FileManager.default.isExecutableFile(atPath: local) ? local : nil
}
