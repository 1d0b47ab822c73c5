import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<database>.migrate-lock`, held while a process opens and migrates the
/// registry: processes that start together on a fresh database migrate it once, one after another.
/// The kernel drops the lock if the holder dies, so a crashed process never blocks the next.
struct MigrationLock {
    private let fd: Int32

    init(databasePath: String) throws(RegistryError) {
        let lockPath = databasePath + ".migrate-lock"
        fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw RegistryError(.io, "cannot open the migration lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw RegistryError(.io, "cannot lock \(lockPath) to migrate the registry: \(reason)")
            }
        }
    }

    func release() {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
