import Foundation
import TakoCore

/// Reads a project's shared dev log as it grows: every record from the start (attached
/// sessions replay, then follow), then each new one. A file that shrank was truncated by a
/// new owner: reading starts over, and `restarted` says so.
struct DevLogTail {
    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()

    init(path: String) {
        self.path = path
    }

    mutating func read() -> (records: [DevLogRecord], restarted: Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ([], false) }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        var restarted = false
        if size < offset {
            offset = 0
            partial = Data()
            restarted = true
        }
        guard size > offset else { return ([], restarted) }
        try? handle.seek(toOffset: offset)
        let chunk = (try? handle.read(upToCount: Int(min(size - offset, 4 << 20)))) ?? Data()
        offset += UInt64(chunk.count)
        partial.append(chunk)
        var records: [DevLogRecord] = []
        // Only complete lines: the last one may still be being written.
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            let line = partial[partial.startIndex..<newline]
            partial = Data(partial[partial.index(after: newline)...])
            if let record = DevLogRecord.parse(String(decoding: line, as: UTF8.self)) { records.append(record) }
        }
        return (records, restarted)
    }
}
