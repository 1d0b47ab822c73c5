import Foundation
import Testing

/// Inputs that used to kill the process with SIGILL (NSString path functions on short paths).
@Suite struct CrashRegressionCLITests {
    static let manifest = """
        version: 1
        policy:
          default: deny
          rules:
            - allow: [write_file, read_file, list_files]
        plugins:
          file: { roots: [./docs] }
        """

    @Test func aManifestFileWithAOneLetterNameIsChecked() throws {
        try withTemporaryDirectory { dir in
            try write(Self.manifest, to: "x", in: dir)
            try write("hello", to: "docs/hello.txt", in: dir)
            let result = try run(agenthubBinary(), ["check", "--config", "x"], in: dir)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try run(agenthubBinary(), ["tools", "list", "--config", "x"], in: dir).status == 0)
        }
    }

    @Test func writeFileWithOneCharacterPathsAnswersInsteadOfCrashing() throws {
        try withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            try FileManager.default.createDirectory(atPath: dir + "/docs", withIntermediateDirectories: true)
            for path in ["a", "~"] {
                let result = try run(agenthubBinary(), ["tools", "call", "write_file", "--args", "{\"path\":\"\(path)\",\"content\":\"x\"}"], in: dir)
                #expect(result.status == 0, "\(path): \(result.stderr)")
            }
            for path in [".", "./", "a\\u0000b"] {
                let result = try run(agenthubBinary(), ["tools", "call", "write_file", "--args", "{\"path\":\"\(path)\",\"content\":\"x\"}"], in: dir)
                #expect(result.status == 1, "\(path): \(result.status) \(result.stderr)")
            }
        }
    }

    @Test func aDatabasePathThatNamesNoFileIsAManifestError() throws {
        try withTemporaryDirectory { dir in
            for database in ["\"\"", ".", "./"] {
                try write("version: 1\nhost:\n  database: \(database)\n", to: "registry.yaml", in: dir)
                for command in [["check"], ["sources"], ["sync"], ["skills", "list"]] {
                    let result = try run(agenthubBinary(), command, in: dir)
                    #expect(result.status == 1, "\(database) \(command): \(result.status)")
                    #expect(result.stderr.contains("host.database must name a file"), "\(result.stderr)")
                }
            }
        }
    }
}
