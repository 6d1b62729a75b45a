import Foundation
import Testing

@testable import TakoCore

@Suite("Projects: app names and development routes")
struct TakoProjectTests {
    private func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tako-project-\(UUID().uuidString)")
            .appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: [
        ("my-app", true), ("a", true), ("a1-b2", true), ("", false), ("1app", false), ("-app", false), ("app-", false),
        ("My-App", false), ("my_app", false), ("my.app", false), ("ünï", false), (String(repeating: "a", count: 63), true),
        (String(repeating: "a", count: 64), false),
    ])
    func appNameRules(name: String, valid: Bool) {
        #expect(AppName.isValid(name) == valid)
    }

    @Test(arguments: [
        ("My App", "my-app"), ("@acme/Shop_Front", "shop-front"), ("123-go", "go"), ("hello.world.v2", "hello-world-v2"),
        ("--x--", "x"), ("日本", nil), ("42", nil),
    ] as [(String, String?)])
    func sanitizedNames(raw: String, expected: String?) {
        #expect(AppName.sanitize(raw) == expected)
    }

    @Test(arguments: [
        ("package.json", #"{"name": "@scope/Web_Site", "version": "1.0.0"}"#, "web-site"),
        ("Package.swift", "// swift-tools-version: 6.0\nlet package = Package(\n    name: \"MyServer\",\n)", "myserver"),
        ("pyproject.toml", "[project]\nname = \"my_service\"\n", "my-service"),
        ("pyproject.toml", "[tool.poetry]\nname = \"poetry-app\"\n", "poetry-app"),
        ("go.mod", "module github.com/acme/billing/v2\n\ngo 1.22\n", "billing"),
    ])
    func namesAreDetectedFromManifests(file: String, contents: String, expected: String) throws {
        let directory = try temporaryDirectory("Fallback_Dir")
        try contents.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
        let detected = AppNameDetector.detect(in: directory)
        #expect(detected?.name == expected)
        #expect(detected?.source == .manifest(file))
    }

    @Test func theDirectoryNameIsTheLastResort() throws {
        let directory = try temporaryDirectory("Fallback_Dir")
        try "{}".write(to: directory.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        let detected = AppNameDetector.detect(in: directory)
        #expect(detected?.name == "fallback-dir")
        #expect(detected?.source == .directory)
    }

    @Test func noDerivableNameIsAClearError() throws {
        let directory = try temporaryDirectory("42")
        #expect {
            try TakoProject.load(text: "[envs.production]\nroute = \"a.com\"\n", directory: directory)
        } throws: { error in
            let problems = (error as? ConfigProblems)?.problems ?? []
            return problems.contains { $0.code == .noAppName && ($0.hint ?? "").contains("[tako] name") }
        }
    }

    @Test func theTomlNameWinsOverTheManifest() throws {
        let directory = try temporaryDirectory("dir")
        try #"{"name":"from-json"}"#.write(to: directory.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        let project = try TakoProject.load(text: "[tako]\nname = \"web\"\n[envs.production]\nroute = \"a.com\"\n", directory: directory)
        #expect(project.appName == "web")
        #expect(project.appNameSource == .takoToml)
    }

    @Test(arguments: [
        ("web.tako.local", nil),
        ("api.web.tako.local", nil),
        ("a.b.web.tako.local", nil),
        ("web.tako.local/api/*", nil),
        ("other.tako.local", ConfigError.Code.devRouteOutsideApp),
        ("web.example.com", .devRouteOutsideApp),
        ("xweb.tako.local", .devRouteOutsideApp),
        ("*.other.tako.local", .devRouteOutsideApp),
    ] as [(String, ConfigError.Code?)])
    func developmentRoutesStayInsideTheAppDomain(route: String, expected: ConfigError.Code?) throws {
        let directory = try temporaryDirectory("dir")
        let text = "[tako]\nname = \"web\"\n[envs.production]\nroute = \"a.com\"\n[envs.development]\nroute = \"\(route)\"\n"
        if let expected {
            #expect {
                try TakoProject.load(text: text, directory: directory)
            } throws: { error in
                let found = (error as? ConfigProblems)?.problems.first { $0.code == expected }
                return found?.line == 6 && found?.message.contains("outside web.tako.local") == true
            }
        } else {
            let project = try TakoProject.load(text: text, directory: directory)
            #expect(project.developmentRoutes.map(\.description) == [try RoutePattern(route).description])
        }
    }

    @Test func wildcardDevelopmentRoutesAreIgnoredWithAWarning() throws {
        let directory = try temporaryDirectory("dir")
        let project = try TakoProject.load(
            text: "[tako]\nname = \"web\"\n[envs.production]\nroute = \"a.com\"\n[envs.development]\nroute = \"*.web.tako.local\"\n",
            directory: directory)
        #expect(project.warnings.map(\.code) == [.devRouteWildcard])
        #expect(project.developmentRoutes.map(\.description) == ["web.tako.local"])
    }

    @Test func developmentDefaultsToTheAppDomain() throws {
        let directory = try temporaryDirectory("dir")
        let project = try TakoProject.load(text: "[tako]\nname = \"web\"\n[envs.production]\nroute = \"a.com\"\n", directory: directory)
        #expect(project.developmentRoutes.map(\.description) == ["web.tako.local"])
    }

    @Test func missingFileSuggestsInit() throws {
        let directory = try temporaryDirectory("dir")
        #expect {
            try TakoProject.load(directory: directory)
        } throws: { error in
            let problem = (error as? ConfigProblems)?.problems.first
            return problem?.code == .missingFile && problem?.hint?.contains("tako init") == true
        }
    }
}
