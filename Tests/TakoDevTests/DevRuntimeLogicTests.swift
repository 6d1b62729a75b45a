import Foundation
import Testing

@testable import TakoCore
@testable import TakoDev
@testable import TakoSupervisor

@Suite("Dev daemon logic: routes, names, dev commands, supervisor lines")
struct DevRuntimeLogicTests {
    func config(_ routes: [String], name: String = "shop") -> DevAppConfig {
        DevAppConfig(name: name, directory: "/tmp", routes: routes, command: "true", vars: [:])
    }

    @Test("development routes must be exact names under {app}.tako.local")
    func routes() throws {
        #expect(try DevRuntime.validate(config(["shop.tako.local", "api.shop.tako.local/v1/*"])).count == 2)
        for bad in ["*.shop.tako.local", "blog.tako.local", "shop.tako.local.evil.com", "xshop.tako.local", "shop.example.com"] {
            #expect(throws: UserError.self, "\(bad)") { try DevRuntime.validate(config([bad])) }
        }
        let none = #expect(throws: UserError.self) { try DevRuntime.validate(config([])) }
        #expect(none?.message.contains("no development route") == true)
        #expect(throws: UserError.self) { try DevRuntime.validate(config(["shop.tako.local"], name: "Bad Name")) }
    }

    @Test("leaves are minted only for well-formed names under tako.local")
    func devNames() {
        #expect(DevHostDirectory.isDevName("shop.tako.local"))
        #expect(DevHostDirectory.isDevName("API.Shop.TAKO.local"))
        for name in ["tako.local", "shop.tako.local.com", "a..tako.local", "sh_op.tako.local", "shop.example.com", "-.tako.local x"] {
            #expect(!DevHostDirectory.isDevName(name), "\(name)")
        }
        #expect(!DevHostDirectory.isDevName(String(repeating: "a", count: 64) + ".tako.local"))
    }

    @Test("the dev command: the project's dev script first, then what a deploy would start")
    func devCommand() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-devcmd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let package = directory.appendingPathComponent("package.json")
        try #"{"scripts": {"dev": "vite", "start": "node server.js"}}"#.write(to: package, atomically: true, encoding: .utf8)
        #expect(StartCommand.detectDev(in: directory.path, app: "shop") == StartCommand(command: "exec npm run --silent dev", runtime: .node))
        try "".write(to: directory.appendingPathComponent("bun.lock"), atomically: true, encoding: .utf8)
        #expect(StartCommand.detectDev(in: directory.path, app: "shop") == StartCommand(command: "exec bun run dev", runtime: .bun))
        try #"{"scripts": {"start": "bun server.ts"}}"#.write(to: package, atomically: true, encoding: .utf8)
        #expect(StartCommand.detectDev(in: directory.path, app: "shop") == StartCommand(command: "exec bun run start", runtime: .bun))
        #expect(StartCommand.explicit("exec bun run --watch server.ts").isJavaScript)
        #expect(StartCommand.explicit("python3 app.py").runtime == .python)
        #expect(StartCommand.explicit("./run.sh").runtime == .custom)
    }

    @Test("supervisor lines become records: app output keeps its level, the daemon's own lines are tako")
    func supervisorLines() {
        let out = DevLogWriter.record(fromSupervisorLine: "2026-11-26T03:00:00.000Z [instance 1 stdout] ERROR db down")
        #expect(out.scope == .app && out.level == .error && out.message == "ERROR db down")
        let err = DevLogWriter.record(fromSupervisorLine: "2026-11-26T03:00:00.000Z [instance 1 stderr] compiling...")
        #expect(err.scope == .app && err.level == .warn)
        let exit = DevLogWriter.record(fromSupervisorLine: "2026-11-26T03:00:00.000Z [instance 2 tako] exited with status 1")
        #expect(exit.scope == .tako && exit.level == .warn && exit.message == "exited with status 1")
        let plain = DevLogWriter.record(fromSupervisorLine: "2026-11-26T03:00:00.000Z [tako tako] deployed dev")
        #expect(plain.scope == .tako && plain.level == .info)
        let odd = DevLogWriter.record(fromSupervisorLine: "no brackets here")
        #expect(odd.message == "no brackets here")
    }
}
