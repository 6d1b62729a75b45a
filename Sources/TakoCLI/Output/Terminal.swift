import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The CLI's view of its terminal: where data goes (stdout), where people read (stderr),
/// whether colour is allowed, and how to ask questions.
///
/// Colour appears only when stderr is a terminal and `NO_COLOR` is unset; prompts appear only
/// when stdin is a terminal, so scripts and tests never hang on a question.
struct Terminal: Sendable {
    let stdinIsTerminal: Bool
    let stdoutIsTerminal: Bool
    let stderrIsTerminal: Bool
    let colour: Bool
    let verbose: Bool

    init(environment: [String: String], verbose: Bool = false) {
        stdinIsTerminal = isatty(STDIN_FILENO) == 1
        stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
        stderrIsTerminal = isatty(STDERR_FILENO) == 1
        colour = stderrIsTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        self.verbose = verbose
    }

    var isInteractive: Bool { stdinIsTerminal && stderrIsTerminal }

    // MARK: Output

    /// Data: what a script would capture.
    func data(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Human text: progress, confirmations, explanations.
    func say(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    func success(_ text: String) { say(paint("✓", .green) + " " + text) }

    func warning(_ text: String, hint: String? = nil) {
        say(paint("warning:", .yellow) + " " + text)
        if let hint { say(paint("hint:", .dim) + " " + hint) }
    }

    func error(_ text: String, hint: String? = nil) {
        say(paint("error:", .red) + " " + text)
        if let hint { say(paint("hint:", .dim) + " " + hint) }
    }

    func debug(_ text: String) {
        if verbose { say(paint("debug:", .dim) + " " + text) }
    }

    enum Style: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case blue = "34"
        case magenta = "35"
        case cyan = "36"
        case bold = "1"
        case dim = "2"
    }

    func paint(_ text: String, _ style: Style) -> String {
        colour ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    // MARK: Input

    /// Asks a yes/no question on a terminal; `defaultAnswer` when the user just presses Enter.
    func confirm(_ question: String, defaultAnswer: Bool = false) -> Bool {
        FileHandle.standardError.write(Data("\(question) \(defaultAnswer ? "[Y/n]" : "[y/N]") ".utf8))
        guard let line = readLine(strippingNewline: true) else { return false }
        let answer = line.trimmingCharacters(in: .whitespaces).lowercased()
        if answer.isEmpty { return defaultAnswer }
        return answer == "y" || answer == "yes"
    }

    /// The confirmation a consequential command needs unless `--yes`: the question on a
    /// terminal (false after saying `declined` when the answer is no), an error naming
    /// `--yes` without one. `action` is what needs it ("Deploying to production"), `verb`
    /// what `--yes` lets happen ("deploy").
    func confirmOrRequireYes(_ question: String, action: String, verb: String, declined: String) throws -> Bool {
        guard isInteractive else {
            throw CLIError("\(action) needs confirmation.", hint: "Pass --yes to \(verb) without a terminal.")
        }
        guard confirm(question) else {
            say(declined)
            return false
        }
        return true
    }

    /// Asks the user to pick one of `options` by number; nil when they give none.
    func choose(_ question: String, _ options: [String]) -> Int? {
        say(question)
        for (index, option) in options.enumerated() { say("  \(index + 1)) \(option)") }
        FileHandle.standardError.write(Data("Number (Enter to cancel): ".utf8))
        guard let line = readLine(strippingNewline: true), let number = Int(line.trimmingCharacters(in: .whitespaces)),
            (1...options.count).contains(number)
        else { return nil }
        return number - 1
    }

    /// Reads a secret: with echo off on a terminal, else one line from stdin. Returns nil at
    /// end of input.
    func readSecret(prompt: String) -> String? {
        guard stdinIsTerminal else { return readLine(strippingNewline: true) }
        // Echo goes off before the prompt appears, so nothing typed after it can be shown;
        // TCSAFLUSH drops what was typed ahead of the prompt for the same reason.
        var saved = termios()
        let hasTermios = tcgetattr(STDIN_FILENO, &saved) == 0
        if hasTermios {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        FileHandle.standardError.write(Data(prompt.utf8))
        let line = readLine(strippingNewline: true)
        if hasTermios { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        FileHandle.standardError.write(Data("\n".utf8))
        return line
    }
}
