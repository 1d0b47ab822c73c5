import Logging

/// swift-log's `StreamLogHandler`, with its output unchanged, but metadata set on a logger costs a
/// dictionary insert: `StreamLogHandler` formats all of a logger's metadata each time one key is
/// set, and the host sets keys on every request and call (Hummingbird's request id, the router's
/// tool and span) while it logs few of them. Here the metadata is kept as it is and formatted only
/// when a message is written.
public struct DeferredMetadataLogHandler: LogHandler {
    /// Writes the line: never given metadata of its own, so setting none costs nothing.
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(_ stream: StreamLogHandler) {
        var stream = stream
        metadataProvider = stream.metadataProvider
        metadata = stream.metadata
        stream.metadataProvider = nil
        stream.metadata = [:]
        self.stream = stream
    }

    /// On standard error, as `StreamLogHandler.standardError(label:)`.
    public static func standardError(label: String) -> Self { Self(StreamLogHandler.standardError(label: label)) }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// As `StreamLogHandler` merges them: the logger's metadata, then the provider's, then the message's.
    public func log(event: LogEvent) {
        var event = event
        let provided = metadataProvider?.get() ?? [:]
        if !metadata.isEmpty || !provided.isEmpty {
            var merged = metadata
            merged.merge(provided) { _, provided in provided }
            if let explicit = event.metadata { merged.merge(explicit) { _, explicit in explicit } }
            event.metadata = merged
        }
        stream.log(event: event)
    }
}
