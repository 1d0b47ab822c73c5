import Foundation
@testable import Registry

/// A temporary directory that exists for the duration of `body` and is removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "agenthub-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Writes `text` to `root/relative`, creating folders.
func write(_ text: String, to relative: String, in root: String) throws {
    try write(Data(text.utf8), to: relative, in: root)
}

func write(_ data: Data, to relative: String, in root: String) throws {
    let path = root + "/" + relative
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path))
}

/// A valid SKILL.md for `name`.
func skillMarkdown(_ name: String, description: String? = nil, body: String = "Instructions.") -> String {
    "---\nname: \(name)\ndescription: \(description ?? "Does \(name) things.")\n---\n\(body)\n"
}

/// Parses SKILL.md text found in a directory named `directory`.
func parse(_ text: String, in directory: String = "demo") -> ParsedSkill {
    ParsedSkill.parse(Data(text.utf8), directoryName: directory)
}

/// The interpreter of the test virtualenv (`make test` creates it and sets AGENTHUB_PYTHON).
func testPython() -> String? {
    if let path = ProcessInfo.processInfo.environment["AGENTHUB_PYTHON"], FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    let local = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
    return FileManager.default.isExecutableFile(atPath: local) ? local : nil
}

/// Runs a program and returns its stdout; stderr is returned too.
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
