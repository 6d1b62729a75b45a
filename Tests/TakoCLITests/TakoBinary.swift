import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The result of one run of a built binary.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Both streams, for messages in failed expectations.
    var output: String { "status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs the built `tako` binary as a user would: in a directory of its own, with its own
/// `TAKO_HOME` and `HOME`, no terminal, and stdin given by the test.
struct TakoBinary {
    /// Where `swift build` put the products: beside the test bundle. `TAKO_BIN_DIR` overrides.
    static let binDirectory: URL = {
        if let explicit = ProcessInfo.processInfo.environment["TAKO_BIN_DIR"] {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        var candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for candidate in candidates {
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("tako").path) {
                return candidate
            }
        }
        return candidates.last!
    }()

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
        let process = Process()
        let binary = Self.binDirectory.appendingPathComponent(name)
        if wrapper.isEmpty {
            process.executableURL = binary
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = wrapper + [binary.path] + arguments
        }
        process.currentDirectoryURL = directory ?? workingDirectory
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.path,
            "TAKO_HOME": takoHome.path,
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
        ]
        environment.merge(extraEnvironment) { _, new in new }
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RunResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
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
