/// Reading `server-config.toml`: every value is checked and every problem names its key and
/// line, so a server never starts half-configured.
extension ServerConfig {
    static let sections = ["server", "tls", "acme"]
    static let serverKeys = ["http_port", "https_port", "data_dir", "socket", "listen", "start_timeout", "drain_timeout", "max_requests_per_client", "upstream_timeout"]
    static let tlsKeys = ["issuer"]
    static let acmeKeys = ["email", "staging", "directory_url", "ca_root", "retry_seconds", "renew_check_seconds"]

    public static func parse(_ text: String, file: String) -> (config: ServerConfig, problems: [ConfigError]) {
        var reader = ConfigReader(file: file)
        guard let document = reader.document(text) else { return (ServerConfig(), reader.problems) }
        var config = ServerConfig()
        for entry in document.root.entries {
            guard Self.sections.contains(entry.key) else {
                reader.unknownKey(entry, in: "", known: Self.sections)
                continue
            }
            guard let table = reader.table(entry, path: entry.key) else { continue }
            for item in table.entries {
                config.read(item, section: entry.key, &reader)
            }
        }
        if config.httpPort != 0, config.httpPort == config.httpsPort {
            reader.report(
                .invalidValue, line: nil, key: "server.https_port",
                "http_port and https_port are both \(config.httpPort)", hint: "give the HTTPS listener its own port")
        }
        return (config, reader.problems)
    }

    private mutating func read(_ item: TOMLTable.Entry, section: String, _ reader: inout ConfigReader) {
        let path = "\(section).\(item.key)"
        switch (section, item.key) {
        case ("server", "http_port"):
            if let value = reader.integer(item, path: path, range: 0...65535) { httpPort = value }
        case ("server", "https_port"):
            if let value = reader.integer(item, path: path, range: 0...65535) { httpsPort = value }
        case ("server", "start_timeout"):
            if let value = reader.integer(item, path: path, range: 1...3600) { startTimeout = value }
        case ("server", "drain_timeout"):
            if let value = reader.integer(item, path: path, range: 0...3600) { drainTimeout = value }
        case ("server", "upstream_timeout"):
            if let value = reader.integer(item, path: path, range: 1...3600) { upstreamTimeout = value }
        case ("server", "max_requests_per_client"):
            if let value = reader.integer(item, path: path, range: 0...1_000_000) { maxRequestsPerClient = value }
        case ("server", "data_dir"):
            if let value = absolutePath(item, path, &reader) { dataDir = value }
        case ("server", "socket"):
            if let value = absolutePath(item, path, &reader) { socket = value }
        case ("server", "listen"):
            guard let value = reader.string(item, path: path) else { return }
            if value.isEmpty || value.contains(where: { $0 == " " || $0 == "/" }) {
                reader.report(
                    .invalidValue, line: item.keyLocation.line, key: path, "'\(path)' is not an IP address",
                    hint: "write an address such as \"0.0.0.0\" or \"127.0.0.1\"")
            } else {
                listenHost = value
            }
        case ("tls", "issuer"):
            guard let value = reader.string(item, path: path) else { return }
            if let issuer = TLSIssuer(rawValue: value) {
                tlsIssuer = issuer
            } else {
                reader.report(
                    .invalidValue, line: item.keyLocation.line, key: path, "'\(path)' is '\(value)'",
                    hint: "write issuer = \"acme\", \"internal\" or \"none\"")
            }
        case ("acme", "email"): acmeEmail = reader.string(item, path: path)
        case ("acme", "staging"): if let value = reader.boolean(item, path: path) { acmeStaging = value }
        case ("acme", "directory_url"):
            guard let value = reader.string(item, path: path) else { return }
            if value.hasPrefix("https://") || value.hasPrefix("http://") {
                acmeDirectoryURL = value
            } else {
                reader.report(
                    .invalidValue, line: item.keyLocation.line, key: path, "'\(path)' is not a URL",
                    hint: "write the CA's directory URL, e.g. \"https://acme-v02.api.letsencrypt.org/directory\"")
            }
        case ("acme", "retry_seconds"):
            if let value = reader.integer(item, path: path, range: 1...86400) { acmeRetrySeconds = value }
        case ("acme", "renew_check_seconds"):
            if let value = reader.integer(item, path: path, range: 1...86400) { acmeRenewCheckSeconds = value }
        case ("acme", "ca_root"): if let value = absolutePath(item, path, &reader) { acmeCARoot = value }
        default:
            let known = section == "server" ? Self.serverKeys : section == "tls" ? Self.tlsKeys : Self.acmeKeys
            reader.unknownKey(item, in: section, known: known)
        }
    }

    private func absolutePath(_ item: TOMLTable.Entry, _ path: String, _ reader: inout ConfigReader) -> String? {
        guard let value = reader.string(item, path: path) else { return nil }
        guard value.hasPrefix("/") else {
            reader.report(
                .invalidValue, line: item.keyLocation.line, key: path, "'\(path)' must be an absolute path",
                hint: "write a path starting with '/'")
            return nil
        }
        return value
    }
}
