/// The shape of each module's one error type: a code that callers switch on (and that grows as
/// cases are added) and a message that names the thing. A module spells its own with a typealias:
/// `public typealias RegistryError = CodedError<RegistryErrorCode>`, so `RegistryError.Code` is its enum.
public struct CodedError<Kind: Hashable & Sendable>: Error, Sendable, Equatable, CustomStringConvertible {
    /// The module's enum of codes (`RegistryError.Code`).
    public typealias Code = Kind

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
