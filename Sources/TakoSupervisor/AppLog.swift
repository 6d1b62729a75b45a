import Foundation
import TakoCore

/// An app's log, `shared/logs/current.log`: one line per output line of any instance, with
/// the time, the instance and the stream. Rotated at `maxBytes` into `current.log.1` ...
/// `current.log.{keep}` (oldest dropped).
///
/// Lines come from the reader threads of every instance, so writes are serialised by a lock;
/// each line is one `write` on an `O_APPEND` descriptor, so lines never interleave.
public final class AppLog: Sendable {
    public enum Stream: String, Sendable {
        case stdout, stderr
        /// Lines the server itself writes about the app (started, exited, ...).
        case tako
    }

    public let directory: String
    public let maxBytes: Int
    public let keep: Int
    private let state: Locked<(fd: Int32, size: Int)>
    /// Followers (`logs --follow`) get every line as it is written.
    private let followers = Locked<(next: Int, handlers: [Int: @Sendable (String) -> Void])>((0, [:]))

    public var path: String { directory + "/current.log" }

    public init(directory: String, maxBytes: Int = 10 << 20, keep: Int = 5) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        self.keep = keep
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/current.log"
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SupervisorError("cannot open the app log \(path)", errno: errno) }
        var info = stat()
        fstat(fd, &info)
        state = Locked((fd, Int(info.st_size)))
    }

    deinit {
        _ = state.withLock { close($0.fd) }
    }

    public func append(instance: Int?, stream: Stream, _ text: some StringProtocol) {
        let who = instance.map { "instance \($0)" } ?? "tako"
        var line = "\(Self.timestamp()) [\(who) \(stream.rawValue)] \(text)"
        if !line.hasSuffix("\n") { line += "\n" }
        var bytes = Array(line.utf8)
        state.withLock { state in
            if state.size > 0, state.size + bytes.count > maxBytes { rotate(&state) }
            let written = bytes.withUnsafeMutableBytes { write(state.fd, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
            // Inside the lock, so followers see lines in file order.
            let handlers = followers.withLock { $0.handlers.values }
            if !handlers.isEmpty {
                line.removeLast()
                for handler in handlers { handler(line) }
            }
        }
        bytes.removeAll()
    }

    /// Calls `handler` with every line written from now on (it must not block); returns the
    /// token for `unfollow`.
    public func follow(_ handler: @escaping @Sendable (String) -> Void) -> Int {
        followers.withLock { followers in
            followers.next += 1
            followers.handlers[followers.next] = handler
            return followers.next
        }
    }

    public func unfollow(_ token: Int) {
        _ = followers.withLock { $0.handlers.removeValue(forKey: token) }
    }

    private func rotate(_ state: inout (fd: Int32, size: Int)) {
        let path = self.path
        unlink("\(path).\(keep)")
        if keep > 1 {
            for index in stride(from: keep - 1, through: 1, by: -1) {
                rename("\(path).\(index)", "\(path).\(index + 1)")
            }
        }
        rename(path, "\(path).1")
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return }  // keep writing to the rotated file rather than lose lines
        close(state.fd)
        state = (fd, 0)
    }

    /// The last `count` lines, reaching into rotated files when the current one is short.
    public func lastLines(_ count: Int) -> [String] {
        guard count > 0 else { return [] }
        var lines: [String] = []
        for index in 0...keep {
            let file = index == 0 ? path : "\(path).\(index)"
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            var fileLines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            fileLines.append(contentsOf: lines)
            lines = fileLines
            if lines.count >= count { break }
        }
        return Array(lines.suffix(count))
    }

    /// UTC with milliseconds, `2026-11-25T21:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
