import Foundation
import TakoCore

/// Appends records to one project's shared log (`{TAKO_HOME}/dev/logs/{key}.jsonl`, mode
/// 0600: app output can hold anything). Each record is one `write` on an `O_APPEND`
/// descriptor, so a reader never sees half a line unless it reads mid-write, and readers
/// that tail the file skip an incomplete last line until it ends.
final class DevLogWriter: Sendable {
    let path: String
    private let fd: Locked<Int32>

    init(path: String, truncate: Bool) throws(UserError) {
        self.path = path
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o600)
        guard descriptor >= 0 else {
            throw UserError("cannot open the dev log \(path): \(String(cString: strerror(errno)))", hint: "check the permissions of \(path)")
        }
        fd = Locked(descriptor)
    }

    deinit {
        fd.withLock { _ = close($0) }
    }

    func append(_ record: DevLogRecord) {
        let line = record.jsonLine()
        fd.withLock { descriptor in
            _ = FileDescriptor.writeAll(descriptor, line)
        }
    }

    /// A new owner starts the stream afresh (attached sessions see it shrink and start over).
    func truncate() {
        fd.withLock { _ = ftruncate($0, 0) }
    }

    /// A line of the supervisor's log (`{time} [instance 1 stdout] text`, `{time} [tako tako] text`)
    /// as a record: app output keeps its inferred level; the supervisor's own lines are `tako`.
    static func record(fromSupervisorLine line: String, time: Date = Date()) -> DevLogRecord {
        var rest = Substring(line)
        if let space = rest.firstIndex(of: " ") { rest = rest[rest.index(after: space)...] }
        guard rest.first == "[", let close = rest.firstIndex(of: "]") else {
            return DevLogRecord(time: time, level: .info, scope: .tako, message: line)
        }
        let who = rest[rest.index(after: rest.startIndex)..<close]
        let text = String(rest[close...].dropFirst().drop(while: { $0 == " " }))
        switch who.split(separator: " ").last {
        case "stdout": return .app(text, stderr: false, time: time)
        case "stderr": return .app(text, stderr: true, time: time)
        default:
            let failing = ["did not", "could not", "failed", "exited with", "killed by"].contains { text.contains($0) }
            return DevLogRecord(time: time, level: failing ? .warn : .info, scope: .tako, message: text)
        }
    }
}
