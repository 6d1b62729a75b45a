import Foundation
import NIOCore
import NIOHTTP1
import TakoTestSupport
import Testing

@testable import TakoProxy

/// The proxy over real sockets: real upstream processes, the proxy, and curl as the client.
@Suite("Proxy over real sockets", .serialized)
struct ProxyIntegrationTests {
    @Test func routesByHostAndPathWithMostSpecificWinning() async throws {
        let web = try UpstreamProcess(name: "web")
        let api = try UpstreamProcess(name: "api")
        let proxy = try await RunningProxy(
            routes: ["web": ["example.test", "*.example.test"], "api": ["example.test/api/*", "api.example.test"]],
            upstreams: ["web": [web.address], "api": [api.address]])

        let cases: [(host: String, path: String, app: String?)] = [
            ("example.test", "/", "web"),
            ("EXAMPLE.test", "/api", "api"),
            ("example.test", "/api/users?x=1", "api"),
            ("example.test", "/apix", "web"),
            ("example.test", "/api/../admin", "web"),
            ("www.example.test", "/api/x", "web"),
            ("api.example.test", "/anything", "api"),
            ("other.test", "/", nil),
        ]
        for (host, path, app) in cases {
            let response = try Curl.request(port: proxy.port, host: host, path: path, headers: ["X-Path: \(path)"])
            if let app {
                #expect(response.status == 200, "\(host)\(path)")
                #expect(response.json?["app"] as? String == app, "\(host)\(path) went to \(String(describing: response.json?["app"]))")
            } else {
                #expect(response.status == 404, "\(host)\(path)")
                #expect(String(decoding: response.body, as: UTF8.self).contains("404"))
            }
        }
        await proxy.stop()
    }

    @Test func rewritesForwardingAndHopByHopHeaders() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        let response = try Curl.request(
            port: proxy.port, host: "example.test", path: "/h",
            headers: [
                "X-Forwarded-For: 6.6.6.6", "Connection: keep-alive, X-Drop-Me", "X-Drop-Me: secret", "Keep-Alive: 5",
                "X-Request-ID: given-id",
            ])
        await proxy.stop()
        let headers = response.json?["headers"] as? [String: String] ?? [:]
        #expect(headers["x-forwarded-for"] == "127.0.0.1", "untrusted X-Forwarded-For must be replaced: \(headers)")
        #expect(headers["x-forwarded-proto"] == "http")
        #expect(headers["x-forwarded-host"] == "example.test:\(proxy.port)")
        #expect(headers["host"] == "example.test:\(proxy.port)")
        #expect(headers["x-request-id"] == "given-id")
        #expect(headers["x-drop-me"] == nil && headers["keep-alive"] == nil, "\(headers)")
        // And on the way back: the upstream's Connection-named header and Keep-Alive stay behind.
        #expect(response.headers["x-secret-hop"] == nil, "\(response.headers)")
        #expect(response.headers["keep-alive"] == nil, "\(response.headers)")
    }

    @Test func generatesARequestIDWhenAbsent() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        let first = try Curl.request(port: proxy.port, host: "example.test", path: "/")
        let second = try Curl.request(port: proxy.port, host: "example.test", path: "/")
        await proxy.stop()
        let one = (first.json?["headers"] as? [String: String])?["x-request-id"]
        let two = (second.json?["headers"] as? [String: String])?["x-request-id"]
        #expect(one != nil && two != nil && one != two)
    }

    @Test func streamsRequestAndResponseBodies() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        var body = Data(count: 8 * 1024 * 1024)
        for index in stride(from: 0, to: body.count, by: 4096) { body[index] = UInt8(truncatingIfNeeded: index / 4096) }
        let upload = try Curl.request(port: proxy.port, host: "example.test", path: "/upload", method: "POST", body: body)
        #expect(upload.status == 200)
        #expect(upload.json?["body_bytes"] as? Int == body.count)
        let chunked = try Curl.request(
            port: proxy.port, host: "example.test", path: "/upload", method: "POST", headers: ["Transfer-Encoding: chunked"],
            body: body)
        #expect(chunked.json?["body_bytes"] as? Int == body.count)
        #expect(chunked.json?["body_sha256"] as? String == upload.json?["body_sha256"] as? String)

        let download = try Curl.request(port: proxy.port, host: "example.test", path: "/bytes/5000000")
        #expect(download.status == 200)
        #expect(download.body.count == 5_000_000)
        await proxy.stop()
    }

    @Test func serverSentEventsArriveChunked() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        let response = try Curl.request(port: proxy.port, host: "example.test", path: "/sse")
        await proxy.stop()
        #expect(response.headers["content-type"] == "text/event-stream")
        #expect(String(decoding: response.body, as: UTF8.self) == "data: event 0\n\ndata: event 1\n\ndata: event 2\n\n")
    }

    @Test func expectContinueIsAnswered() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        let body = Data(repeating: 7, count: 200_000)
        let response = try Curl.request(
            port: proxy.port, host: "example.test", path: "/upload", method: "PUT", headers: ["Expect: 100-continue"], body: body)
        await proxy.stop()
        #expect(response.status == 200)
        #expect(response.json?["body_bytes"] as? Int == body.count)
        #expect((response.json?["headers"] as? [String: String])?["expect"] == nil)
    }

    @Test func keepAliveConnectionsAreReusedUpstream() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        // Five requests on one client connection: answered in order, over one upstream connection.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-keepalive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var arguments = ["--connect-to", "example.test:\(proxy.port):127.0.0.1:\(proxy.port)", "-w", "%{http_code}\n"]
        for index in 1...5 {
            arguments += ["-o", directory.appendingPathComponent("\(index)").path, "http://example.test:\(proxy.port)/n/\(index)"]
        }
        let result = try Curl.run(arguments)
        await proxy.stop()
        #expect(String(decoding: result.output, as: UTF8.self) == String(repeating: "200\n", count: 5), "\(result.errors)")
        for index in 1...5 {
            let body = try Data(contentsOf: directory.appendingPathComponent("\(index)"))
            let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            #expect(json?["path"] as? String == "/n/\(index)")
            #expect(json?["connection_request"] as? Int == index, "upstream connection not reused: \(String(describing: json))")
        }
    }

    @Test func refusedUpstreamIsABadGatewayAndAnotherInstanceIsTried() async throws {
        let web = try UpstreamProcess(name: "web")
        let dead = try SocketAddress(ipAddress: "127.0.0.1", port: 1)  // nothing listens on port 1
        let alone = try await RunningProxy(routes: ["web": ["example.test"]], upstreams: ["web": [dead]])
        let refused = try Curl.request(port: alone.port, host: "example.test", path: "/")
        await alone.stop()
        #expect(refused.status == 502)
        #expect(!String(decoding: refused.body, as: UTF8.self).contains("127.0.0.1"), "error pages stay generic")

        let pair = try await RunningProxy(routes: ["web": ["example.test"]], upstreams: ["web": [dead, web.address]])
        for _ in 0..<4 {
            let response = try Curl.request(port: pair.port, host: "example.test", path: "/")
            #expect(response.status == 200)
        }
        await pair.stop()
    }

    @Test func conflictingUpstreamFramingIsABadGatewayAndNothingLeaks() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send("GET /bad-framing HTTP/1.1\r\nHost: example.test\r\n\r\nGET /next HTTP/1.1\r\nHost: example.test\r\n\r\n")
        // The client connection stays in step: the next request gets its own, correct answer.
        let text = client.read(until: "\"path\": \"/next\"")
        client.disconnect()
        await proxy.stop()
        #expect(text.hasPrefix("HTTP/1.1 502"), "\(text)")
        #expect(!text.contains("hello"), "the broken response leaked: \(text)")
        #expect(!text.contains("smuggled"), "\(text)")
        #expect(text.components(separatedBy: "HTTP/1.1 200").count == 2, "\(text)")
    }

    @Test func statusPathIsAnsweredByTheOwner() async throws {
        let store = RoutingSnapshotStore()
        let server = ProxyServer(configuration: ProxyConfiguration(eventLoops: 1), snapshots: store) {
            (.ok, ByteBuffer(string: #"{"healthy":true,"apps":[]}"#))
        }
        let port = try await server.start(host: "127.0.0.1", port: 0).port ?? 0
        let status = try Curl.request(port: port, host: "any.host", path: "/_tako/status")
        let other = try Curl.request(port: port, host: "any.host", path: "/")
        await server.shutdown(deadline: .seconds(5))
        #expect(status.status == 200)
        #expect(status.headers["content-type"] == "application/json")
        #expect(String(decoding: status.body, as: UTF8.self) == #"{"healthy":true,"apps":[]}"#)
        #expect(other.status == 404)
    }

    @Test func noHealthyInstanceIsServiceUnavailable() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web)
        proxy.store.snapshot.apps["web"]?.endpoints.first?.isHealthy = false
        let response = try Curl.request(port: proxy.port, host: "example.test", path: "/")
        await proxy.stop()
        #expect(response.status == 503)
        #expect(response.headers["retry-after"] == "1")
    }
}
