import Base

/// A child process that could not be started or spoken to; the message names the command.
public typealias ChildError = CodedError<ChildErrorCode>

/// What kind of `ChildError` it is.
public enum ChildErrorCode: String, Sendable {
    /// The program could not be started (not found, not executable, a bad working directory).
    case spawn
    /// A pipe could not be created.
    case pipe
}
