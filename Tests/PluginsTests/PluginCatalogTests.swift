import Testing
@testable import Plugins

@Suite struct PluginCatalogTests {
    @Test func everyBuiltInToolNameIsOneClientsAccept() {
        for entry in PluginCatalog.builtin {
            for tool in entry.tools { #expect(PluginCatalog.isValidToolName(tool), "\(entry.plugin): \(tool)") }
        }
    }

    @Test func toolAndPluginNamesAreUnique() {
        let tools = PluginCatalog.builtin.flatMap(\.tools)
        #expect(Set(tools).count == tools.count)
        #expect(Set(PluginCatalog.pluginNames).count == PluginCatalog.pluginNames.count)
    }

    @Test func writeFileExistsOnlyAsAHighRiskTool() {
        let file = PluginCatalog.builtin.first { $0.plugin == "file" }
        #expect(file?.highRiskTools == ["write_file"])
    }

    @Test func toolNamesOutsideTheClientAlphabetOrOver64CharactersAreRejected() {
        #expect(!PluginCatalog.isValidToolName("read file"))
        #expect(!PluginCatalog.isValidToolName(""))
        #expect(!PluginCatalog.isValidToolName(String(repeating: "a", count: 65)))
        #expect(PluginCatalog.isValidToolName(String(repeating: "a", count: 64)))
    }
}
