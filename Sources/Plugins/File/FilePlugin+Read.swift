import Foundation
import Registry
#if canImport(Glibc)
import Glibc
#endif

extension FilePlugin {
    func read(_ args: ToolArguments) throws -> ToolResult {
        let path = try args.string("path")
        let head = try args.optionalInt("head", in: 1...1_000_000)
        let tail = try args.optionalInt("tail", in: 1...1_000_000)
        if head != nil, tail != nil { throw ToolError(.invalidArguments, "head and tail: give one or the other") }
        let cap = min(try args.optionalInt("max_bytes", in: 1...settings.maxBytes) ?? settings.maxBytes, settings.maxBytes)
        let encoding = try args.optionalString("encoding") ?? "text"
        guard encoding == "text" || encoding == "base64" else {
            throw ToolError(.invalidArguments, "encoding: expected text or base64, got '\(encoding)'")
        }
        let (fd, info) = try openRegularFile(path)
        defer { close(fd) }
        let size = Int(info.st_size)
        var bytes: [UInt8]
        var truncated: Bool
        if let tail {
            (bytes, truncated) = try readTail(fd, size: size, lines: tail, cap: cap, path: path)
        } else {
            (bytes, truncated) = try readHead(fd, lines: head, cap: cap, path: path)
        }
        if encoding == "base64" {
            let content = Data(bytes).base64EncodedString()
            return .structured(["path": .string(path), "content": .string(content), "truncated": .bool(truncated),
                                "size": .int(size), "encoding": "base64"], text: content)
        }
        if let binary = FileTools.binaryReason(bytes, truncatedAtCap: truncated) {
            throw ToolError(.unsupported, "'\(path)' looks binary (\(binary)); pass encoding: \"base64\" to read it")
        }
        if truncated { bytes = FileTools.trimToCharacterBoundary(bytes) }
        let content = String(decoding: bytes, as: UTF8.self)
        return .structured(["path": .string(path), "content": .string(content), "truncated": .bool(truncated),
                            "size": .int(size), "encoding": "text"], text: content)
    }

    /// Up to `cap` bytes from the start, stopping after `lines` lines when given.
    func readHead(_ fd: Int32, lines: Int?, cap: Int, path: String) throws(ToolError) -> ([UInt8], Bool) {
        var out: [UInt8] = []
        var newlines = 0
        let size = min(64 * 1024, cap + 1)
        var buffer = [UInt8](unsafeUninitializedCapacity: size) { _, count in count = size }
        while out.count < cap {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, cap - out.count + 1)) }
            if n < 0 { throw FileRoots.error(errno, path) }
            if n == 0 { return (out, false) }
            // How much of this chunk to keep: all of it, or up to the line that completes `lines`.
            var keep = n
            var complete = false
            if let lines {
                buffer.withUnsafeBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    var offset = 0
                    while offset < n, let hit = memchr(base + offset, 0x0A, n - offset) {
                        newlines += 1
                        offset = base.distance(to: UnsafeRawPointer(hit)) + 1
                        if newlines == lines {
                            keep = offset
                            complete = true
                            return
                        }
                    }
                }
            }
            let room = cap - out.count
            if keep > room {
                out.append(contentsOf: buffer[0..<room])
                return (out, true)
            }
            out.append(contentsOf: buffer[0..<keep])
            if complete { return (out, false) }
        }
        var probe: UInt8 = 0
        return (out, Glibc.read(fd, &probe, 1) == 1)
    }

    /// The last `lines` lines, at most `cap` bytes of them.
    func readTail(_ fd: Int32, size: Int, lines: Int, cap: Int, path: String) throws(ToolError) -> ([UInt8], Bool) {
        var chunks: [[UInt8]] = []
        var collected = 0
        var newlines = 0
        var end = size
        let block = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: block)
        outer: while end > 0 && collected < cap {
            let start = max(0, end - block)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - start, off_t(start)) }
            if n < 0 { throw FileRoots.error(errno, path) }
            if n == 0 { break }
            var slice = Array(buffer[0..<n])
            // A final newline ends the last line rather than starting an empty one.
            var index = slice.count - 1
            while index >= 0 {
                if slice[index] == 0x0A, !(end == size && start + index == size - 1) {
                    newlines += 1
                    if newlines == lines {
                        slice = Array(slice[(index + 1)...])
                        chunks.append(slice)
                        collected += slice.count
                        break outer
                    }
                }
                index -= 1
            }
            chunks.append(slice)
            collected += slice.count
            end = start
        }
        var out = Array(chunks.reversed().joined())
        var truncated = false
        if out.count > cap {
            out = Array(out.suffix(cap))
            truncated = true
            while let first = out.first, first & 0xC0 == 0x80 { out.removeFirst() }
        }
        return (out, truncated)
    }
}
