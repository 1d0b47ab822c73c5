/// A child process that could not be started or spoken to; the message names the command.
public struct ChildError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The program could not be started (not found, not executable, a bad working directory).
        case spawn
        /// A pipe could not be created.
        case pipe
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
