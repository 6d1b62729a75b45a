import Foundation

/// Live progress of work running on several servers at once.
///
/// On a terminal: one line per server, redrawn in place (at most ten times a second) with a
/// spinner for the current step and a bar while uploading. Otherwise: a plain line whenever a
/// server's step changes (and upload progress at each quarter), so logs stay readable.
final class ProgressBoard: @unchecked Sendable {
    private let terminal: Terminal
    private let names: [String]
    private let live: Bool
    private let lock = NSLock()
    private var steps: [String: String] = [:]
    private var uploads: [String: (sent: Int64, total: Int64)] = [:]
    private var lastQuarter: [String: Int64] = [:]
    private var drawn = 0
    private var frame = 0
    private var lastDraw = Date.distantPast
    private static let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    init(terminal: Terminal, names: [String]) {
        self.terminal = terminal
        self.names = names
        live = terminal.stderrIsTerminal && terminal.colour
    }

    /// `server` moved on to `step` ("connecting", "uploading", "rolling out", ...).
    func step(_ server: String, _ step: String) {
        lock.withLock {
            steps[server] = step
            uploads[server] = nil
            if live { draw(force: true) } else { terminal.say("[\(server)] \(step)") }
        }
    }

    func upload(_ server: String, sent: Int64, total: Int64) {
        lock.withLock {
            uploads[server] = (sent, total)
            if live {
                draw(force: sent == total)
            } else {
                let quarter = total > 0 ? sent * 4 / total : 4
                if quarter > (lastQuarter[server] ?? 0) {
                    lastQuarter[server] = quarter
                    terminal.say("[\(server)] uploaded \(quarter * 25)%")
                }
            }
        }
    }

    /// Advances the spinners (call every ~100 ms while work runs); nothing without a terminal.
    func tick() {
        lock.withLock {
            if live && drawn > 0 { draw(force: false) }
        }
    }

    /// Whether lines are redrawn in place (a terminal that allows colour).
    var isLive: Bool { live }

    /// The board is done: its lines stay as they were last drawn.
    func finish() {
        lock.withLock {
            if live { draw(force: true) }
            drawn = 0
        }
    }

    private func draw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        frame += 1
        var text = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        for name in names {
            var line = "\u{1B}[2K" + terminal.paint(Self.spinner[frame % Self.spinner.count], .cyan) + " " + terminal.paint(name, .bold) + "  "
            line += steps[name] ?? "waiting"
            if let (sent, total) = uploads[name], total > 0 {
                let width = 24
                let filled = Int(Double(width) * Double(sent) / Double(total))
                line += "  [" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "] "
                line += "\(sent * 100 / total)%"
            }
            text += line + "\n"
        }
        drawn = names.count
        FileHandle.standardError.write(Data(text.utf8))
    }
}
