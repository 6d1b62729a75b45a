import Foundation

/// The user's servers, `~/.tako/config.toml` (`[[servers]]` name, host, port, user, description).
///
/// Edits change the file's text rather than re-serialising it, so the user's comments and
/// layout survive; every edit is parsed back and checked before it is written.
public struct ServerInventory: Sendable {
    static let serverKeys = ["name", "host", "port", "user", "description"]

    public let file: URL
    /// How the file is named in messages.
    public let displayName: String
    public private(set) var servers: [ServerEntry]
    private var text: String
    /// For each server, the line range (0-based, half-open) of its `[[servers]]` block.
    private var blocks: [Range<Int>]

    public static func load(home: TakoHome) throws(ConfigProblems) -> ServerInventory {
        try load(file: home.configFile)
    }

    /// Reads the file; a missing file is an empty inventory. A corrupt file is an error with
    /// its line, and it is never overwritten.
    public static func load(file: URL) throws(ConfigProblems) -> ServerInventory {
        let displayName = file.path
        guard FileManager.default.fileExists(atPath: file.path) else {
            return ServerInventory(file: file, displayName: displayName, servers: [], text: "", blocks: [])
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw ConfigProblems([
                ConfigError(
                    .unreadableFile, file: displayName, "cannot read the file as UTF-8 text",
                    hint: "check its permissions"),
            ])
        }
        return try parse(text, file: file, displayName: displayName)
    }

    static func parse(_ text: String, file: URL, displayName: String) throws(ConfigProblems) -> ServerInventory {
        var reader = ConfigReader(file: displayName)
        let document: TOMLDocument
        do {
            document = try TOMLParser.parse(text)
        } catch {
            reader.report(.syntax, line: error.location.line, key: nil, error.message, hint: error.hint ?? "fix the file by hand; Tako will not overwrite it")
            throw ConfigProblems(reader.problems)
        }
        var servers: [ServerEntry] = []
        var lines: [Int] = []
        if let node = document.root["servers"] {
            guard case .array(let items) = node.value else {
                reader.report(
                    .wrongType, line: node.location.line, key: "servers", "'servers' must be a list of [[servers]] tables",
                    hint: "write each server as a [[servers]] table")
                throw ConfigProblems(reader.problems)
            }
            for item in items {
                guard case .table(let table) = item.value else {
                    reader.report(
                        .wrongType, line: item.location.line, key: "servers", "each entry of 'servers' must be a table",
                        hint: "write each server as a [[servers]] table")
                    continue
                }
                if let entry = readServer(table, &reader) {
                    servers.append(entry)
                    lines.append(table.location.line)
                }
            }
        }
        checkUnique(servers, lines: lines, &reader)
        if !reader.problems.isEmpty { throw ConfigProblems(reader.problems) }
        // Block ranges come from the header lines, so multi-line strings cannot confuse them.
        let allHeaders = document.headers.map { $0.line - 1 }.sorted()
        let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
        let blocks = lines.map { line -> Range<Int> in
            let start = line - 1
            let next = allHeaders.first(where: { $0 > start }) ?? lineCount
            return start..<next
        }
        return ServerInventory(file: file, displayName: displayName, servers: servers, text: text, blocks: blocks)
    }

    private init(file: URL, displayName: String, servers: [ServerEntry], text: String, blocks: [Range<Int>]) {
        self.file = file
        self.displayName = displayName
        self.servers = servers
        self.text = text
        self.blocks = blocks
    }

    private static func readServer(_ table: TOMLTable, _ reader: inout ConfigReader) -> ServerEntry? {
        let line = table.location.line
        var name: String?
        var host: String?
        var entry = ServerEntry(name: "", host: "")
        var valid = true
        for field in table.entries {
            let path = "servers.\(field.key)"
            switch field.key {
            case "name": name = reader.string(field, path: path)
            case "host": host = reader.string(field, path: path)
            case "port": if let port = reader.integer(field, path: path, range: 1...65535) { entry.port = port } else { valid = false }
            case "user":
                guard let user = reader.string(field, path: path) else { valid = false; continue }
                if let problem = ServerEntry.problem(withUser: user) {
                    reader.report(.invalidValue, line: field.keyLocation.line, key: path, "user '\(user)' \(problem)")
                    valid = false
                }
                entry.user = user
            case "description": entry.description = reader.string(field, path: path)
            default:
                reader.unknownKey(field, in: "[servers]", known: serverKeys)
                valid = false
            }
        }
        guard let name, let host else {
            reader.report(
                .invalidValue, line: line, key: "servers", "a [[servers]] entry needs both 'name' and 'host'",
                hint: "add the missing key, or remove the entry with 'tako servers rm'")
            return nil
        }
        if let problem = AppName.problem(with: name) {
            reader.report(.invalidServerName, line: line, key: "servers.name", "server name '\(name)' \(problem)")
            valid = false
        }
        if let problem = ServerEntry.problem(withHost: host) {
            reader.report(.invalidValue, line: line, key: "servers.host", "host '\(host)' \(problem)")
            valid = false
        }
        entry.name = name
        entry.host = host
        return valid ? entry : nil
    }

    private static func checkUnique(_ servers: [ServerEntry], lines: [Int], _ reader: inout ConfigReader) {
        var names: [String: Int] = [:]
        var hosts: [String: Int] = [:]
        for (server, line) in zip(servers, lines) {
            if let first = names[server.name] {
                reader.report(
                    .duplicateServer, line: line, key: "servers.name",
                    "server name '\(server.name)' is used twice (first on line \(first))", hint: "server names must be unique")
            }
            let hostKey = server.host.lowercased()
            if let first = hosts[hostKey] {
                reader.report(
                    .duplicateHost, line: line, key: "servers.host",
                    "host '\(server.host)' is listed twice (first on line \(first))", hint: "each host may appear once")
            }
            names[server.name] = names[server.name] ?? line
            hosts[hostKey] = hosts[hostKey] ?? line
        }
    }

    public func server(named name: String) -> ServerEntry? {
        servers.first { $0.name == name }
    }

    public enum AddResult: Sendable {
        case added
        case unchanged
    }

    /// Adds `entry`. Adding the same entry again changes nothing; a different server with the
    /// same name or host is refused.
    public mutating func add(_ entry: ServerEntry) throws(InventoryError) -> AddResult {
        if let problem = AppName.problem(with: entry.name) {
            throw InventoryError("Server name '\(entry.name)' \(problem).", hint: "Use lower-case letters, digits and '-', e.g. --name la-1.")
        }
        if let problem = ServerEntry.problem(withHost: entry.host) {
            throw InventoryError("Host '\(entry.host)' \(problem).", hint: "Give a host name or an IP address, e.g. 203.0.113.10.")
        }
        if let problem = ServerEntry.problem(withUser: entry.user) {
            throw InventoryError("User '\(entry.user)' \(problem).", hint: "Give the SSH login name, e.g. --user tako.")
        }
        guard (1...65535).contains(entry.port) else {
            throw InventoryError("Port \(entry.port) is not a TCP port.", hint: "Use a port between 1 and 65535 (SSH is usually 22).")
        }
        if let existing = server(named: entry.name) {
            if existing == entry { return .unchanged }
            throw InventoryError(
                "A server named '\(entry.name)' already exists (\(existing.user)@\(existing.host):\(existing.port)).",
                hint: "Remove it first with 'tako servers rm \(entry.name)', or choose another --name.")
        }
        if let existing = servers.first(where: { $0.host.lowercased() == entry.host.lowercased() }) {
            throw InventoryError(
                "Host '\(entry.host)' is already in the inventory as '\(existing.name)'.",
                hint: "Each host may appear once; remove '\(existing.name)' first to rename it.")
        }
        var newText = text
        if !newText.isEmpty {
            if !newText.hasSuffix("\n") { newText += "\n" }
            newText += "\n"
        }
        newText += entry.tomlBlock
        try replace(text: newText, expecting: servers + [entry])
        return .added
    }

    /// Removes the server named `name`; false when there is none. Comments and blank lines
    /// directly above the next table stay with it.
    public mutating func remove(named name: String) throws(InventoryError) -> Bool {
        guard let index = servers.firstIndex(where: { $0.name == name }) else { return false }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var block = blocks[index]
        var end = block.upperBound
        if end < lines.count {
            while end > block.lowerBound + 1, Self.isBlankOrComment(lines[end - 1]) { end -= 1 }
        }
        block = block.lowerBound..<end
        lines.removeSubrange(block)
        // Leave no double blank line where the block was.
        if block.lowerBound > 0, block.lowerBound < lines.count,
            lines[block.lowerBound - 1].allSatisfy(\.isWhitespace), lines[block.lowerBound].allSatisfy(\.isWhitespace)
        {
            lines.remove(at: block.lowerBound)
        }
        var remaining = servers
        remaining.remove(at: index)
        try replace(text: lines.joined(separator: "\n"), expecting: remaining)
        return true
    }

    private static func isBlankOrComment(_ line: String) -> Bool {
        let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
        return trimmed.isEmpty || trimmed.hasPrefix("#")
    }

    /// Adopts `newText` only when it parses back to exactly `expected`.
    private mutating func replace(text newText: String, expecting expected: [ServerEntry]) throws(InventoryError) {
        let reparsed: ServerInventory
        do {
            reparsed = try Self.parse(newText, file: file, displayName: displayName)
        } catch {
            throw InventoryError("Editing \(displayName) would leave it invalid: \(error.message)", hint: "Fix the file by hand and try again.")
        }
        guard reparsed.servers == expected else {
            throw InventoryError("Editing \(displayName) did not give the expected servers.", hint: "Fix the file by hand and try again.")
        }
        self = reparsed
    }

    /// Writes the file atomically (mode 0600; it names the user's hosts).
    public func save() throws(AtomicFile.WriteError) {
        try AtomicFile.write(text, to: file, mode: 0o600)
    }
}

/// A refused change to the server inventory.
public typealias InventoryError = UserError
