import Foundation
import TakoCore

/// When no server is mapped to the environment being deployed, on a terminal: one server in
/// the inventory → offer to map it; several → a picker. The mapping is appended to tako.toml
/// as `[servers.NAME] env = "..."`, so everything already in the file (comments included)
/// stays as it was.
enum ServerMapping {
    /// Returns whether tako.toml was changed.
    static func offer(project: TakoProject, environment: String, context: CommandContext) throws -> Bool {
        let inventory = try ServerInventory.load(home: context.home)
        let terminal = context.terminal
        let chosen: ServerEntry
        switch inventory.servers.count {
        case 0:
            return false
        case 1:
            let only = inventory.servers[0]
            guard terminal.confirm("No server is mapped to \(environment). Deploy to \(only.name) (\(only.host)) and save that in tako.toml?", defaultAnswer: true)
            else { return false }
            chosen = only
        default:
            let options = inventory.servers.map { "\($0.name) (\($0.user)@\($0.host))" }
            guard let index = terminal.choose("No server is mapped to \(environment). Which one should run it?", options) else { return false }
            chosen = inventory.servers[index]
        }
        let file = project.configFile
        var text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += "\n[servers.\(chosen.name)]\nenv = \"\(environment)\"\n"
        do {
            try AtomicFile.write(Data(text.utf8), to: file, mode: 0o644)
        } catch {
            throw CLIError("Cannot write \(file.path).", hint: "Add [servers.\(chosen.name)] env = \"\(environment)\" to it yourself.")
        }
        terminal.success("Mapped \(chosen.name) to \(environment) in tako.toml.")
        return true
    }
}
