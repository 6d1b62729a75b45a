import ArgumentParser
import Foundation
import TakoCore

/// `tako doctor`: what `tako dev` depends on, checked one by one — the daemon and where it
/// listens, the local CA and who trusts it, each dev host's name resolution, and whether the
/// HTTPS port answers.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the local development setup: tako-dev-server, the local CA and its trust, names, ports.")

    @OptionGroup var globals: GlobalOptions

    func run() async throws {
        let context = CommandContext(globals)
        let terminal = context.terminal
        let home = context.home
        var problems = 0
        func good(_ text: String) { terminal.say(terminal.paint("✓", .green) + " " + text) }
        func bad(_ text: String, hint: String) {
            problems += 1
            terminal.say(terminal.paint("✗", .red) + " " + text)
            terminal.say("    " + terminal.paint("hint:", .dim) + " " + hint)
        }

        let caPath = home.root.appendingPathComponent("ca/ca.crt").path
        if FileManager.default.fileExists(atPath: caPath) {
            good("local CA: \(caPath)")
            let trust = DevTrust(caPath: caPath, environment: context.environment)
            if !trust.handlesSystem {
                terminal.say("• the system store is not checked (TAKO_DEV_SYSTEM_TRUST=0)")
            } else if trust.systemTrusted {
                good("the system trusts the local CA")
            } else {
                bad("the system does not trust the local CA", hint: "run tako dev on a terminal and accept the trust step")
            }
            if trust.certutil == nil {
                bad("certutil is missing: browsers cannot be told to trust the local CA", hint: "sudo apt-get install libnss3-tools")
            } else {
                for database in trust.nssDatabases {
                    if trust.nssTrusted(database) {
                        good("browsers trust the local CA (\(database))")
                    } else {
                        bad("browsers using \(database) do not trust the local CA", hint: "run tako dev on a terminal and accept the trust step")
                    }
                }
            }
        } else {
            terminal.say("• no local CA yet: tako dev makes one on first run (\(caPath))")
        }

        let client = DevClient(home: home)
        guard let daemon = try? client.hello() else {
            terminal.say("• tako-dev-server is not running (no answer on \(home.devSocket.path))")
            terminal.say("    " + terminal.paint("hint:", .dim) + " run tako dev in a project to start it")
            // Nothing is wrong with a daemon that is simply not running.
            return
        }
        good("tako-dev-server \(daemon.version) running (pid \(daemon.pid)): https://127.0.0.1:\(daemon.httpsPort), http :\(daemon.httpPort), dns :\(daemon.dnsPort)")
        if Self.connects(port: daemon.httpsPort) {
            good("127.0.0.1:\(daemon.httpsPort) accepts connections")
        } else {
            bad("127.0.0.1:\(daemon.httpsPort) does not accept connections", hint: "see \(home.devServerLog.path)")
        }
        let apps = (try? client.list().apps) ?? []
        if apps.isEmpty { terminal.say("• no app registered") }
        for app in apps {
            terminal.say("\(app.name) (\(app.state), \(app.sessions) session\(app.sessions == 1 ? "" : "s")) from \(app.directory)")
            for url in app.urls {
                guard let host = URL(string: url)?.host else { continue }
                let addresses = Self.resolve(host)
                if addresses.contains(where: { $0 == "127.0.0.1" || $0 == "::1" }) {
                    good("\(host) resolves to \(addresses.joined(separator: ", "))")
                } else if daemon.hostsFile != "/etc/hosts", HostsFileSync.missing([host], in: daemon.hostsFile).isEmpty {
                    good("\(host) is listed in \(daemon.hostsFile), the daemon's hosts file")
                } else {
                    #if os(Linux)
                    let hint = "add '127.0.0.1 \(host)' to \(daemon.hostsFile) (tako dev on a terminal offers to)"
                    #else
                    let hint = "create /etc/resolver/tako.local with 'nameserver 127.0.0.1' and 'port \(daemon.dnsPort)'"
                    #endif
                    bad("\(host) does not resolve to this machine\(addresses.isEmpty ? "" : " (\(addresses.joined(separator: ", ")))")", hint: hint)
                }
            }
        }
        if problems > 0 { throw CommandFailure(status: 1) }
    }

    private static func connects(port: Int) -> Bool {
        let fd = PortableSocket.stream(domain: AF_INET)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// The addresses the system resolver gives for `host` (hosts file, DNS, mDNS, ...).
    private static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = PortableSocket.streamType
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}
