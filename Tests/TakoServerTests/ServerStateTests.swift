import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// State survives: a restart or a `kill -9` of the real server brings every app back
/// without a deploy.
@Suite("tako-server state across restarts")
struct ServerStateTests {
    @Test("after a restart every app comes back with its routes, secrets, instances and state")
    func restartRestoresEverything() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", instances: 2).status == 0)
        #expect(try server.ctl(["update-secrets", "web"], stdin: #"{"API_TOKEN": "kept-secret"}"#).status == 0)
        #expect(try server.deploy("lazy", version: "v7", route: "lazy.test", instances: 0).status == 0)
        #expect(try server.deploy("off", version: "v2", route: "off.test").status == 0)
        #expect(try server.ctl(["stop", "off"]).status == 0)
        #expect(server.terminate() == 0, "SIGTERM stops the server cleanly")
        #expect(server.appPIDs().isEmpty, "a stopping server stops its apps")

        try server.restart()
        try server.waitUntil("web is healthy again") {
            try server.instances("web").filter { $0.string("state") == "healthy" }.count == 2
        }
        #expect(try server.status("web").string("version") == "v1")
        #expect(String(decoding: try server.get("web.test", "/env/API_TOKEN").body, as: UTF8.self) == "kept-secret")
        #expect(try server.status("lazy").string("state") == "idle")
        #expect(try server.get("lazy.test").json?["build"] as? String == "v7", "on demand, as before")
        #expect(try server.status("off").string("state") == "stopped")
        #expect(try server.get("off.test").status == 503)

        let stored = try String(contentsOf: server.dataDirectory.appendingPathComponent("runtime-state.sqlite3"), encoding: .isoLatin1)
        #expect(!stored.contains("kept-secret"), "secrets are sealed at rest")
        let key = server.dataDirectory.appendingPathComponent("host.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("after kill -9 the new server stops the old instances and serves again")
    func recoversFromKill9() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let oldPID = try #require(try server.instances("web").first?.int("pid"))
        server.kill9()
        #expect(kill(pid_t(oldPID), 0) == 0, "the app outlived its server")

        try server.restart()
        #expect(kill(pid_t(oldPID), 0) != 0, "the restarted server stopped the leftover instance")
        try server.waitUntil("web is healthy again") { try server.instances("web").first?.string("state") == "healthy" }
        #expect(try server.get("web.test").json?["build"] as? String == "v1")
    }

    @Test("a corrupt state database stops the server with a clear error")
    func corruptDatabase() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        server.terminate()
        let database = server.dataDirectory.appendingPathComponent("runtime-state.sqlite3")
        // A journal left beside it would be rolled back into the file on open: this test is
        // about the database itself being garbage.
        for suffix in ["-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database.path + suffix) }
        try Data(repeating: 0x42, count: 8192).write(to: database)
        let result = try BuiltProducts.run("tako-server", ["--config", server.configPath])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: the state database \(database.path) cannot be used"), "\(result.output)")
        #expect(result.stderr.contains("hint: restore it from a backup"))
        #expect(try Data(contentsOf: database) == Data(repeating: 0x42, count: 8192), "the file is left as it was")
    }

    @Test("the upgrade lock refuses mutating commands, survives a restart, and is released by its owner")
    func upgradeLock() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        #expect(try server.ctl(["enter-upgrading", "alice"]).status == 0)
        #expect(try server.ctlOK(["server-info"]).string("mode") == "upgrading")
        let refused = try server.ctl(["stop", "web"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("lock held by 'alice'"), "\(refused.output)")
        #expect(try server.ctl(["enter-upgrading", "bob"]).status == 1)

        server.terminate()
        try server.restart()
        #expect(try server.ctl(["stop", "web"]).status == 1, "still locked after a restart")
        #expect(try server.ctl(["exit-upgrading", "bob"]).status == 1, "only the owner releases it")
        #expect(try server.ctl(["exit-upgrading", "alice"]).status == 0)
        #expect(try server.ctl(["stop", "web"]).status == 0)
    }
}
