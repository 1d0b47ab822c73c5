import ArgumentParser
import Foundation
import Host

/// `agenthub schema`: the JSON Schema of `registry.yaml` (for editors: `# yaml-language-server:
/// $schema=...`), generated from the one table of manifest keys; `--readme` rewrites the README's
/// settings table from the same table.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of registry.yaml (every key, its type, range, default and meaning).",
        discussion: "The schema and the README's settings table are generated from the table of manifest keys the loader reads with: registry.schema.json is this command's output.")

    @Option(name: .long, help: "Rewrite the settings table of this README (between its markers) instead of printing the schema.")
    var readme: String?

    @Flag(name: .long, help: "Print the settings table (Markdown) instead of the schema.")
    var settingsTable = false

    func run() throws {
        if settingsTable {
            print(ManifestSchema.settingsTable(), terminator: "")
            return
        }
        guard let readme else {
            print(ManifestSchema.documentText(), terminator: "")
            return
        }
        guard let text = try? String(contentsOfFile: readme, encoding: .utf8) else {
            Output.stderr("error: cannot read \(readme)")
            throw ExitCode(1)
        }
        guard let updated = ManifestSchema.readme(text) else {
            Output.stderr("error: \(readme) has no settings-table markers (\(ManifestSchema.tableStart) … \(ManifestSchema.tableEnd))")
            throw ExitCode(1)
        }
        do { try updated.write(toFile: readme, atomically: true, encoding: .utf8) } catch {
            Output.stderr("error: cannot write \(readme): \(error.localizedDescription)")
            throw ExitCode(1)
        }
    }
}
