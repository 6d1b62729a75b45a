import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TakoCore

/// One HTTP exchange with an ACME server.
public struct ACMEResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data

    public init(status: Int, headers: [(String, String)], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// How the ACME client reaches its CA. Injected so the protocol logic can be tested alone.
public protocol ACMETransport: Sendable {
    func send(method: String, url: URL, body: Data?, contentType: String?) async throws -> ACMEResponse
}

/// HTTPS/1.1 over NIO, one request per connection (ACME traffic is a handful of requests per
/// certificate). Trusts the system's roots, or only `trustRoots` (a private CA, pebble).
public struct NIOACMETransport: ACMETransport {
    public static let maxBodyBytes = 1 << 20
    private let tls: TLSConfiguration
    private let group: any EventLoopGroup
    private let timeout: TimeAmount

    public init(trustRootsPEM: String? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, timeout: TimeAmount = .seconds(30)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let trustRootsPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustRootsPEM.utf8)))
        }
        self.tls = tls
        self.group = group
        self.timeout = timeout
    }

    public func send(method: String, url: URL, body: Data?, contentType: String?) async throws -> ACMEResponse {
        guard url.scheme == "https", let host = url.host else {
            throw UserError("the ACME URL \(url.absoluteString) is not https", hint: "ACME servers are reached over HTTPS")
        }
        let port = url.port ?? 443
        let context = try NIOSSLContext(configuration: tls)
        let promise = group.next().makePromise(of: ACMEResponse.self)
        let collector = ResponseCollector(promise: promise)
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            // No connection, so nothing else will ever complete the exchange.
            collector.finish(.failure(UserError("cannot reach the ACME server at \(host):\(port): \(error)")))
            throw UserError("cannot reach the ACME server at \(host):\(port): \(error)", hint: "check [acme] directory_url and the host's network")
        }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "user-agent", value: "tako-server/\(TakoVersion.current)")
        headers.add(name: "connection", value: "close")
        if let contentType { headers.add(name: "content-type", value: contentType) }
        if let body { headers.add(name: "content-length", value: String(body.count)) }
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            collector.finish(.failure(UserError("the ACME server did not answer \(method) \(url.absoluteString) in time")))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let response = try await promise.futureResult.get()
        try? await channel.close()
        return response
    }
}

private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<ACMEResponse>
    private var response: ACMEResponse?
    private var done = false

    init(promise: EventLoopPromise<ACMEResponse>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = ACMEResponse(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: Data())
        case .body(let buffer):
            response?.body.append(contentsOf: buffer.readableBytesView)
            if (response?.body.count ?? 0) > NIOACMETransport.maxBodyBytes {
                finish(.failure(UserError("the ACME server sent more than 1 MiB")))
                context.close(promise: nil)
            }
        case .end:
            if let response { finish(.success(response)) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(UserError("the ACME server closed the connection without an answer")))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(UserError("cannot talk to the ACME server: \(error)")))
        context.close(promise: nil)
    }

    /// Completes the exchange once; on the connection's event loop.
    func finish(_ result: Result<ACMEResponse, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}
