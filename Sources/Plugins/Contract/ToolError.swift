/// A tool failure a caller can act on. The router turns it into an error result whose text is
/// `message`; the code goes to the trace.
public struct ToolError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
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

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
