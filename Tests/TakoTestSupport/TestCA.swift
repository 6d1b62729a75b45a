import Foundation

/// A throwaway certificate authority made with the `openssl` command, and leaf certificates
/// it signs: for TLS tests (the real library and real clients verify them).
public final class TestCA {
    public let directory: URL
    public var certificatePath: String { directory.appendingPathComponent("ca.pem").path }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-ca-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=Tako Test CA",
        ])
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A leaf for `names` (the first is the subject), signed by this CA: (chain PEM, key PEM).
    public func issue(_ names: [String], file: String? = nil) throws -> (chain: [UInt8], key: [UInt8]) {
        let base = file ?? names[0].replacingOccurrences(of: "*", with: "_wild_")
        let extensions = path("\(base).ext")
        try "subjectAltName=\(names.map { "DNS:\($0)" }.joined(separator: ","))\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("\(base).key"),
            "-out", path("\(base).csr"), "-subj", "/CN=\(names[0])",
        ])
        try openssl([
            "x509", "-req", "-in", path("\(base).csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path("\(base).pem"), "-days", "1", "-extfile", extensions,
        ])
        let chain = try Data(contentsOf: URL(fileURLWithPath: path("\(base).pem")))
        let key = try Data(contentsOf: URL(fileURLWithPath: path("\(base).key")))
        return (Array(chain), Array(key))
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func openssl(_ arguments: [String]) throws {
        let result = try Program.run("/usr/bin/env", ["openssl"] + arguments)
        guard result.status == 0 else { throw TestSupportError(message: "openssl \(arguments[0]) failed: \(result.stderr)") }
    }
}
