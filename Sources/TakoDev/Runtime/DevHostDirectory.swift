import Foundation
import TakoCore

/// The dev names currently served, read on every TLS handshake (may a leaf be minted for
/// this name?) and every unmatched request (the 421 page), so it is a lock-protected value
/// rather than actor state. Each change is passed on to the DNS responder and the hosts file.
final class DevHostDirectory: Sendable {
    private let urls = Locked<[String: [String]]>([:])
    private let dns: DNSResponder
    let hostsFile: String
    private let httpsPort: Int

    init(dns: DNSResponder, hostsFile: String, httpsPort: Int) {
        self.dns = dns
        self.hostsFile = hostsFile
        self.httpsPort = httpsPort
    }

    /// Sets the hosts of every app (app name → hosts).
    func update(_ hosts: [String: [String]]) {
        urls.withLock { $0 = hosts }
        let names = Set(hosts.values.joined())
        dns.setHosts(names)
        syncHostsFile(names)
    }

    func allows(_ name: String) -> Bool {
        let name = name.lowercased()
        return urls.withLock { $0.values.contains { $0.contains(name) } }
    }

    /// A syntactically plain name under `tako.local` (letters, digits, '-', dots).
    static func isDevName(_ name: String) -> Bool {
        let name = name.lowercased()
        guard name.hasSuffix(".tako.local"), name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    func url(for host: String) -> String {
        httpsPort == 443 ? "https://\(host)/" : "https://\(host):\(httpsPort)/"
    }

    /// Every registered app's URLs, for the unknown-host page.
    func listing() -> [(app: String, url: String)] {
        urls.withLock { urls in
            urls.keys.sorted().flatMap { app in urls[app, default: []].map { (app, url(for: $0)) } }
        }
    }

    /// Whether the daemon may write the hosts file (it runs as the user; `/etc/hosts` is
    /// root's, so there `tako dev` writes the block with sudo instead).
    var canWriteHostsFile: Bool { access(hostsFile, W_OK) == 0 }

    /// Rewrites the marked block in place (not by rename: `/etc/hosts` is often a bind mount,
    /// and its owner and mode must stay). Nothing happens when the block is already right.
    private func syncHostsFile(_ names: Set<String>) {
        guard canWriteHostsFile, let data = FileManager.default.contents(atPath: hostsFile) else { return }
        let text = String(decoding: data, as: UTF8.self)
        let updated = HostsBlock.update(text, hosts: names)
        guard updated != text else { return }
        let fd = open(hostsFile, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = FileDescriptor.writeAll(fd, Data(updated.utf8))
        close(fd)
    }
}
