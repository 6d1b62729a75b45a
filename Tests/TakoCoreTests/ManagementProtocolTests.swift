import Foundation
import Testing

@testable import TakoCore

@Suite struct ManagementProtocolTests {
    static let deploy = DeployRequest(
        app: "web", version: "abc12345", env: "production", releasePath: "/opt/tako/apps/web/releases/abc12345",
        routes: ["example.com", "*.example.com/api/*"], instances: 2, idleTimeoutSecs: 300,
        start: "bun run server.ts", healthCheck: "/_tako/status", vars: ["LOG_LEVEL": "warn", "URL": "a/b\nc"])

    static let allCommands: [ManagementCommand] = [
        .hello, .serverInfo, .deploy(deploy),
        .deploy(DeployRequest(app: "w", version: "v", env: "staging", releasePath: "/r", routes: [], instances: 0, idleTimeoutSecs: 0)),
        .routes, .status(app: nil), .status(app: "web"), .logs(app: "web", follow: true, lines: 50),
        .stop(app: "web"), .delete(app: "web"), .updateSecrets(app: "web", secrets: ["TOKEN": "s3cr=t"]),
        .updateSecrets(app: "web", secrets: [:]), .reload(app: "web"),
        .enterUpgrading(owner: "upgrade-42"), .exitUpgrading(owner: "upgrade-42"),
        .releases(app: "web"), .rollback(app: "web", version: nil), .rollback(app: "web", version: "abc12345"), .restartServer(hard: false), .restartServer(hard: true),
        .deploy(DeployRequest(app: "w", version: "v", env: "e", releasePath: "/r", routes: [], instances: 1, idleTimeoutSecs: 1, secrets: ["K": "v"])),
    ]

    // MARK: Requests

    @Test(arguments: allCommands)
    func everyCommandRoundTripsThroughAFrame(command: ManagementCommand) throws {
        let frame = try ManagementFrame.encode(ManagementRequest(command))
        #expect(frame.last == UInt8(ascii: "\n"))
        #expect(frame.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        let decoded = try ManagementRequest.decode(frame: frame)
        #expect(decoded == ManagementRequest(command))
        #expect(decoded.isCurrentVersion)
        let object = try jsonObject(frame)
        #expect(object["command"] as? String == command.name)
        #expect(object["protocol_version"] as? Int == ManagementProtocol.version)
    }

    @Test func commandsEncodeFlatWithSnakeCaseKeys() throws {
        #expect(try line(ManagementRequest(.stop(app: "web"))) == #"{"app":"web","command":"stop","protocol_version":1}"#)
        #expect(try line(ManagementRequest(.serverInfo)) == #"{"command":"server_info","protocol_version":1}"#)
        #expect(try line(ManagementRequest(.status(app: nil))) == #"{"command":"status","protocol_version":1}"#)
        #expect(
            try line(ManagementRequest(.updateSecrets(app: "web", secrets: ["A": "1"])))
                == #"{"app":"web","command":"update_secrets","protocol_version":1,"secrets":{"A":"1"}}"#)
        let deploy = try jsonObject(ManagementFrame.encode(ManagementRequest(.deploy(Self.deploy))))
        #expect(
            Set(deploy.keys) == [
                "protocol_version", "command", "app", "version", "env", "release_path", "routes", "instances",
                "idle_timeout_secs", "start", "health_check", "vars",
            ])
    }

    @Test func deployWrittenByAnotherClientDecodes() throws {
        let json = """
            {"command": "deploy", "protocol_version": 1, "app": "web", "version": "abc12345",
             "env": "production", "release_path": "/srv/web", "routes": ["example.com"],
             "instances": 0, "idle_timeout_secs": 300}
            """
        let request = try ManagementRequest.decode(frame: Data(json.utf8))
        let expected = DeployRequest(
            app: "web", version: "abc12345", env: "production", releasePath: "/srv/web", routes: ["example.com"],
            instances: 0, idleTimeoutSecs: 300)
        #expect(request.command == .deploy(expected))
    }

    @Test func logsFieldsDefaultWhenAbsent() throws {
        let request = try ManagementRequest.decode(frame: Data(#"{"protocol_version":1,"command":"logs","app":"web"}"#.utf8))
        #expect(request.command == .logs(app: "web", follow: false, lines: ManagementCommand.defaultLogLines))
    }

    @Test func unknownCommandIsAClearError() throws {
        let frame = Data(#"{"protocol_version":1,"command":"frobnicate"}"#.utf8)
        let error = try #require(throws: ManagementProtocolError.self) { try ManagementRequest.decode(frame: frame) }
        #expect(error == .unknownCommand)
        #expect(error.message == "unknown command 'frobnicate'")
        // Plain JSONDecoder use surfaces the same error.
        #expect(throws: ManagementProtocolError.unknownCommand) {
            try JSONDecoder().decode(ManagementCommand.self, from: frame)
        }
    }

    @Test func unknownCommandFromAnotherProtocolVersionIsAVersionMismatch() throws {
        let frame = Data(#"{"protocol_version":7,"command":"teleport"}"#.utf8)
        let error = try #require(throws: ManagementProtocolError.self) { try ManagementRequest.decode(frame: frame) }
        #expect(error == .versionMismatch)
        #expect(error.message.contains("7"))
    }

    @Test func knownCommandFromAnotherProtocolVersionIsDetectable() throws {
        let request = try ManagementRequest.decode(frame: Data(#"{"protocol_version":2,"command":"hello"}"#.utf8))
        #expect(request.command == .hello)
        #expect(request.protocolVersion == 2)
        #expect(!request.isCurrentVersion)
        #expect(ManagementRequest.peekProtocolVersion(Data(#"{"protocol_version":2}"#.utf8)) == 2)
    }

    @Test(arguments: [
        #"{"command":"hello"}"#, #"{"protocol_version":1}"#, #"{"protocol_version":1,"command":"stop"}"#,
        #"{"protocol_version":"1","command":"hello"}"#, "not json", "[]", "",
    ])
    func malformedRequestsAreRejected(json: String) {
        #expect(throws: ManagementProtocolError.malformedMessage) { try ManagementRequest.decode(frame: Data(json.utf8)) }
    }

    @Test func mutatingCommandsAreTheOnesRefusedWhileUpgrading() {
        let mutating = Self.allCommands.filter(\.isMutating).map(\.name)
        #expect(Set(mutating) == ["deploy", "stop", "delete", "update_secrets", "reload", "rollback"])
        #expect(Set(Self.allCommands.map(\.name)) == Set(ManagementCommand.allNames))
    }

    // MARK: Responses

    @Test func okResponsesRoundTripForEveryPayloadType() throws {
        try roundTrip(HelloInfo(capabilities: ["on_demand_cold_start", "idle_scale_to_zero"]))
        try roundTrip(
            ServerInfo(
                mode: .upgrading, socket: "/var/run/tako/tako.sock", dataDir: "/opt/tako", httpPort: 80, httpsPort: 443,
                serverVersion: "0.1.0", tlsIssuer: "acme", acmeStaging: true, acmeEmail: "ops@example.com",
                acmeDirectoryURL: "https://localhost:14000/dir"))
        try roundTrip(ServerInfo(mode: .normal, socket: "/s", dataDir: "/d", httpPort: 8080, httpsPort: 8443))
        try roundTrip(StatusReport(apps: [Self.sampleApp, AppStatus(name: "api", version: "nogit_0a1b2c3d", state: .idle)]))
        try roundTrip(RouteList(routes: [RouteEntry(app: "web", routes: ["example.com", "*.example.com"])]))
        try roundTrip(EmptyPayload())
        try roundTrip(Self.sampleApp)
    }

    @Test func errorResponseHasStatusAndMessageOnly() throws {
        let response = ManagementResponse<EmptyPayload>.error("server is upgrading")
        #expect(try line(response) == #"{"message":"server is upgrading","protocol_version":1,"status":"error"}"#)
        // An error decodes whatever payload the client expected.
        let decoded = try ManagementFrame.decode(ManagementResponse<StatusReport>.self, from: ManagementFrame.encode(response))
        #expect(decoded.outcome == .error("server is upgrading"))
        let error = try #require(throws: ManagementProtocolError.self) { try decoded.get() }
        #expect(error == .serverError)
        #expect(error.message == "server is upgrading")
    }

    @Test func helloResponseWrittenByAnotherServerDecodes() throws {
        let json = """
            {"status":"ok","protocol_version":1,
             "data":{"protocol_version":1,"server_version":"0.1.0","capabilities":["upgrade_mode_control"]}}
            """
        let response = try ManagementFrame.decode(ManagementResponse<HelloInfo>.self, from: Data(json.utf8))
        #expect(try response.get() == HelloInfo(protocolVersion: 1, serverVersion: "0.1.0", capabilities: ["upgrade_mode_control"]))
    }

    @Test func appStatusUsesSnakeCaseAndOmitsAbsentFields() throws {
        let idle = AppStatus(name: "api", version: "v1", state: .idle)
        #expect(try line(idle) == #"{"instances":[],"name":"api","state":"idle","version":"v1"}"#)
        let object = try jsonObject(ManagementFrame.encode(Self.sampleApp))
        #expect(object["deployed_at"] as? String == "2024-05-06T07:08:09Z")
        #expect(object["last_error"] as? String == "health check failed")
        let instance = try #require((object["instances"] as? [[String: Any]])?.first)
        #expect(Set(instance.keys) == ["id", "state", "port", "pid", "uptime_secs", "requests_total"])
        #expect(instance["state"] as? String == "healthy")
    }

    @Test func deployedAtWithFractionalSecondsFromAnotherServerDecodes() throws {
        let json = #"{"name":"a","version":"v","state":"running","instances":[],"deployed_at":"2024-05-06T07:08:09.250Z"}"#
        let status = try ManagementFrame.decode(AppStatus.self, from: Data(json.utf8))
        #expect(status.deployedAt == Date(timeIntervalSince1970: 1_714_979_289.25))
    }

    @Test func certificateStatusWritesItsDateAsISO8601() throws {
        let certificate = CertificateStatus(
            host: "web.example.com", validUntil: Date(timeIntervalSince1970: 1_714_979_289), issuing: false, lastError: nil)
        #expect(try line(certificate) == #"{"host":"web.example.com","issuing":false,"valid_until":"2024-05-06T07:08:09Z"}"#)
        let decoded = try ManagementFrame.decode(CertificateStatus.self, from: Data(#"{"host":"a","valid_until":"2024-05-06T07:08:09Z","issuing":true}"#.utf8))
        #expect(decoded == CertificateStatus(host: "a", validUntil: Date(timeIntervalSince1970: 1_714_979_289), issuing: true, lastError: nil))
    }

    @Test func serverInfoOmitsAbsentOptionalFields() throws {
        let info = ServerInfo(mode: .normal, socket: "/var/run/tako/tako.sock", dataDir: "/opt/tako", httpPort: 80, httpsPort: 443)
        #expect(
            try line(info)
                == #"{"data_dir":"/opt/tako","http_port":80,"https_port":443,"mode":"normal","socket":"/var/run/tako/tako.sock"}"#)
    }

    @Test(arguments: [#"{"protocol_version":1,"status":"ok"}"#, #"{"protocol_version":1,"status":"ok","data":null}"#,
                      #"{"protocol_version":1,"status":"ok","data":{}}"#])
    func okWithoutDataDecodesAsEmptyPayload(json: String) throws {
        let response = try ManagementFrame.decode(ManagementResponse<EmptyPayload>.self, from: Data(json.utf8))
        #expect(response.outcome == .ok(EmptyPayload()))
    }

    @Test(arguments: [#"{"protocol_version":1,"status":"ok"}"#, #"{"protocol_version":1,"status":"maybe"}"#,
                      #"{"status":"ok","data":{"apps":[]}}"#, #"{"protocol_version":1,"status":"error"}"#])
    func invalidResponsesAreRejected(json: String) {
        #expect(throws: ManagementProtocolError.malformedMessage) {
            try ManagementFrame.decode(ManagementResponse<StatusReport>.self, from: Data(json.utf8))
        }
    }

    @Test func unknownStateIsRejected() {
        let json = #"{"name":"a","version":"v","state":"exploded","instances":[]}"#
        #expect(throws: ManagementProtocolError.malformedMessage) { try ManagementFrame.decode(AppStatus.self, from: Data(json.utf8)) }
    }

    // MARK: Helpers

    static let sampleApp = AppStatus(
        name: "web", version: "abc12345", env: "production", state: .running, lastError: "health check failed",
        instances: [
            InstanceStatus(id: 1, state: .healthy, port: 47001, pid: 4242, uptimeSecs: 3600, requestsTotal: 12_345),
            InstanceStatus(id: 2, state: .stopped, port: 47002, pid: nil, uptimeSecs: 0, requestsTotal: 0),
        ],
        deployedAt: Date(timeIntervalSince1970: 1_714_979_289))

    private func roundTrip<Payload: Codable & Sendable & Hashable>(_ payload: Payload) throws {
        let frame = try ManagementFrame.encode(ManagementResponse.ok(payload))
        let object = try jsonObject(frame)
        #expect(object["status"] as? String == "ok")
        #expect(object["protocol_version"] as? Int == 1)
        #expect(object["data"] != nil)
        let decoded = try ManagementFrame.decode(ManagementResponse<Payload>.self, from: frame)
        #expect(decoded == .ok(payload))
        #expect(try ManagementFrame.decode(Payload.self, from: ManagementFrame.encode(payload)) == payload)
    }

    private func line(_ value: some Encodable) throws -> String {
        String(decoding: try ManagementFrame.encode(value).dropLast(), as: UTF8.self)
    }

    private func jsonObject(_ frame: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: frame) as? [String: Any])
    }
}
