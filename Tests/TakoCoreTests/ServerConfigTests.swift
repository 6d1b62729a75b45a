import Foundation
import Testing

@testable import TakoCore

@Suite("server-config.toml")
struct ServerConfigTests {
    @Test("every key is optional: an empty file means the defaults")
    func defaults() {
        let (config, problems) = ServerConfig.parse("", file: "server-config.toml")
        #expect(problems.isEmpty)
        #expect(config == ServerConfig())
        #expect(config.httpPort == 80 && config.httpsPort == 443)
        #expect(config.dataDir == "/opt/tako" && config.socket == "/var/run/tako/tako.sock")
        #expect(config.tlsIssuer == .acme && !config.acmeStaging)
        #expect(config.startTimeout == 30 && config.drainTimeout == 30)
    }

    @Test("every key is read")
    func values() {
        let text = """
            [server]
            http_port = 0
            https_port = 8443
            data_dir = "/srv/tako"
            socket = "/run/tako.sock"
            listen = "127.0.0.1"
            start_timeout = 10
            drain_timeout = 5

            [tls]
            issuer = "internal"

            [acme]
            email = "ops@example.com"
            staging = true
            directory_url = "https://localhost:14000/dir"
            ca_root = "/etc/pebble/ca.pem"
            """
        let (config, problems) = ServerConfig.parse(text, file: "server-config.toml")
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.httpPort == 0 && config.httpsPort == 8443)
        #expect(config.dataDir == "/srv/tako" && config.socket == "/run/tako.sock" && config.listenHost == "127.0.0.1")
        #expect(config.startTimeout == 10 && config.drainTimeout == 5)
        #expect(config.tlsIssuer == .internal)
        #expect(config.acmeEmail == "ops@example.com" && config.acmeStaging)
        #expect(config.acmeDirectoryURL == "https://localhost:14000/dir" && config.acmeCARoot == "/etc/pebble/ca.pem")
    }

    @Test(
        "a bad value names its key and line",
        arguments: [
            ("[server]\nhttp_prot = 80", "server-config.toml:2: unknown key 'http_prot' in [server]", "did you mean 'http_port'?"),
            ("[server]\nhttp_port = \"80\"", "server-config.toml:2: 'server.http_port' must be a whole number, not a string", nil),
            ("[server]\nhttp_port = 70000", "server-config.toml:2: 'server.http_port' is 70000; it must be between 0 and 65535", nil),
            ("[server]\ndata_dir = \"tako\"", "server-config.toml:2: 'server.data_dir' must be an absolute path", nil),
            ("[tls]\nissuer = \"letsencrypt\"", "server-config.toml:2: 'tls.issuer' is 'letsencrypt'", nil),
            ("[acme]\nstaging = \"yes\"", "server-config.toml:2: 'acme.staging' must be true or false, not a string", nil),
            ("[acmee]\nemail = \"x\"", "server-config.toml:1: unknown key 'acmee'", nil),
            ("[server\n", "server-config.toml:1:", nil),
            ("[server]\nhttp_port = 8080\nhttps_port = 8080", "server-config.toml: http_port and https_port are both 8080", nil),
        ])
    func problems(text: String, message: String, hint: String?) {
        let (_, problems) = ServerConfig.parse(text, file: "server-config.toml")
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.message.hasPrefix(message) == true, "\(problems.first?.message ?? "")")
        if let hint { #expect(problems.first?.hint?.contains(hint) == true, "\(problems.first?.hint ?? "")") }
    }

    @Test("a missing default file means defaults; a missing named file is an error")
    func missingFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID()).toml").path
        #expect(try ServerConfig.load(path: path, explicit: false) == ServerConfig())
        #expect(throws: ConfigProblems.self) { try ServerConfig.load(path: path, explicit: true) }
        #expect(ServerConfig.location(flag: nil, environment: ["TAKO_SERVER_CONFIG": "/x.toml"]) == ("/x.toml", true))
        #expect(ServerConfig.location(flag: "/y.toml", environment: ["TAKO_SERVER_CONFIG": "/x.toml"]) == ("/y.toml", true))
        #expect(ServerConfig.location(flag: nil, environment: [:]) == (ServerConfig.defaultPath, false))
    }
}
