import Foundation
import NIOCore
import NIOHTTP1
import TakoTestSupport
import Testing

@testable import TakoCore
@testable import TakoDev
@testable import TakoProxy

@Suite("The dev daemon's page for unknown names")
struct UnknownHostPageTests {
    @Test("lists the registered URLs; the host from the request is escaped")
    func page() {
        let html = UnknownHostPage.render(
            host: "<script>x</script>.tako.local",
            urls: [("web", "https://web.tako.local:47831/"), ("api", "https://api.tako.local:47831/")])
        #expect(html.contains("&lt;script&gt;x&lt;/script&gt;.tako.local") && !html.contains("<script>"))
        #expect(html.contains("<li>api: <a href=\"https://api.tako.local:47831/\">"))
        #expect(html.range(of: "api:")!.lowerBound < html.range(of: "web:")!.lowerBound, "sorted by app")
        #expect(UnknownHostPage.render(host: "x", urls: []).contains("Run <code>tako dev</code>"))
    }

    @Test("a proxy with the hook answers unmatched hosts with it (421), and routed ones as usual")
    func throughTheProxy() async throws {
        let server = ProxyServer(
            configuration: ProxyConfiguration(eventLoops: 1),
            snapshots: RoutingSnapshotStore(RoutingSnapshot(routes: try RouteTable([:]), apps: [:])),
            unmatched: { host in (.misdirectedRequest, UnknownHostPage.render(host: host, urls: [("web", "https://web.tako.local:47831/")])) })
        let port = try await server.start(host: "127.0.0.1", port: 0).port ?? 0
        let response = try Curl.request(port: port, host: "typo.tako.local", path: "/")
        #expect(response.status == 421)
        #expect(String(decoding: response.body, as: UTF8.self).contains("https://web.tako.local:47831/"))
        #expect(response.headers["content-type"] == "text/html; charset=utf-8")
        await server.shutdown(deadline: .seconds(2))
    }
}
