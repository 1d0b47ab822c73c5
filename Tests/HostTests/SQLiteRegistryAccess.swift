import Core
import Registry
@testable import Host

// The tests here run hosts on the SQLite registry and read it directly, beyond the core's stores.
extension HostContext {
    var db: RegistryDatabase { registry as! RegistryDatabase }
}

extension SourceSyncer {
    var db: RegistryDatabase { registry as! RegistryDatabase }
}

extension HostState {
    var db: RegistryDatabase { registry as! RegistryDatabase }
}
