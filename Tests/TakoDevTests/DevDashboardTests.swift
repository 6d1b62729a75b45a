import Foundation
import TakoTestSupport
import Testing

/// The `tako dev` dashboard on a real terminal: tmux runs it, `send-keys` types, and
/// `capture-pane` reads the screen.
@Suite("tako dev dashboard in tmux", .serialized)
struct DevDashboardTests {
    final class Tmux {
        let socket: String
        let session = "dev"

        init(root: URL, command: String, environment: [String: String]) throws {
            socket = root.appendingPathComponent("tmux.sock").path
            let script = root.appendingPathComponent("dashboard.sh")
            var lines = environment.map { "export \($0.key)='\($0.value.replacingOccurrences(of: "'", with: "'\\''"))'" }
            lines.append("\(command)\necho \"EXITED $?\"\nsleep 60")
            try lines.joined(separator: "\n").write(to: script, atomically: true, encoding: .utf8)
            // The tmux server outlives the command and keeps every descriptor it inherited, so
            // nothing may wait for its output to end: the shell says when tmux has returned.
            let starter = try ChildProcess([
                "/bin/sh", "-c", "/usr/bin/tmux -S \"$0\" new-session -d -s dev -x 110 -y 24 \"bash $1\" >/dev/null 2>&1 </dev/null; echo $?",
                socket, script.path,
            ], readyWithin: 30)
            starter.waitForExit()
            guard starter.firstLine == "0" else { throw TestSupportError(message: "tmux new-session failed: \(starter.firstLine)") }
        }

        deinit {
            _ = try? tmux(["kill-server"])
        }

        @discardableResult
        func tmux(_ arguments: [String]) throws -> ProgramResult {
            try Program.run("/usr/bin/tmux", ["-S", socket] + arguments)
        }

        var screen: String { (try? tmux(["capture-pane", "-p", "-t", session]).stdout) ?? "" }

        func keys(_ keys: String...) throws {
            try tmux(["send-keys", "-t", session] + keys)
        }

        /// Waits until the screen satisfies `condition`; the last screen for the failure message.
        func wait(_ seconds: Double = 20, _ condition: (String) -> Bool) -> (Bool, String) {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let text = screen
                if condition(text) { return (true, text) }
                usleep(100_000)
            }
            let text = screen
            return (condition(text), text)
        }
    }

    static func headerPid(_ screen: String) -> String? {
        guard let line = screen.split(separator: "\n").first(where: { $0.contains("● running") }),
            let range = line.range(of: "pid ")
        else { return nil }
        return String(line[range.upperBound...].prefix { $0.isNumber })
    }

    @Test("state, URL, CPU, RAM, sessions and the folded log; r restarts, c clears, q quits")
    func dashboard() throws {
        let bed = try DevTestBed()
        // The system store is this machine's; the test user's NSS database is the test's own.
        bed.environment["TAKO_DEV_SYSTEM_TRUST"] = "0"
        let shop = try bed.project("shop", toml: DevTestBed.toml("shop"))
        let tmux = try Tmux(
            root: bed.root, command: "\(BuiltProducts.path("tako")) dev \(shop.path)", environment: bed.environment)

        // First run on a terminal: the trust step explains itself, asks, and adds the CA to the
        // user's NSS database (made by certutil when missing).
        var (seen, screen) = tmux.wait { $0.contains("Trust the Tako Dev CA? [Y/n]") }
        #expect(seen, "\(screen)")
        #expect(screen.contains("tako dev serves HTTPS with certificates from its own local CA"))
        #expect(screen.contains("\(bed.root.path)/user/.pki/nssdb"), "the user's NSS database is named: \(screen)")
        #expect(!screen.contains("system's trusted certificates"), "TAKO_DEV_SYSTEM_TRUST=0: \(screen)")
        try tmux.keys("y", "Enter")

        (seen, screen) = tmux.wait {
            $0.contains("shop  ● running") && $0.contains("https://shop.tako.local:\(bed.httpsPort)/") && $0.contains("CPU ")
                && $0.contains("MiB") && $0.contains("sessions 1") && $0.contains("q quit  r restart  c clear  e end")
        }
        #expect(seen, "\(screen)")
        let firstPid = Self.headerPid(screen)
        #expect(firstPid != nil)

        _ = try bed.get("shop.tako.local", "/warn")
        for _ in 0..<3 { _ = try bed.get("shop.tako.local", "/") }
        (seen, screen) = tmux.wait { $0.contains("WARN  [app] WARN something looks off") && $0.contains("INFO  [app] served /  (also 2 more times)") }
        #expect(seen, "repeated lines fold: \(screen)")

        try tmux.keys("r")
        (seen, screen) = tmux.wait { Self.headerPid($0).map { $0 != firstPid } ?? false }
        #expect(seen, "r restarts the app (new pid): \(screen)")

        try tmux.keys("c")
        (seen, screen) = tmux.wait { !$0.contains("something looks off") && !$0.contains("[tako] serving") }
        #expect(seen, "c clears the log panel: \(screen)")
        #expect(screen.contains("shop  ● running"), "the header stays: \(screen)")

        // The browser trusts the CA through the database tako dev filled.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/browser-check.sh").path
        var environment = ProcessInfo.processInfo.environment
        environment["BROWSER_CHECK_HOME"] = bed.environment["HOME"]
        let browser = try Program.run(
            "/bin/bash", [script, bed.caPath, "shop.tako.local", String(bed.httpsPort), "app=shop greeting=hi"], environment: environment)
        #expect(browser.status == 0, "\(browser.output)")
        let doctor = try bed.tako(["doctor"])
        #expect(doctor.stderr.contains("✓ browsers trust the local CA (\(bed.root.path)/user/.pki/nssdb)"), "\(doctor.output)")

        try tmux.keys("q")
        (seen, screen) = tmux.wait { $0.contains("EXITED 0") }
        #expect(seen, "q quits with status 0 and restores the screen: \(screen)")
        #expect(screen.contains("The Tako Dev CA is trusted") && screen.contains("NODE_EXTRA_CA_CERTS=\(bed.caPath)"), "\(screen)")
        #expect(screen.contains("tako dev stopped"))
    }
}
