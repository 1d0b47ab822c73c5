import Base

/// A tool failure a caller can act on. The router turns it into an error result whose text is
/// `message`; the code goes to the trace.
public typealias ToolError = CodedError<ToolErrorCode>

/// What kind of `ToolError` it is.
public enum ToolErrorCode: String, Sendable {
    case invalidArguments = "invalid_arguments"
    case notFound = "not_found"
    case forbidden
    case tooLarge = "too_large"
    case unsupported
    case cancelled
    case timeout
    case busy
    case failed
}
