import Base

/// The one rule for the shape of a call's arguments, for every front: absent or `null` means no
/// arguments (`{}`); anything but an object is refused. Fronts word the refusal for their wire
/// (HTTP 400, JSON-RPC invalid params, exit 64) around the same `problem`.
public enum ToolArguments {
    /// Why `arguments` cannot be a call's arguments ("must be a JSON object, got array"), nil when it can.
    public static func problem(in arguments: JSONValue?) -> String? {
        switch arguments {
        case nil, .null?, .object?: return nil
        case let other?: return "must be a JSON object, got \(other.typeName)"
        }
    }

    /// The arguments as the router takes them: nil for none.
    public static func given(_ arguments: JSONValue?) -> JSONValue? {
        arguments == .null ? nil : arguments
    }
}
