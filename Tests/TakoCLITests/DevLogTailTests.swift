import Foundation
import Testing

@testable import TakoCLI
@testable import TakoCore

@Suite("tako dev follows the shared log")
struct DevLogTailTests {
    @Test("complete lines only, then new ones; a truncated file starts over")
    func tail() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tako-tail-\(UUID().uuidString.prefix(8)).jsonl").path
        defer { unlink(path) }
        let first = DevLogRecord(time: Date(timeIntervalSince1970: 1), level: .info, scope: .tako, message: "one")
        let second = DevLogRecord(time: Date(timeIntervalSince1970: 2), level: .warn, scope: .app, message: "two")
        var torn = first.jsonLine()
        let secondLine = second.jsonLine()
        torn.append(secondLine.prefix(10))
        try torn.write(to: URL(fileURLWithPath: path))
        var tail = DevLogTail(path: path)
        var read = tail.read()
        #expect(read.records.map(\.message) == ["one"] && !read.restarted, "the torn last line waits")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: secondLine.dropFirst(10))
        try handle.close()
        read = tail.read()
        #expect(read.records.map(\.message) == ["two"])
        #expect(tail.read().records.isEmpty)
        // A new owner truncates the file and writes afresh.
        let fresh = DevLogRecord(time: Date(timeIntervalSince1970: 3), level: .info, scope: .tako, message: "three")
        try fresh.jsonLine().write(to: URL(fileURLWithPath: path))
        read = tail.read()
        #expect(read.restarted && read.records.map(\.message) == ["three"])
    }
}
