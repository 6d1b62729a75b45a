import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoProxy

/// HTTP/2 on the HTTPS listener, by ALPN, in front of HTTP/1.1 apps: curl (libcurl with
/// nghttp2) as the client, plus a raw-frame probe for what curl does not show.
@Suite("HTTP/2 on the HTTPS listener")
struct HTTP2Tests {
    let ca: TestCA
    let store: CertificateStore

    init() throws {
        ca = try TestCA()
        store = try .issued(by: ca, for: ["a.test"])
    }

    func proxy(_ web: UpstreamProcess, configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 2)) async throws -> (RunningProxy, Int) {
        try await RunningProxy.https(serving: web, hosts: ["a.test"], tls: store, configuration: configuration)
    }

    /// curl over HTTP/2 (`--http2` falls back to 1.1 only if the server refuses h2, which the
    /// `%{http_version}` line written last catches).
    func curl(_ path: String, port: Int, _ extra: [String] = [], stdin: Data? = nil) throws -> (response: Curl.Response, version: String) {
        let result = try Curl.run(
            ["--http2", "--include", "--cacert", ca.certificatePath, "https://a.test:\(port)\(path)",
             "--connect-to", "a.test:\(port):127.0.0.1:\(port)", "-w", "\n%{http_version}"] + extra,
            stdin: stdin)
        guard result.status == 0 else { throw TestSupportError(message: "curl failed: \(result.errors)") }
        var output = result.output
        let newline = output.lastIndex(of: UInt8(ascii: "\n")) ?? output.endIndex
        let version = String(decoding: output[output.index(after: newline)...], as: UTF8.self)
        output = output[..<newline]
        return (Curl.parse(output), version)
    }

    func probe(_ mode: String, port: Int, _ extra: [String] = []) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/h2probe.py")
        let result = try Program.run("/usr/bin/env", ["python3", script.path, mode, "a.test", "\(port)", ca.certificatePath] + extra)
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] else {
            throw TestSupportError(message: "h2probe \(mode) failed: \(result.output)")
        }
        return json
    }

    @Test("requests over HTTP/2 reach the HTTP/1.1 app with the usual headers, and hop-by-hop headers stay out")
    func getAndHead() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let (response, version) = try curl("/hello?x=1", port: port)
        #expect(version == "2")
        #expect(response.status == 200)
        let json = try #require(response.json)
        #expect(json["path"] as? String == "/hello?x=1")
        let headers = json["headers"] as? [String: String] ?? [:]
        #expect(headers["host"] == "a.test:\(port)", "the :authority became Host")
        #expect(headers["x-forwarded-proto"] == "https")
        #expect(headers["x-forwarded-for"] == "127.0.0.1")
        #expect(response.headers["x-secret-hop"] == nil && response.headers["connection"] == nil && response.headers["keep-alive"] == nil)

        let head = try curl("/hello", port: port, ["--head"])
        #expect(head.response.status == 200 && head.version == "2")
        #expect(head.response.body.isEmpty)
        await proxy.stop()
    }

    @Test("any status and the app's header fields (written in upper case) reach the client as HTTP/2 fields", arguments: [200, 201, 302, 404, 418, 503])
    func statusesAndFields(_ status: Int) async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        // nghttp2 (inside curl) rejects a response with an upper-case field name.
        let (response, version) = try curl("/status/\(status)", port: port)
        #expect(version == "2")
        #expect(response.status == status)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.json?["path"] as? String == "/status/\(status)")
        await proxy.stop()
    }

    @Test("streams reuse pooled upstream connections: three requests in a row, one upstream connection")
    func upstreamReuse() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web, configuration: ProxyConfiguration(eventLoops: 1))
        let result = try Curl.run(
            ["--http2", "--cacert", ca.certificatePath, "--connect-to", "a.test:\(port):127.0.0.1:\(port)",
             "https://a.test:\(port)/1", "https://a.test:\(port)/2", "https://a.test:\(port)/3"])
        let counts = String(decoding: result.output, as: UTF8.self).matches(of: /"connection_request": (\d+)/).map { String($0.1) }
        #expect(counts == ["1", "2", "3"], "\(String(decoding: result.output, as: UTF8.self))")
        await proxy.stop()
    }

    @Test("bodies stream both ways: a 2 MiB upload, a 5 MB download, a chunked event stream")
    func bodies() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let upload = Data((0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let posted = try curl("/upload", port: port, ["-X", "POST", "--data-binary", "@-"], stdin: upload)
        #expect(posted.version == "2")
        let json = try #require(posted.response.json)
        #expect(json["body_bytes"] as? Int == upload.count)
        #expect(json["method"] as? String == "POST")

        let download = try curl("/bytes/5000000", port: port)
        #expect(download.response.status == 200 && download.response.body.count == 5_000_000)

        let events = try curl("/sse", port: port)
        #expect(String(decoding: events.response.body, as: UTF8.self) == "data: event 0\n\ndata: event 1\n\ndata: event 2\n\n")
        await proxy.stop()
    }

    @Test("concurrent streams on one connection are all answered")
    func concurrentStreams() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let urls = (0..<24).map { "https://a.test:\(port)/sleep/\($0 % 3 * 50)" }
        let result = try Curl.run(
            ["--http2", "--parallel", "--parallel-max", "24", "--cacert", ca.certificatePath,
             "--connect-to", "a.test:\(port):127.0.0.1:\(port)",
             "-w", "%{http_code} %{http_version} %{num_connects}\n"] + urls.flatMap { ["-o", "/dev/null", $0] })
        #expect(result.status == 0, "\(result.errors)")
        let lines = String(decoding: result.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.hasPrefix("200 2 ") }, "\(lines)\n\(result.errors)")
        let connects = lines.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        #expect(connects <= 2, "the streams shared a connection: \(connects) connects")
        await proxy.stop()
    }

    @Test(
        "malformed HTTP/2 requests are refused and nothing reaches the app (h2 to HTTP/1.1 smuggling)",
        arguments: ["transfer-encoding", "connection", "content-length", "crlf-value", "uppercase-name", "space-in-path"])
    func smuggling(_ attack: String) async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/h2smuggle.py")
        // The same probe with a well-formed request gets through: the refusals are the server's.
        let control = try Program.run("/usr/bin/python3", [script.path, "control", "a.test", "\(port)", ca.certificatePath])
        #expect(control.stdout.contains("\"status\": 200"), "\(control.output)")
        let result = try Program.run("/usr/bin/python3", [script.path, attack, "a.test", "\(port)", ca.certificatePath])
        let seen = try Curl.request(port: web.port, host: "example.test", path: "/__seen")
        await proxy.stop()
        let answer = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any], "\(result.output)")
        let refused = answer["reset"] != nil || answer["goaway"] != nil || answer["closed"] != nil || answer["error"] != nil
            || ((answer["status"] as? Int).map { $0 >= 400 && $0 < 500 } ?? false)
        #expect(refused, "\(attack): \(answer)")
        let paths = (try? JSONSerialization.jsonObject(with: seen.body) as? [String]) ?? ["unreadable"]
        #expect(paths.filter { !$0.contains("/__seen") } == ["POST /a"], "\(attack): only the control request may reach the app: \(paths)")
    }

    @Test("a stream the client resets mid-download gives back its client slot and does not leave its upstream connection in the pool")
    func resetMidDownload() async throws {
        let web = try UpstreamProcess(name: "web")
        var configuration = ProxyConfiguration(eventLoops: 1)
        // One request at a time per client: the second request is only served if the reset
        // stream gave its slot back.
        configuration.maxRequestsPerClient = 1
        let (proxy, port) = try await proxy(web, configuration: configuration)
        let result = try probe("reset", port: port)
        #expect((result["first_data"] as? Int ?? 0) > 0, "\(result)")
        #expect(result["status"] as? Int == 200, "\(result)")
        let body = try JSONSerialization.jsonObject(with: Data((result["body"] as? String ?? "").utf8)) as? [String: Any]
        #expect(body?["path"] as? String == "/hello")
        // A fresh upstream connection: the one cut off mid-body was closed, not pooled.
        #expect(body?["connection_request"] as? Int == 1, "\(result)")
        let endpoint = try #require(proxy.store.snapshot.apps["web"]?.endpoints.first)
        #expect(endpoint.inFlightRequests == 0)
        await proxy.stop()
    }

    @Test(
        "a client whose window is shut stops the upstream: the proxy does not read a 200 MB response into memory (relayed stream, stream channel)",
        arguments: ["stall", "stall-post"])
    func backPressure(_ mode: String) async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let result = try probe(mode, port: port, ["\(web.port)"])
        #expect(result["status"] as? Int == 200, "\(result)")
        #expect(result["settled"] as? Bool == true, "the upstream kept writing: \(result)")
        // What the sockets between them hold, plus the stream's 48 KiB: far below the body.
        let sent = result["sent"] as? Int ?? .max
        #expect(sent < 32 * 1024 * 1024, "the upstream wrote \(sent) bytes to a client that read none")
        await proxy.stop()
    }

    @Test("an unknown path is the proxy's own 404 over HTTP/2")
    func localAnswers() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(routes: ["web": ["a.test/app/*"]], upstreams: ["web": [web.address]])
        let port = try await proxy.server.start(host: "127.0.0.1", port: 0, tls: store).port ?? 0
        let (response, version) = try curl("/elsewhere", port: port)
        #expect(response.status == 404 && version == "2")
        await proxy.stop()
    }

    @Test("WebSockets keep working over HTTP/1.1 on the HTTPS listener")
    func webSocketOverHTTP1() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let result = try probe("ws", port: port)
        #expect(result["alpn"] as? String == "http/1.1")
        #expect((result["status"] as? String)?.hasPrefix("HTTP/1.1 101") == true, "\(result)")
        #expect(result["echo"] as? String == "tunnelled over TLS")
        await proxy.stop()
    }

    @Test("an idle HTTP/2 connection gets GOAWAY and is closed at the idle timeout")
    func idleTimeout() async throws {
        let web = try UpstreamProcess(name: "web")
        var configuration = ProxyConfiguration(eventLoops: 2)
        configuration.idleTimeout = .milliseconds(300)
        let (proxy, port) = try await proxy(web, configuration: configuration)
        let result = try probe("idle", port: port)
        #expect(result["alpn"] as? String == "h2")
        let frames = result["frames"] as? [Any] ?? []
        #expect(frames.first as? Int == 4, "the server's SETTINGS come first: \(frames)")
        #expect(frames.last as? Int == 7, "GOAWAY, then the close: \(frames)")
        let seconds = result["seconds"] as? Double ?? 0
        #expect(seconds >= 0.25 && seconds < 5, "closed after \(seconds) s")
        await proxy.stop()
    }

    @Test("a drain lets an in-flight HTTP/2 request finish")
    func drain() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let caPath = ca.certificatePath
        let slow = Task.detached {
            try Curl.run(
                ["--http2", "--cacert", caPath, "https://a.test:\(port)/sleep/700", "--connect-to", "a.test:\(port):127.0.0.1:\(port)",
                 "-o", "/dev/null", "-w", "%{http_code} %{http_version}"])
        }
        // Wait until the request reached the app, then drain.
        for _ in 0..<200 {
            let seen = try Curl.run(["http://127.0.0.1:\(web.port)/__seen"])
            if String(decoding: seen.output, as: UTF8.self).contains("/sleep/700") { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        proxy.server.startDraining()
        let result = try await slow.value
        #expect(String(decoding: result.output, as: UTF8.self) == "200 2", "\(result.errors)")
        await proxy.stop()
    }
}
