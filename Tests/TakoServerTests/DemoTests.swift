import Foundation
import TakoTestSupport
import Testing

/// `make demo` (scripts/demo.sh) with the binaries already built: it must end with an HTTPS
/// response from the deployed example, and its stop script must take everything down.
@Suite("make demo")
struct DemoTests {
    @Test("the demo deploys examples/hello and fetches it over HTTPS; stop.sh removes it all")
    func demo() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        environment["TAKO_BIN_DIR"] = BuiltProducts.directory.path
        environment["DEMO_ADDRESS"] = "127.0.0.10"
        environment["NO_COLOR"] = "1"
        // posix_spawn and waitpid rather than Foundation's Process: the demo leaves daemons
        // running, and Process.waitUntilExit on Linux waits for those too.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tako-demo-test-\(UUID().uuidString.prefix(8)).log").path
        let script = repository.appendingPathComponent("scripts/demo.sh").path
        let process = try ChildProcess(["/bin/bash", script], environment: environment, log: log)
        let status = process.waitForExit()
        // ChildProcess copies stdout into the log on its own thread, which may not have written
        // the script's last lines when the script exits: wait (10 s at most) for the last one.
        let lastLine = "Stop it and remove everything: "
        let deadline = Date().addingTimeInterval(10)
        var stdout = ""
        repeat {
            stdout = process.firstLine + "\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            if status != 0 || stdout.contains(lastLine) { break }
            usleep(20_000)
        } while Date() < deadline
        let result = ProgramResult(status: status, stdout: stdout, stderr: "")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("\"message\": \"Hello from Tako\""), "\(result.stdout)")
        #expect(result.stdout.contains("(HTTP/2 200)"), "served over HTTPS with HTTP/2: \(result.stdout)")
        #expect(result.stdout.contains("└─ hello (production) running  2/2 healthy"), "\(result.stdout)")
        guard let stop = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix(lastLine) })
        else {
            Issue.record("no stop script named: \(result.stdout)")
            return
        }
        let stopScript = String(stop.dropFirst(lastLine.count))
        let stopped = try Program.run("/bin/sh", [stopScript])
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: stopScript).deletingLastPathComponent().path))
    }
}
