#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .signaled(let number): return "was killed by signal \(number)\(Self.signalName(number).map { " (\($0))" } ?? "")"
        }
    }

    static func signalName(_ number: Int32) -> String? {
        switch number {
        case SIGKILL: return "SIGKILL"
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGPIPE: return "SIGPIPE"
        case SIGHUP: return "SIGHUP"
        default: return nil
        }
    }
}
