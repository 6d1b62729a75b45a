import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The outcome of running a short-lived program to completion.
public struct ProgramResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// stdout as bytes (for binary output).
    public var stdoutData: Data

    public init(status: Int32, stdout: String, stderr: String, stdoutData: Data? = nil) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutData = stdoutData ?? Data(stdout.utf8)
    }

    /// Both streams, for messages in failed expectations.
    public var output: String { "status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: stdoutData) as? [String: Any] }
}

/// Runs programs to completion with pipes on all three streams.
public enum Program {
    /// Runs `executable` and waits for it. stdin is written, and stderr read, on other
    /// threads while stdout is read here, so no full pipe can block the child.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil,
        directory: URL? = nil
    ) throws -> ProgramResult {
        _ = ignoreBrokenPipes
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = Sanitizers.passingOptions(environment) }
        if let directory { process.currentDirectoryURL = directory }
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            // A child that exits without reading all of its input (a failing curl, say) is
            // the test's to report, not a reason to kill the test process.
            if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
            try? input.fileHandleForWriting.close()
            group.leave()
        }
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ProgramResult(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData, as: UTF8.self), stdoutData: outputData)
    }

    /// Writing to a pipe whose reader has gone raises SIGPIPE, whose default action ends the
    /// whole test process; ignored, the write fails with EPIPE instead.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()
}

extension BuiltProducts {
    /// Runs the built product `name` with `arguments` and waits for it to finish.
    public static func run(_ name: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> ProgramResult {
        try Program.run(path(name), arguments, stdin: stdin.map { Data($0.utf8) }, environment: environment)
    }
}
