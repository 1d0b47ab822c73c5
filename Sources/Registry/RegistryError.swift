import Base
import Foundation

/// The one error type of the Registry module. Every message names the thing it is about:
/// the database path, the source, the skill directory or the file.
public typealias RegistryError = CodedError<RegistryErrorCode>

/// What kind of `RegistryError` it is.
public enum RegistryErrorCode: String, Sendable {
    case database
    case migration
    case io
    case sourceNotFound
    case skillNotFound
    /// A quota is used up (pending approval requests per agent, ingested events per agent).
    case limit
    /// What was asked would change something that is not the asker's (a span the router recorded).
    case conflict
    /// `host.database` does not name a usable place (a malformed PostgreSQL URL).
    case location
}
