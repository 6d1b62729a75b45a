import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The result of one run of a built binary.
typealias RunResult = ProgramResult

/// Runs the built `tako` binary as a user would: in a directory of its own, with its own
/// `TAKO_HOME` and `HOME`, no terminal, and stdin given by the test.
struct TakoBinary {
    static var binDirectory: URL { BuiltProducts.directory }

    let name: String
    let home: URL
    let workingDirectory: URL
    var extraEnvironment: [String: String] = [:]

    var takoHome: URL { home.appendingPathComponent(".tako") }

    /// Runs the binary with `arguments`; with a `wrapper` (`["python3", "driver.py"]`), runs
    /// the wrapper with the binary's path and the arguments after its own.
    func run(
        _ arguments: [String], stdin: String? = nil, in directory: URL? = nil, through wrapper: [String] = []
    ) throws -> RunResult {
        let binary = Self.binDirectory.appendingPathComponent(name)
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.path,
            "TAKO_HOME": takoHome.path,
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
        ]
        environment.merge(extraEnvironment) { _, new in new }
        return try Program.run(
            wrapper.isEmpty ? binary.path : "/usr/bin/env", wrapper.isEmpty ? arguments : wrapper + [binary.path] + arguments,
            stdin: stdin.map { Data($0.utf8) }, environment: environment, directory: directory ?? workingDirectory)
    }
}

/// A temporary user home and project directory, removed when the test ends.
final class Sandbox {
    let root: URL
    let home: URL
    let project: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tako-cli-\(UUID().uuidString)", isDirectory: true)
        home = root.appendingPathComponent("home", isDirectory: true)
        project = root.appendingPathComponent("my-project", isDirectory: true)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    var tako: TakoBinary { TakoBinary(name: "tako", home: home, workingDirectory: project) }

    func write(_ text: String, to relativePath: String) throws {
        let url = project.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func read(_ relativePath: String) throws -> String {
        try String(contentsOf: project.appendingPathComponent(relativePath), encoding: .utf8)
    }

    func mode(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
