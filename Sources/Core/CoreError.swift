import Base

/// The one error type of the core services. Fronts switch on `code` to pick their wire shape
/// (a JSON-RPC error, an HTTP status, an exit code); the message names the thing.
public typealias CoreError = CodedError<CoreErrorCode>

/// What kind of `CoreError` it is.
public enum CoreErrorCode: String, Sendable {
    /// What was asked for does not exist, or the caller may not see it (the two look the same).
    case notFound
    /// The request itself is wrong (a bad page, a path that is not a file).
    case invalid
    /// The store could not answer.
    case storage
    /// The change conflicts with what is stored (an event joining a span it does not own).
    case conflict
    /// The caller may see it but not do this to it (retry another agent's task).
    case forbidden
    /// This host cannot do it at all (it runs no tasks).
    case unavailable
}
