import Foundation
import Testing

@testable import TakoCore

@Suite("The shared dev log")
struct DevLogRecordTests {
    @Test("levels are read from a line's first words", arguments: [
        ("WARN disk almost full", DevLogRecord.Level.warn), ("[error] cannot connect", .error), ("2026-11-26T10:00:00Z DEBUG tick", .debug),
        ("level=info msg", nil), ("trace: entering", .debug), ("FATAL: out of memory", .fatal), ("Warning: deprecated", .warn),
        ("GET /index.html 200", nil), ("informational text", nil), ("critical section entered", nil),
        ("error handling improved", nil), ("INFO ready", .info), ("<warn> low", .warn),
    ] as [(String, DevLogRecord.Level?)])
    func levels(line: String, level: DevLogRecord.Level?) {
        #expect(DevLogRecord.inferLevel(line) == level)
    }

    @Test("app lines without a level are INFO, or WARN from stderr")
    func defaults() {
        #expect(DevLogRecord.app("listening on 3000", stderr: false).level == .info)
        #expect(DevLogRecord.app("something odd", stderr: true).level == .warn)
        #expect(DevLogRecord.app("ERROR boom", stderr: false).level == .error)
    }

    @Test("records round-trip as JSON lines; torn lines are skipped")
    func jsonLines() throws {
        let time = Date(timeIntervalSince1970: 1_764_151_200.25)
        let record = DevLogRecord(time: time, level: .info, scope: .tako, message: "started \"web\"\nline two", state: .running, pid: 42)
        let line = record.jsonLine()
        #expect(line.last == UInt8(ascii: "\n") && line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        let text = String(decoding: line.dropLast(), as: UTF8.self)
        #expect(text.contains("\"time\":\"2025-11-26T10:00:00.250Z\""), "\(text)")
        #expect(DevLogRecord.parse(text) == record)
        #expect(DevLogRecord.parse(String(text.prefix(20))) == nil)
    }

    @Test("rendered as hh:mm:ss LEVEL [scope] message")
    func rendering() {
        let record = DevLogRecord(time: Date(timeIntervalSince1970: 3723), level: .warn, scope: .app, message: "slow")
        #expect(record.rendered(timeZone: TimeZone(identifier: "UTC")!) == "01:02:03 WARN  [app] slow")
    }

    @Test("repeats fold into one line with a count; a different line starts a new entry; the oldest go first")
    func folding() {
        var folder = RepeatFolder(limit: 3)
        let time = Date(timeIntervalSince1970: 0)
        for message in ["ping", "ping", "ping", "pong", "ping", "a", "b"] {
            folder.add(DevLogRecord(time: time, level: .info, scope: .app, message: message))
        }
        #expect(folder.entries.map(\.record.message) == ["ping", "a", "b"])
        var fresh = RepeatFolder()
        for _ in 0..<3 { fresh.add(DevLogRecord(time: time, level: .info, scope: .app, message: "ping")) }
        #expect(fresh.entries.count == 1 && fresh.entries[0].repeats == 2)
        #expect(fresh.entries[0].rendered.hasSuffix("[app] ping  (also 2 more times)"))
        fresh.clear()
        #expect(fresh.entries.isEmpty)
    }
}
