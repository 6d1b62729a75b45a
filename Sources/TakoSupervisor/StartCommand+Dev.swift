import Foundation

extension StartCommand {
    /// What `tako dev` runs when `[tako] dev` is not set: the project's own dev script
    /// (`scripts.dev` in package.json, `tasks.dev` in deno.json), else what a release would
    /// start with.
    public static func detectDev(in directory: String, app: String) -> StartCommand? {
        let files = FileManager.default
        func json(_ name: String) -> [String: Any]? {
            guard let data = files.contents(atPath: directory + "/" + name) else { return nil }
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
        if let package = json("package.json"), (package["scripts"] as? [String: Any])?["dev"] != nil {
            let bun = ["bun.lock", "bun.lockb", "bunfig.toml"].contains { files.fileExists(atPath: directory + "/" + $0) }
            return bun
                ? StartCommand(command: "exec bun run dev", runtime: .bun)
                : StartCommand(command: "exec npm run --silent dev", runtime: .node)
        }
        if let deno = json("deno.json"), (deno["tasks"] as? [String: Any])?["dev"] != nil {
            return StartCommand(command: "exec deno task dev", runtime: .deno)
        }
        return detect(in: directory, app: app)
    }

    /// An explicit command (`[tako] dev` or `start`), its runtime guessed from its first word.
    public static func explicit(_ command: String) -> StartCommand {
        let first = command.split(separator: " ").first(where: { $0 != "exec" }).map(String.init) ?? ""
        let runtime: Runtime =
            switch (first as NSString).lastPathComponent {
            case "bun", "bunx": .bun
            case "node", "npm", "npx", "pnpm", "yarn": .node
            case "deno": .deno
            case "python", "python3", "uv", "uvicorn", "gunicorn": .python
            default: .custom
            }
        return StartCommand(command: command, runtime: runtime)
    }
}
