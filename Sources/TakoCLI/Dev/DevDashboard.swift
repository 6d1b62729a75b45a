import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The full-screen view of `tako dev` on a terminal: the app, its state and URL, CPU, RAM
/// and sessions, then the log panel (repeats folded). Keys: q quit, r restart, c clear,
/// e jump to the end, ↑/↓ and PgUp/PgDn scroll.
final class DevDashboard {
    enum Key {
        case quit, restart, clear, end, up, down, pageUp, pageDown
    }

    struct Header {
        var app: String
        var state: String
        var pid: Int32?
        var urls: [String]
        var stats = ProcessStats.Sample()
        var sessions = 0
        var attached = false
        var notice: String?
    }

    private var saved = termios()
    private var active = false
    private var pending: [UInt8] = []
    /// Lines scrolled back from the end (0 follows new lines).
    private var scrollBack = 0

    func start() {
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        var raw = saved
        // No line buffering, no echo, and Ctrl-C arrives as a key (quit) instead of a signal.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        active = true
        // The alternate screen keeps the user's scrollback intact; the cursor is hidden.
        emit("\u{1B}[?1049h\u{1B}[?25l")
    }

    func stop() {
        guard active else { return }
        emit("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
        active = false
    }

    /// Keys typed since the last call (never blocks).
    func keys() -> [Key] {
        var poller = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 64)
        while poll(&poller, 1, 0) > 0, poller.revents & Int16(POLLIN) != 0 {
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            guard count > 0 else { break }
            pending += buffer[0..<count]
        }
        var keys: [Key] = []
        while !pending.isEmpty {
            if pending.starts(with: [0x1B, 0x5B]) {
                guard pending.count >= 3 else { break }
                switch pending[2] {
                case 0x41: keys.append(.up)
                case 0x42: keys.append(.down)
                case 0x35: keys.append(.pageUp)
                case 0x36: keys.append(.pageDown)
                default: break
                }
                // PgUp/PgDn end with '~'.
                let length = (pending[2] == 0x35 || pending[2] == 0x36) && pending.count >= 4 ? 4 : 3
                pending.removeFirst(min(length, pending.count))
                continue
            }
            switch pending.removeFirst() {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x03, 0x04: keys.append(.quit)
            case UInt8(ascii: "r"), UInt8(ascii: "R"): keys.append(.restart)
            case UInt8(ascii: "c"), UInt8(ascii: "C"): keys.append(.clear)
            case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "G"): keys.append(.end)
            case UInt8(ascii: "k"): keys.append(.up)
            case UInt8(ascii: "j"): keys.append(.down)
            default: break
            }
        }
        return keys
    }

    func scroll(_ key: Key, total: Int) {
        let page = max(1, Self.size().rows - 6)
        switch key {
        case .up: scrollBack += 1
        case .down: scrollBack -= 1
        case .pageUp: scrollBack += page
        case .pageDown: scrollBack -= page
        case .end: scrollBack = 0
        default: break
        }
        scrollBack = max(0, min(scrollBack, max(0, total - page)))
    }

    func render(_ header: Header, log: [RepeatFolder.Entry]) {
        guard active else { return }
        let (rows, columns) = Self.size()
        var lines: [String] = []
        let dot = header.state == "running" ? "\u{1B}[32m●\u{1B}[0m" : header.state == "failed" ? "\u{1B}[31m●\u{1B}[0m" : "\u{1B}[33m●\u{1B}[0m"
        let pid = header.pid.map { "  pid \($0)" } ?? ""
        let role = header.attached ? "  (attached)" : ""
        lines.append("\u{1B}[1m\(header.app)\u{1B}[0m  \(dot) \(header.state)\(pid)\(role)")
        let more = header.urls.count > 1 ? "  (and \(header.urls.count - 1) more)" : ""
        lines.append((header.urls.first ?? "") + more)
        let cpu = header.stats.cpuPercent.map { String(format: "%.1f%%", $0) } ?? "–"
        let ram = header.stats.rssBytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "–"
        lines.append("CPU \(cpu)   RAM \(ram)   sessions \(header.sessions)" + (header.notice.map { "   \($0)" } ?? ""))
        lines.append(String(repeating: "─", count: max(0, columns)))
        let panel = max(1, rows - lines.count - 1)
        let end = max(0, log.count - scrollBack)
        let visible = log[max(0, end - panel)..<end]
        for entry in visible { lines.append(Self.colour(entry)) }
        while lines.count < rows - 1 { lines.append("") }
        let position = scrollBack > 0 ? "  \u{1B}[7m scrolled back \(scrollBack) — e for the end \u{1B}[0m" : ""
        lines.append("\u{1B}[2mq quit  r restart  c clear  e end  ↑↓ scroll\u{1B}[0m" + position)
        var frame = "\u{1B}[H"
        for (index, line) in lines.prefix(rows).enumerated() {
            frame += Self.clip(line, to: columns) + "\u{1B}[K" + (index < rows - 1 ? "\r\n" : "")
        }
        emit(frame)
    }

    private static func colour(_ entry: RepeatFolder.Entry) -> String {
        let text = entry.rendered
        switch entry.record.level {
        case .error, .fatal: return "\u{1B}[31m\(text)\u{1B}[0m"
        case .warn: return "\u{1B}[33m\(text)\u{1B}[0m"
        case .debug: return "\u{1B}[2m\(text)\u{1B}[0m"
        case .info: return entry.record.scope == .tako ? "\u{1B}[36m\(text)\u{1B}[0m" : text
        }
    }

    /// Cuts a line to the terminal width, not counting escape sequences.
    private static func clip(_ line: String, to columns: Int) -> String {
        var visible = 0
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if inEscape {
                result.append(character)
                if character.isLetter { inEscape = false }
                continue
            }
            guard visible < columns else { continue }
            result.append(character == "\t" ? " " : character)
            visible += 1
        }
        return result + "\u{1B}[0m"
    }

    static func size() -> (rows: Int, columns: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else { return (24, 80) }
        return (Int(size.ws_row), Int(size.ws_col))
    }

    private func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
