import Core
import Host
import Registry

// The tests here run hosts on the SQLite registry and read it directly, beyond the core's stores.
extension HostContext {
    var db: RegistryDatabase { registry as! RegistryDatabase }
}
