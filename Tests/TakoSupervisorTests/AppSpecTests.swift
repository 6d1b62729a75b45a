import Foundation
import Testing

@testable import TakoSupervisor

@Suite("Start command and app environment")
struct AppSpecTests {
    private func release(_ files: [String: String], executable: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-release-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        if let executable {
            let url = directory.appendingPathComponent(executable)
            try "#!/bin/sh\n".write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        return directory.path
    }

    @Test(
        "the start command is detected from the release",
        arguments: [
            (["package.json": #"{"scripts": {"start": "node server.js"}}"#, "bun.lock": ""], "exec bun run start", StartCommand.Runtime.bun),
            (["package.json": "{}", "bun.lockb": "", "src/index.ts": ""], "exec bun run 'src/index.ts'", .bun),
            (["package.json": #"{"scripts": {"start": "node server.js"}}"#], "exec npm run --silent start", .node),
            (["package.json": #"{"main": "app/main.js"}"#], "exec node 'app/main.js'", .node),
            (["package.json": "{}", "server.js": ""], "exec node 'server.js'", .node),
            (["deno.json": "{}", "main.ts": ""], "exec deno run --allow-all 'main.ts'", .deno),
            (["main.py": ""], "exec python3 'main.py'", .python),
            (["app.py": ""], "exec python3 'app.py'", .python),
        ])
    func detection(files: [String: String], command: String, runtime: StartCommand.Runtime) throws {
        let detected = StartCommand.detect(in: try release(files), app: "web")
        #expect(detected == StartCommand(command: command, runtime: runtime))
    }

    @Test("an executable named after the app, and nothing at all")
    func executableOrNothing() throws {
        #expect(StartCommand.detect(in: try release([:], executable: "web"), app: "web")?.command == "exec ./'web'")
        #expect(StartCommand.detect(in: try release(["README": ""]), app: "web") == nil)
    }

    @Test("the environment: the app's variables and secrets, then the values the server owns")
    func environment() {
        let spec = AppSpec(
            name: "web", version: "abc123", env: "production", releasePath: "/r",
            start: StartCommand(command: "exec node x.js", runtime: .node), instances: 1, idleTimeout: .seconds(300),
            vars: ["LOG": "debug", "PORT": "1", "TOKEN": "from-vars"], secrets: ["TOKEN": "from-secrets"])
        let environment = spec.environment(port: 4100, instance: 3, inherited: ["PATH": "/x/bin", "AWS_SECRET": "no"])
        #expect(environment["PORT"] == "4100", "the server's port wins over a variable")
        #expect(environment["HOST"] == "127.0.0.1")
        #expect(environment["ENV"] == "production")
        #expect(environment["TAKO_BUILD"] == "abc123")
        #expect(environment["TAKO_APP_NAME"] == "web")
        #expect(environment["TAKO_INSTANCE"] == "3")
        #expect(environment["NODE_ENV"] == "production" && environment["BUN_ENV"] == "production")
        #expect(environment["LOG"] == "debug")
        #expect(environment["TOKEN"] == "from-secrets")
        #expect(environment["PATH"] == "/x/bin")
        #expect(environment["AWS_SECRET"] == nil, "only PATH, locale, TZ and HOME are inherited")

        let python = AppSpec(
            name: "api", version: "v", env: "staging", releasePath: "/r", start: StartCommand(command: "x", runtime: .python),
            instances: 1, idleTimeout: .zero)
        #expect(python.environment(port: 1, instance: 1, inherited: [:])["NODE_ENV"] == nil)
    }
}
