/// Reads a `text/event-stream` body as it arrives, in chunks cut anywhere, into events: `event:`
/// names it, `data:` lines join with newlines, `id:` is kept, a blank line ends it, comments (`:`)
/// are skipped. An event whose data grows past `maxEventBytes` is dropped whole and reported.
struct EventStreamParser {
    struct Event: Equatable {
        var name = "message"
        var data: [UInt8] = []
        var id: String?
    }
    enum Output: Equatable {
        case event(Event)
        /// An event over the limit, dropped: its size so far, and the start of its data.
        case oversized(count: Int, prefix: [UInt8])
    }

    let maxEventBytes: Int
    private var line: [UInt8] = []
    private var pending = Event()
    private var hasData = false
    private var oversized: Int?
    private var lastWasCR = false
    /// The last `id:` seen, for resuming a stream.
    private(set) var lastEventId: String?

    init(maxEventBytes: Int) { self.maxEventBytes = maxEventBytes }

    /// Feeds bytes; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Output] {
        var out: [Output] = []
        for byte in bytes {
            if byte == 0x0A && lastWasCR { lastWasCR = false; continue }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let done = endLine() { out.append(done) }
            } else if line.count <= maxEventBytes + 16 {
                line.append(byte)
            } else if oversized == nil {
                oversized = pending.data.count + line.count
            } else {
                oversized! += 1
            }
        }
        return out
    }

    private mutating func endLine() -> Output? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var value = colon.map { line[line.index(after: $0)...] } ?? []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch field {
        case "event": pending.name = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData { pending.data.append(0x0A) }
            hasData = true
            if oversized == nil, pending.data.count + value.count > maxEventBytes {
                oversized = pending.data.count + value.count
            }
            if let count = oversized {
                oversized = max(count, pending.data.count + value.count)
                if pending.data.count < 256 { pending.data.append(contentsOf: value.prefix(256)) }
            } else {
                pending.data.append(contentsOf: value)
            }
        case "id" where !value.contains(0):
            pending.id = String(decoding: value, as: UTF8.self)
            lastEventId = pending.id
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> Output? {
        defer {
            pending = Event()
            hasData = false
            oversized = nil
        }
        if let count = oversized { return .oversized(count: count, prefix: Array(pending.data.prefix(256))) }
        guard hasData else { return nil }
        return .event(pending)
    }
}
