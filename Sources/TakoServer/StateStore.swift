import Foundation
import GRDB
import TakoCore

/// The daemon's durable state, `runtime-state.sqlite3` in the data dir: every app's last
/// successful deploy (its routes and settings), whether it is stopped, its secrets (sealed
/// with the host key), the deployment history, the processes it runs and the upgrade lock.
///
/// Every change is one transaction, so a crash leaves either the old or the new state. A file
/// that is not a sound SQLite database stops the server with a clear error: it is never
/// replaced silently.
final class StateStore: Sendable {
    struct StoredApp: Sendable {
        var request: DeployRequest
        var deployedAt: Date?
        var stopped: Bool
        var secrets: [String: String]
    }

    struct StoredProcess: Sendable, Hashable {
        var app: String
        var instance: Int
        var pid: Int32
        var releasePath: String
    }

    static let fileName = "runtime-state.sqlite3"
    static let keyFileName = "host.key"

    private let queue: DatabaseQueue
    private let hostKey: SecretKey
    let path: String

    init(dataDir: String) throws(UserError) {
        path = dataDir + "/" + Self.fileName
        hostKey = try Self.loadOrCreateHostKey(at: dataDir + "/" + Self.keyFileName)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.inDatabase { db in
                let check = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? ""
                if check != "ok" { throw UserError("integrity check: \(check)") }
            }
            try Self.migrator.migrate(queue)
        } catch {
            throw UserError(
                "the state database \(path) cannot be used: \(Self.describe(error))",
                hint: "restore it from a backup, or move it aside to start with no apps (they can be deployed again)")
        }
        chmod(path, 0o600)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        if let error = error as? UserError { return error.message }
        return "\(error)"
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "app") { table in
                table.primaryKey("name", .text)
                table.column("request", .text).notNull()  // the DeployRequest, as JSON
                table.column("deployed_at", .double)
                table.column("stopped", .boolean).notNull().defaults(to: false)
                table.column("secrets", .text)  // JSON object, sealed with the host key
            }
            try db.create(table: "deployment") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("app", .text).notNull()
                table.column("version", .text).notNull()
                table.column("at", .double).notNull()
                table.column("outcome", .text).notNull()  // "deployed" | "failed"
                table.column("message", .text)
            }
            try db.create(table: "process") { table in
                table.column("app", .text).notNull()
                table.column("instance", .integer).notNull()
                table.column("pid", .integer).notNull()
                table.column("release_path", .text).notNull()
                table.primaryKey(["app", "instance"])
            }
            try db.create(table: "upgrade_lock") { table in
                table.primaryKey("id", .integer, onConflict: .replace).check { $0 == 1 }
                table.column("owner", .text).notNull()
                table.column("since", .double).notNull()
            }
        }
        // Two server processes run side by side during a handoff: each records (and on its way
        // out forgets) only its own processes.
        migrator.registerMigration("v2-process-owner") { db in
            try db.create(table: "process_v2") { table in
                table.column("server_pid", .integer).notNull()
                table.column("app", .text).notNull()
                table.column("instance", .integer).notNull()
                table.column("pid", .integer).notNull()
                table.column("release_path", .text).notNull()
                table.primaryKey(["server_pid", "app", "instance"])
            }
            try db.execute(sql: "INSERT INTO process_v2 SELECT 0, app, instance, pid, release_path FROM process")
            try db.drop(table: "process")
            try db.rename(table: "process_v2", to: "process")
        }
        return migrator
    }

    // MARK: Apps

    func apps() throws -> [StoredApp] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT name, request, deployed_at, stopped, secrets FROM app ORDER BY name").map { row in
                let request = try JSONDecoder().decode(DeployRequest.self, from: Data((row["request"] as String).utf8))
                let sealed: String? = row["secrets"]
                let secrets = try sealed.map { try openSecrets($0, app: row["name"]) } ?? [:]
                let deployedAt: Double? = row["deployed_at"]
                return StoredApp(
                    request: request, deployedAt: deployedAt.map(Date.init(timeIntervalSince1970:)), stopped: row["stopped"],
                    secrets: secrets)
            }
        }
    }

    /// A successful deploy: the app's new settings, and a line in the history.
    func saveDeploy(_ request: DeployRequest, at date: Date) throws {
        let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO app (name, request, deployed_at, stopped) VALUES (?, ?, ?, 0)
                    ON CONFLICT(name) DO UPDATE SET request = excluded.request, deployed_at = excluded.deployed_at, stopped = 0
                    """,
                arguments: [request.app, json, date.timeIntervalSince1970])
            try db.execute(
                sql: "INSERT INTO deployment (app, version, at, outcome) VALUES (?, ?, ?, 'deployed')",
                arguments: [request.app, request.version, date.timeIntervalSince1970])
        }
    }

    func recordFailedDeploy(app: String, version: String, message: String) throws {
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO deployment (app, version, at, outcome, message) VALUES (?, ?, ?, 'failed', ?)",
                arguments: [app, version, Date().timeIntervalSince1970, message])
        }
    }

    func saveSecrets(app: String, _ secrets: [String: String]) throws {
        let json = String(decoding: try JSONEncoder().encode(secrets), as: UTF8.self)
        let sealed = SecretBox.seal(json, key: hostKey)
        try queue.write { db in
            try db.execute(sql: "UPDATE app SET secrets = ? WHERE name = ?", arguments: [sealed, app])
        }
    }

    func setStopped(app: String, _ stopped: Bool) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE app SET stopped = ? WHERE name = ?", arguments: [stopped, app])
        }
    }

    func deleteApp(_ app: String) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM app WHERE name = ?", arguments: [app])
            try db.execute(sql: "DELETE FROM process WHERE app = ?", arguments: [app])
        }
    }

    /// Deploys of `app`, newest first.
    func history(app: String, limit: Int = 20) throws -> [(version: String, at: Date, outcome: String, message: String?)] {
        try queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT version, at, outcome, message FROM deployment WHERE app = ? ORDER BY id DESC LIMIT ?",
                arguments: [app, limit]
            ).map { row in
                (row["version"], Date(timeIntervalSince1970: row["at"]), row["outcome"], row["message"])
            }
        }
    }

    // MARK: Processes

    /// The processes `app` runs now in this server process, replacing what it recorded.
    func saveProcesses(app: String, _ processes: [StoredProcess]) throws {
        let server = Int(getpid())
        try queue.write { db in
            try db.execute(sql: "DELETE FROM process WHERE app = ? AND server_pid = ?", arguments: [app, server])
            for process in processes {
                try db.execute(
                    sql: "INSERT INTO process (server_pid, app, instance, pid, release_path) VALUES (?, ?, ?, ?, ?)",
                    arguments: [server, process.app, process.instance, process.pid, process.releasePath])
            }
        }
    }

    /// What other server processes recorded, except `keeping` (a predecessor handing over,
    /// whose apps still serve its in-flight requests).
    func processes(excludingServer keeping: Int32?) throws -> [StoredProcess] {
        try queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT app, instance, pid, release_path FROM process WHERE server_pid != ? AND server_pid != ?",
                arguments: [Int(getpid()), Int(keeping ?? -1)]
            ).map { row in
                StoredProcess(app: row["app"], instance: row["instance"], pid: row["pid"], releasePath: row["release_path"])
            }
        }
    }

    func clearProcesses(excludingServer keeping: Int32?) throws {
        try queue.write { db in
            try db.execute(
                sql: "DELETE FROM process WHERE server_pid != ? AND server_pid != ?", arguments: [Int(getpid()), Int(keeping ?? -1)])
        }
    }

    // MARK: Upgrade lock

    func upgradeOwner() throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT owner FROM upgrade_lock WHERE id = 1") }
    }

    func setUpgradeOwner(_ owner: String?) throws {
        try queue.write { db in
            if let owner {
                try db.execute(
                    sql: "INSERT INTO upgrade_lock (id, owner, since) VALUES (1, ?, ?)",
                    arguments: [owner, Date().timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM upgrade_lock")
            }
        }
    }

    // MARK: Host key

    private func openSecrets(_ sealed: String, app: String) throws -> [String: String] {
        let json = try SecretBox.open(sealed, key: hostKey, environment: "host", name: app)
        return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }

    /// The key that seals secrets at rest: 32 random bytes, base64, mode 0600, made once.
    private static func loadOrCreateHostKey(at path: String) throws(UserError) -> SecretKey {
        if let data = FileManager.default.contents(atPath: path) {
            guard let text = String(data: data, encoding: .utf8), let key = try? SecretKey(base64: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw UserError("the host key \(path) is not a valid key", hint: "restore it from a backup; without it the stored secrets cannot be read")
            }
            return key
        }
        let key = SecretKey.generate()
        do {
            try AtomicFile.write(Data((key.base64 + "\n").utf8), to: URL(fileURLWithPath: path), mode: 0o600)
        } catch {
            throw UserError(error.message, hint: "check that the data directory is writable")
        }
        return key
    }
}
