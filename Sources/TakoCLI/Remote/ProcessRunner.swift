import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion without blocking the caller's thread: stdin streamed from a
/// file (with progress) or from bytes, stdout and stderr collected. Used for `ssh`, `tar`
/// and the project's build command.
struct ProcessRunner {
    struct Result: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    enum Input: Sendable {
        case none
        case bytes(Data)
        /// `prefix`, then the file's bytes; `progress` gets the file bytes sent so far.
        case file(prefix: Data, path: String, progress: (@Sendable (Int64) -> Void)?)
    }

    /// Lines of stdout as they arrive (for `logs`), instead of collecting them.
    typealias LineHandler = @Sendable (String) -> Void

    static func run(
        _ executable: String, _ arguments: [String], input: Input = .none, directory: URL? = nil,
        environment: [String: String]? = nil, onLine: LineHandler? = nil
    ) async throws -> Result {
        // A child that exits without reading its input must not kill the CLI with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        switch input {
        case .none: process.standardInput = FileHandle.nullDevice
        default: process.standardInput = stdinPipe
        }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let exited = AsyncExit()
        process.terminationHandler = { process in exited.finish(process.terminationStatus) }
        try process.run()

        let writer = Thread {
            let handle = stdinPipe.fileHandleForWriting
            switch input {
            case .none: break
            case .bytes(let data): try? handle.write(contentsOf: data)
            case .file(let prefix, let path, let progress):
                try? handle.write(contentsOf: prefix)
                if let file = FileHandle(forReadingAtPath: path) {
                    var sent: Int64 = 0
                    while let chunk = try? file.read(upToCount: 256 * 1024), !chunk.isEmpty {
                        guard (try? handle.write(contentsOf: chunk)) != nil else { break }
                        sent += Int64(chunk.count)
                        progress?(sent)
                    }
                    try? file.close()
                }
            }
            try? handle.close()
        }
        if case .none = input {} else { writer.start() }

        let collected = Collected()
        let stderrReader = Thread {
            collected.setStderr(stderrPipe.fileHandleForReading.readDataToEndOfFile())
        }
        stderrReader.start()
        let stdoutReader = Thread {
            let handle = stdoutPipe.fileHandleForReading
            if let onLine {
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        onLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
                collected.setStdout(Data())
            } else {
                collected.setStdout(handle.readDataToEndOfFile())
            }
        }
        stdoutReader.start()
        let status = await withTaskCancellationHandler {
            await exited.value()
        } onCancel: {
            process.terminate()
        }
        let (stdout, stderr) = await collected.wait()
        return Result(status: status, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// The exit status, delivered once from Process's termination handler.
private final class AsyncExit: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    private var waiter: CheckedContinuation<Int32, Never>?

    func finish(_ value: Int32) {
        lock.lock()
        status = value
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: value)
    }

    func value() async -> Int32 {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let status {
                lock.unlock()
                continuation.resume(returning: status)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}

/// What the reader threads collected; complete once both pipes reached end of file.
private final class Collected: @unchecked Sendable {
    private let lock = NSCondition()
    private var stdout: Data?
    private var stderr: Data?

    func setStdout(_ data: Data) { set { $0.stdout = data } }
    func setStderr(_ data: Data) { set { $0.stderr = data } }

    private func set(_ change: (Collected) -> Void) {
        lock.lock()
        change(self)
        lock.broadcast()
        lock.unlock()
    }

    /// Both streams; a line handler's stdout counts as empty.
    func wait() async -> (Data, Data) {
        await withCheckedContinuation { continuation in
            Thread {
                self.lock.lock()
                while self.stderr == nil || self.stdout == nil { self.lock.wait() }
                let result = (self.stdout ?? Data(), self.stderr ?? Data())
                self.lock.unlock()
                continuation.resume(returning: result)
            }.start()
        }
    }
}
