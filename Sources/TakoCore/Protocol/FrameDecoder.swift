import Foundation

/// Splits a byte stream into newline-terminated frames without letting a peer make it
/// allocate without bound.
///
/// The length of the pending line is checked while bytes are appended, not when a newline
/// finally arrives, so a sender that never sends one is rejected once it passes
/// ``ManagementProtocol/maxFrameBytes``, however the bytes are chunked. Empty lines are
/// skipped. After an error the connection should be closed; the pending bytes are dropped.
public struct FrameDecoder: Sendable {
    public let maxFrameBytes: Int
    private var pending: [UInt8] = []

    public init(maxFrameBytes: Int = ManagementProtocol.maxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes received but not yet part of a complete frame.
    public var pendingByteCount: Int { pending.count }

    /// Adds received bytes and returns every frame they complete, without the newline.
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(ManagementProtocolError) -> [Data] {
        var frames: [Data] = []
        var oversize: Int?
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in appendChunk(buffer, into: &frames) }) {
            oversize = result
        } else {
            // Not contiguous (a lazy sequence, say): feed it in bounded chunks.
            var chunk: [UInt8] = []
            chunk.reserveCapacity(4096)
            for byte in bytes {
                chunk.append(byte)
                if chunk.count == 4096 {
                    oversize = appendChunk(chunk, into: &frames)
                    chunk.removeAll(keepingCapacity: true)
                    if oversize != nil { break }
                }
            }
            if oversize == nil { oversize = appendChunk(chunk, into: &frames) }
        }
        if let oversize {
            pending = []
            throw ManagementProtocolError.frameTooLarge(oversize)
        }
        return frames
    }

    /// Ends the stream: returns a final line that had no newline, if any.
    public mutating func finish() -> Data? {
        defer { pending = [] }
        return pending.isEmpty ? nil : Data(pending)
    }

    /// Returns the size a line reached when it went past the limit, nil otherwise.
    private mutating func appendChunk(_ buffer: some Collection<UInt8>, into frames: inout [Data]) -> Int? {
        var rest = buffer[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            let line = rest[..<newline]
            guard pending.count + line.count <= maxFrameBytes else { return pending.count + line.count }
            if pending.isEmpty {
                if !line.isEmpty { frames.append(Data(line)) }
            } else {
                pending.append(contentsOf: line)
                frames.append(Data(pending))
                pending.removeAll(keepingCapacity: true)
            }
            rest = rest[rest.index(after: newline)...]
        }
        guard pending.count + rest.count <= maxFrameBytes else { return pending.count + rest.count }
        pending.append(contentsOf: rest)
        return nil
    }
}
