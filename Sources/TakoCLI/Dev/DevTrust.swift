import Foundation
import TakoCore

/// Whether the local dev CA is trusted — by the system (Debian's `update-ca-certificates`
/// store; curl, Node with the system store, ...) and by browsers (the user's NSS databases:
/// Chromium's `~/.pki/nssdb` and each Firefox profile) — and installing it where it is not.
///
/// macOS (the System keychain through `security add-trusted-cert`) is written but untested here.
struct DevTrust {
    static let nickname = "Tako Dev CA"
    #if os(Linux)
    static let systemAnchor = "/usr/local/share/ca-certificates/tako-dev-ca.crt"
    #endif

    let caPath: String
    let environment: [String: String]

    private var caPEM: String? {
        FileManager.default.contents(atPath: caPath).map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: System

    /// `TAKO_DEV_SYSTEM_TRUST=0`: leave the system store alone (no sudo); browsers' NSS
    /// databases are still handled.
    var handlesSystem: Bool { environment["TAKO_DEV_SYSTEM_TRUST"] != "0" }

    var systemTrusted: Bool {
        #if os(Linux)
        guard let installed = FileManager.default.contents(atPath: Self.systemAnchor), let pem = caPEM else { return false }
        return Self.base64Body(String(decoding: installed, as: UTF8.self)) == Self.base64Body(pem)
        #else
        return Self.run("/usr/bin/security", ["verify-cert", "-c", caPath]).status == 0
        #endif
    }

    /// Adds the CA to the system store, through sudo unless running as root.
    func installSystem(terminal: Terminal) throws {
        #if os(Linux)
        let steps: [[String]] = [
            ["install", "-m", "0644", caPath, Self.systemAnchor],
            ["update-ca-certificates"],
        ]
        #else
        let steps: [[String]] = [
            ["/usr/bin/security", "add-trusted-cert", "-d", "-r", "trustRoot", "-k", "/Library/Keychains/System.keychain", caPath]
        ]
        #endif
        for step in steps {
            let command = getuid() == 0 ? step : ["sudo"] + step
            terminal.say(terminal.paint("$ " + command.joined(separator: " "), .dim))
            let result = Self.run("/usr/bin/env", command, inheritTerminal: true)
            guard result.status == 0 else {
                throw CLIError("Adding the Tako Dev CA to the system store failed (\(command.joined(separator: " ")) exited with \(result.status)).",
                    hint: "Run it yourself, or check with tako doctor.")
            }
        }
    }

    // MARK: Browsers (NSS)

    var certutil: String? {
        ["/usr/bin/certutil", "/usr/local/bin/certutil", "/opt/homebrew/bin/certutil"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Chromium's database (made when missing) and every Firefox profile's.
    var nssDatabases: [String] {
        let home = environment["HOME"] ?? NSHomeDirectory()
        var databases = ["\(home)/.pki/nssdb"]
        for root in ["\(home)/.mozilla/firefox", "\(home)/snap/firefox/common/.mozilla/firefox"] {
            let profiles = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            databases += profiles.map { "\(root)/\($0)" }.filter { FileManager.default.fileExists(atPath: "\($0)/cert9.db") }
        }
        return databases
    }

    func nssTrusted(_ database: String) -> Bool {
        guard let certutil, let pem = caPEM else { return false }
        let result = Self.run(certutil, ["-d", "sql:\(database)", "-L", "-n", Self.nickname, "-a"])
        return result.status == 0 && Self.base64Body(result.output) == Self.base64Body(pem)
    }

    func installNSS(_ database: String) throws {
        guard let certutil else {
            throw CLIError("certutil is missing, so browsers cannot be told to trust the Tako Dev CA.", hint: "Install it: sudo apt-get install libnss3-tools")
        }
        if !FileManager.default.fileExists(atPath: "\(database)/cert9.db") {
            try? FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = Self.run(certutil, ["-d", "sql:\(database)", "-N", "--empty-password"])
        }
        // A CA made again (a new TAKO_HOME) keeps the nickname: replace the old one.
        _ = Self.run(certutil, ["-d", "sql:\(database)", "-D", "-n", Self.nickname])
        let result = Self.run(certutil, ["-d", "sql:\(database)", "-A", "-t", "C,,", "-n", Self.nickname, "-i", caPath])
        guard result.status == 0 else {
            throw CLIError("certutil could not add the Tako Dev CA to \(database): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))",
                hint: "Close the browser using it and run tako dev again.")
        }
    }

    // MARK: Support

    static func base64Body(_ pem: String) -> String {
        pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined().filter { !$0.isWhitespace }
    }

    /// Runs a short tool to completion (stdin and output inherited when `inheritTerminal`, for sudo's prompt).
    static func run(_ executable: String, _ arguments: [String], inheritTerminal: Bool = false) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        if !inheritTerminal {
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = pipe
            process.standardError = pipe
        }
        do { try process.run() } catch { return (127, "\(error)") }
        let output = inheritTerminal ? Data() : pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
