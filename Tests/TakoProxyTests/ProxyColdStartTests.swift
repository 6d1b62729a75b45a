import Foundation
import NIOCore
import Synchronization
import TakoTestSupport
import Testing

@testable import TakoCore
@testable import TakoProxy

/// On-demand apps: requests wait while the owner starts an instance.
@Suite("Proxy: cold starts", .serialized)
struct ProxyColdStartTests {
    /// Stands in for tako-server's supervisor: starts a real upstream process when asked.
    final class OnDemandOwner: Sendable {
        enum Behaviour { case start, fail, ignore }
        let store: RoutingSnapshotStore
        let starts = Atomic<Int>(0)
        private let upstream = Mutex<UpstreamProcess?>(nil)
        private let gateBox = Mutex<ColdStartGate?>(nil)
        private let behaviour: Behaviour
        let routes: RouteTable

        init(behaviour: Behaviour, maxWaiting: Int = 1000) throws {
            self.behaviour = behaviour
            routes = try RouteTable(["web": [try RoutePattern("example.test")]])
            store = RoutingSnapshotStore()
            let gate = ColdStartGate(maxWaiting: maxWaiting) { [weak self] in self?.startInstance() }
            gateBox.withLock { $0 = gate }
            store.publish(RoutingSnapshot(routes: routes, apps: ["web": AppBackend(name: "web", endpoints: [], coldStart: gate)]))
        }

        var gate: ColdStartGate { gateBox.withLock { $0! } }

        private func startInstance() {
            starts.add(1, ordering: .relaxed)
            let gate = self.gate
            switch behaviour {
            case .ignore: return
            case .fail: DispatchQueue.global().async { gate.failed() }
            case .start:
                DispatchQueue.global().async { [self] in
                    guard let process = try? UpstreamProcess(name: "web") else { return gate.failed() }
                    let endpoint = UpstreamEndpoint(address: process.address)
                    upstream.withLock { $0 = process }
                    store.publish(
                        RoutingSnapshot(routes: routes, apps: ["web": AppBackend(name: "web", endpoints: [endpoint], coldStart: gate)]))
                    gate.ready()
                }
            }
        }
    }

    private func proxy(_ owner: OnDemandOwner, timeout: TimeAmount = .seconds(30)) async throws -> (ProxyServer, Int) {
        var configuration = ProxyConfiguration(eventLoops: 2)
        configuration.coldStartTimeout = timeout
        let server = ProxyServer(configuration: configuration, snapshots: owner.store)
        let address = try await server.start(host: "127.0.0.1", port: 0)
        return (server, address.port ?? 0)
    }

    @Test func heldRequestsAreServedOnceAnInstanceIsReady() async throws {
        let owner = try OnDemandOwner(behaviour: .start)
        let (server, port) = try await proxy(owner)
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { index in
            let response = try? Curl.request(port: port, host: "example.test", path: "/held/\(index)")
            statuses.withLock { $0.append(response?.json?["app"] as? String == "web" ? response?.status ?? 0 : -1) }
        }
        await server.shutdown(deadline: .seconds(5))
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 6))
        #expect(owner.starts.load(ordering: .relaxed) == 1, "one start for all waiting requests")
    }

    @Test func anInstanceThatNeverComesIsAGatewayTimeout() async throws {
        let owner = try OnDemandOwner(behaviour: .ignore)
        let (server, port) = try await proxy(owner, timeout: .milliseconds(300))
        let response = try Curl.request(port: port, host: "example.test", path: "/")
        await server.shutdown(deadline: .seconds(5))
        #expect(response.status == 504)
        #expect(owner.gate.waitingCount == 0)
    }

    @Test func aFailedStartIsABadGateway() async throws {
        let owner = try OnDemandOwner(behaviour: .fail)
        let (server, port) = try await proxy(owner)
        let response = try Curl.request(port: port, host: "example.test", path: "/")
        await server.shutdown(deadline: .seconds(5))
        #expect(response.status == 502)
    }

    @Test func aFullQueueIsServiceUnavailable() async throws {
        let owner = try OnDemandOwner(behaviour: .ignore, maxWaiting: 1)
        let (server, port) = try await proxy(owner, timeout: .seconds(20))
        let first = try RawClient(port: port)
        first.send("GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n")
        for _ in 0..<500 where owner.gate.waitingCount == 0 { usleep(2_000) }
        #expect(owner.gate.waitingCount == 1)
        let second = try Curl.request(port: port, host: "example.test", path: "/second")
        #expect(second.status == 503)
        #expect(second.headers["retry-after"] == "1")
        owner.gate.failed()
        #expect(first.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 502"))
        first.disconnect()
        await server.shutdown(deadline: .seconds(5))
    }
}
