import Foundation

/// One line of the shared dev log (`{TAKO_HOME}/dev/logs/{app}-{hash}.jsonl`): app output and
/// the daemon's own events in one stream, so every attached `tako dev` sees what the owner
/// sees. Encoded as one JSON object per line.
public struct DevLogRecord: Codable, Equatable, Sendable {
    public enum Level: String, Codable, Sendable, CaseIterable {
        case debug = "DEBUG"
        case info = "INFO"
        case warn = "WARN"
        case error = "ERROR"
        case fatal = "FATAL"
    }

    public enum Scope: String, Codable, Sendable {
        /// The dev daemon: starting, stopping, errors.
        case tako
        /// The app's stdout and stderr.
        case app
    }

    /// App lifecycle, carried in the same stream so attached sessions follow it too.
    public enum State: String, Codable, Sendable {
        case starting, running, stopped, failed
    }

    public var time: Date
    public var level: Level
    public var scope: Scope
    public var message: String
    public var state: State?
    public var pid: Int32?

    public init(time: Date, level: Level, scope: Scope, message: String, state: State? = nil, pid: Int32? = nil) {
        self.time = time
        self.level = level
        self.scope = scope
        self.message = message
        self.state = state
        self.pid = pid
    }

    /// An app output line, its level read from how it starts (`WARN …`, `[error] …`,
    /// `2024-… DEBUG …`); lines that say nothing are INFO, or WARN on stderr.
    public static func app(_ line: String, stderr: Bool, time: Date = Date()) -> DevLogRecord {
        DevLogRecord(time: time, level: inferLevel(line) ?? (stderr ? .warn : .info), scope: .app, message: line)
    }

    /// The level a line names among its first few words: DEBUG, INFO, WARN(ING), ERROR, FATAL,
    /// TRACE counting as DEBUG. A word counts when written in capitals, bracketed (`[warn]`) or
    /// followed by ':' (`Warning:`), so prose that merely starts with "critical" or "error
    /// handling" stays INFO.
    public static func inferLevel(_ line: String) -> Level? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(4)
        for word in words {
            let bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]():|<>"))
            let marked = word.first == "[" || word.first == "(" || word.first == "<" || word.last == ":" || word.last == "|"
            guard marked || bare == bare.uppercased() else { continue }
            switch bare.uppercased() {
            case "TRACE", "DEBUG", "DBG": return .debug
            case "INFO", "INF": return .info
            case "WARN", "WARNING", "WRN": return .warn
            case "ERROR", "ERR": return .error
            case "FATAL", "CRITICAL", "PANIC": return .fatal
            default: continue
            }
        }
        return nil
    }

    // MARK: JSON lines

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            guard let date = (try? Date(text, strategy: style)) ?? (try? Date(text, strategy: .iso8601)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an ISO 8601 time"))
            }
            return date
        }
        return decoder
    }()

    /// One JSON line, newline included.
    public func jsonLine() -> Data {
        ((try? Self.encoder.encode(self)) ?? Data("{}".utf8)) + Data("\n".utf8)
    }

    /// A line of the log file; nil for anything else (a torn last line, say).
    public static func parse(_ line: some StringProtocol) -> DevLogRecord? {
        try? decoder.decode(DevLogRecord.self, from: Data(line.utf8))
    }

    /// How the dashboard and `--no-tui` print it: `hh:mm:ss LEVEL [scope] message`.
    public func rendered(timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute, .second], from: time)
        let clock = String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        return "\(clock) \(level.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) [\(scope.rawValue)] \(message)"
    }
}

/// Folds runs of the same message into one line and a count ("also 3 more times"), as the
/// dashboard's log panel shows them.
public struct RepeatFolder: Sendable {
    public struct Entry: Equatable, Sendable {
        public var record: DevLogRecord
        /// How many more times the same scope and message came right after.
        public var repeats: Int

        public var rendered: String {
            repeats == 0 ? record.rendered() : record.rendered() + "  (also \(repeats) more time\(repeats == 1 ? "" : "s"))"
        }
    }

    public private(set) var entries: [Entry] = []
    /// Entries kept (oldest dropped first).
    public let limit: Int

    public init(limit: Int = 1000) {
        self.limit = limit
    }

    public mutating func add(_ record: DevLogRecord) {
        if let last = entries.last, last.record.message == record.message, last.record.scope == record.scope {
            entries[entries.count - 1].repeats += 1
            return
        }
        entries.append(Entry(record: record, repeats: 0))
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
    }

    public mutating func clear() {
        entries.removeAll()
    }
}
