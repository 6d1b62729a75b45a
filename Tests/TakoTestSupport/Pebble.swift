import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Debian's `pebble` ACME test server with `pebble-challtestsrv` as its DNS (every name
/// resolves to 127.0.0.1), on free loopback ports. Pebble validates HTTP-01 challenges on
/// `validationPort` (where the test's server listens) and serves its directory over HTTPS
/// with a certificate from a throwaway CA (`ca.certificatePath`).
public final class Pebble {
    public let ca: TestCA
    public let port: Int
    public let managementPort: Int
    /// pebble-challtestsrv's management API (`set-servfail`, ...).
    public let dnsManagementPort: Int
    public var directoryURL: URL { URL(string: "https://localhost:\(port)/dir")! }
    private let dns: ChildProcess
    private let pebble: ChildProcess

    /// `nonceReject` is the percentage of nonces pebble refuses (`PEBBLE_WFE_NONCEREJECT`);
    /// `certificateValidity` shortens the certificates' lifetime (seconds) to test renewal.
    public init(validationPort: Int, nonceReject: Int = 0, certificateValidity: Int? = nil) throws {
        ca = try TestCA()
        let certificate = try ca.issue(["localhost"])
        let directory = ca.directory
        try Data(certificate.chain).write(to: directory.appendingPathComponent("pebble.pem"))
        try Data(certificate.key).write(to: directory.appendingPathComponent("pebble.key"))
        let dnsPort = try Self.freePort(udp: true)
        port = try Self.freePort()
        managementPort = try Self.freePort()
        dnsManagementPort = try Self.freePort()
        var settings: [String: Any] = [
            "listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(managementPort)",
            "certificate": directory.appendingPathComponent("pebble.pem").path,
            "privateKey": directory.appendingPathComponent("pebble.key").path,
            "httpPort": validationPort, "tlsPort": try Self.freePort(), "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        ]
        if let certificateValidity { settings["certificateValidityPeriod"] = certificateValidity }
        let config: [String: Any] = ["pebble": settings]
        let configPath = directory.appendingPathComponent("pebble.json").path
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        dns = try ChildProcess(
            ["/usr/bin/env", "pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)",
             "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:\(dnsManagementPort)"],
            environment: ["PATH": path], log: directory.appendingPathComponent("challtestsrv.log").path)
        pebble = try ChildProcess(
            ["/usr/bin/env", "pebble", "-config", configPath, "-dnsserver", "127.0.0.1:\(dnsPort)"],
            environment: ["PATH": path, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": String(nonceReject)],
            log: directory.appendingPathComponent("pebble.log").path)
        // Ready when the directory answers. Bounded at 60 s: alone pebble starts in well under
        // a second, but the whole suite at once on two cores has starved it past 20.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let probe = try Program.run(
                "/usr/bin/env", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca.certificatePath, directoryURL.absoluteString])
            if probe.stdout == "200" { return }
            usleep(50_000)
        }
        throw TestSupportError(message: "pebble did not start: \(log)")
    }

    /// Pebble's log, for messages in failed expectations.
    public var log: String {
        (try? String(contentsOf: ca.directory.appendingPathComponent("pebble.log"), encoding: .utf8)) ?? ""
    }

    /// Makes DNS answer SERVFAIL for `host` (validation fails), or normally again.
    public func dnsFails(_ host: String, _ fails: Bool) throws {
        let result = try Program.run(
            "/usr/bin/env",
            ["curl", "-s", "-f", "-X", "POST", "-d", #"{"host":"\#(host)"}"#,
             "http://127.0.0.1:\(dnsManagementPort)/\(fails ? "set-servfail" : "clear-servfail")"])
        guard result.status == 0 else { throw TestSupportError(message: "challtestsrv refused: \(result.output)") }
    }

    /// The root that signs pebble's certificates (made anew at each start).
    public func issuingRoot() throws -> String {
        let result = try Program.run(
            "/usr/bin/env", ["curl", "-s", "--cacert", ca.certificatePath, "https://localhost:\(managementPort)/roots/0"])
        guard result.status == 0, result.stdout.contains("BEGIN CERTIFICATE") else {
            throw TestSupportError(message: "no root from pebble: \(result.output)")
        }
        return result.stdout
    }

    public static func freePort(udp: Bool = false) throws -> Int {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw TestSupportError(message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
