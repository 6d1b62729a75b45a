import Foundation
import TakoACME
import TakoCore
import TakoProxy

/// Keeps a valid certificate for every exact route host when the issuer is ACME: obtains one
/// when a host is deployed without a fresh one, renews in the background (checked every
/// 12 h by default) when less than a third of the lifetime remains, and retries failures with backoff.
/// Nothing here ever blocks a deploy or traffic: a host without a certificate is served
/// over HTTP meanwhile.
actor CertificateManager {
    private struct HostState {
        var issuing = false
        var lastError: String?
        var retryDelay: Duration
    }

    private let files: CertificateFiles
    private let store: CertificateStore
    private let challenges: ChallengeResponder
    private let client: ACMEClient
    private let retryInitial: Duration
    private let renewalInterval: Duration
    private var hosts: [String: HostState] = [:]
    private var renewalTask: Task<Void, Never>?

    static let retryMaximum: Duration = .seconds(6 * 3600)

    init(config: ServerConfig, store: CertificateStore, challenges: ChallengeResponder) throws(UserError) {
        files = CertificateFiles(directory: config.dataDir + "/certs")
        self.store = store
        self.challenges = challenges
        retryInitial = .seconds(config.acmeRetrySeconds)
        renewalInterval = .seconds(config.acmeRenewCheckSeconds)
        let keyPath = config.dataDir + "/acme/account.key"
        let key: ACMEAccountKey
        do {
            if let pem = try? String(contentsOfFile: keyPath, encoding: .utf8) {
                key = try ACMEAccountKey(pem: pem)
            } else {
                key = ACMEAccountKey()
                try FileManager.default.createDirectory(
                    atPath: config.dataDir + "/acme", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try AtomicFile.write(Data(key.pem.utf8), to: URL(fileURLWithPath: keyPath), mode: 0o600)
            }
        } catch {
            throw UserError("the ACME account key \(keyPath) cannot be used: \(error)", hint: "move it aside to make a new account")
        }
        let transport: NIOACMETransport
        do {
            let roots = try config.acmeCARoot.map { try String(contentsOfFile: $0, encoding: .utf8) }
            transport = try NIOACMETransport(trustRootsPEM: roots)
        } catch {
            throw UserError("the ACME CA root \(config.acmeCARoot ?? "") cannot be read: \(error)", hint: "set [acme] ca_root to a PEM file")
        }
        client = ACMEClient(directoryURL: config.acmeDirectory, key: key, transport: transport, email: config.acmeEmail)
    }

    /// A deploy's hosts: each one a CA can validate gets a certificate unless its stored one
    /// is fresh (wildcards, IP addresses and local names are left out: see
    /// `CertificateEligibility`).
    func ensure(_ names: [String]) {
        for host in names where CertificateEligibility.acmeRefusal(for: host) == nil {
            if hosts[host] == nil { hosts[host] = HostState(retryDelay: retryInitial) }
            if files.isFresh(host) { continue }
            startIssuing(host)
        }
        startRenewals()
    }

    func status() -> [CertificateStatus] {
        hosts.keys.sorted().map { host in
            let state = hosts[host]
            return CertificateStatus(
                host: host, validUntil: files.validity(of: host)?.notAfter, issuing: state?.issuing ?? false,
                lastError: state?.lastError)
        }
    }

    private func startIssuing(_ host: String) {
        guard hosts[host]?.issuing == false else { return }
        hosts[host]?.issuing = true
        Task { await issue(host) }
    }

    private func issue(_ host: String) async {
        let challenges = self.challenges
        do {
            let issued = try await client.issue(
                hosts: [host], respond: { challenges.add(token: $0, keyAuthorization: $1) },
                withdraw: { challenges.remove(token: $0) })
            try files.write(issued, for: host)
            try store.install(host: host, chainPEM: Array(issued.chainPEM.utf8), keyPEM: Array(issued.keyPEM.utf8))
            hosts[host] = HostState(issuing: false, lastError: nil, retryDelay: retryInitial)
            FileHandle.standardError.write(Data("tako-server: certificate for \(host) obtained, valid until \(issued.notAfter)\n".utf8))
        } catch {
            let message = (error as? any UserFacingError)?.message ?? "\(error)"
            let delay = hosts[host]?.retryDelay ?? retryInitial
            hosts[host]?.lastError = message
            hosts[host]?.issuing = false
            hosts[host]?.retryDelay = min(delay * 2, Self.retryMaximum)
            FileHandle.standardError.write(Data("tako-server: certificate for \(host) not obtained (retrying in \(delay)): \(message)\n".utf8))
            Task {
                try? await Task.sleep(for: delay)
                self.retry(host)
            }
        }
    }

    private func retry(_ host: String) {
        guard let state = hosts[host], !state.issuing, !files.isFresh(host) else { return }
        startIssuing(host)
    }

    private func startRenewals() {
        guard renewalTask == nil else { return }
        let interval = renewalInterval
        renewalTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                self.renewDue()
            }
        }
    }

    private func renewDue() {
        for host in hosts.keys where !files.isFresh(host) { startIssuing(host) }
    }
}
