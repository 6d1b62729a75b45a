import Foundation

/// How an app is started: the command a shell runs in the release directory, and the runtime
/// it uses (JS runtimes also get `NODE_ENV` / `BUN_ENV`).
public struct StartCommand: Sendable, Hashable {
    public enum Runtime: String, Sendable, Hashable {
        case bun, node, deno, python, executable, custom
    }

    public var command: String
    public var runtime: Runtime

    public init(command: String, runtime: Runtime) {
        self.command = command
        self.runtime = runtime
    }

    public var isJavaScript: Bool { runtime == .bun || runtime == .node || runtime == .deno }

    /// The command for a release without an explicit `start`, from what the release holds:
    /// a Bun, Node or Deno project, a Python entry point, or an executable named after the
    /// app. Nil when nothing is recognised (the deploy then fails with a hint).
    public static func detect(in directory: String, app: String) -> StartCommand? {
        let files = FileManager.default
        func exists(_ name: String) -> Bool { files.fileExists(atPath: directory + "/" + name) }

        if exists("package.json") {
            let package = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/package.json")))) as? [String: Any]
            let scripts = package?["scripts"] as? [String: Any]
            let main = package?["main"] as? String
            let bun = exists("bun.lock") || exists("bun.lockb") || exists("bunfig.toml")
            if bun {
                if scripts?["start"] != nil { return StartCommand(command: "exec bun run start", runtime: .bun) }
                let entry = main ?? ["src/index.ts", "index.ts", "index.js"].first(where: exists) ?? "index.ts"
                return StartCommand(command: "exec bun run \(shellQuoted(entry))", runtime: .bun)
            }
            if scripts?["start"] != nil { return StartCommand(command: "exec npm run --silent start", runtime: .node) }
            if let entry = main ?? ["server.js", "index.js", "app.js"].first(where: exists) {
                return StartCommand(command: "exec node \(shellQuoted(entry))", runtime: .node)
            }
        }
        if exists("deno.json") || exists("deno.jsonc") {
            let entry = ["main.ts", "server.ts", "main.js"].first(where: exists) ?? "main.ts"
            return StartCommand(command: "exec deno run --allow-all \(shellQuoted(entry))", runtime: .deno)
        }
        if let entry = ["main.py", "app.py", "server.py"].first(where: exists) {
            return StartCommand(command: "exec python3 \(shellQuoted(entry))", runtime: .python)
        }
        if files.isExecutableFile(atPath: directory + "/" + app) {
            return StartCommand(command: "exec ./\(shellQuoted(app))", runtime: .executable)
        }
        return nil
    }

    /// Single-quotes a word for `sh -c`.
    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
