import Foundation
import TakoTestSupport
import Testing

@testable import TakoCore

#if canImport(Glibc)
import Glibc
#endif

/// `tako dev` end to end: the real `tako` and `tako-dev-server` binaries, the fixture app as
/// real processes, real HTTPS verified against the local CA, a real hosts file (a temporary
/// one the daemon is pointed at), DNS over UDP.
@Suite("tako dev with the real daemon", .serialized)
struct DevDaemonTests {
    @Test("two apps by name over trusted HTTPS, the unknown-host page, the redirect, DNS, the hosts block and doctor")
    func twoApps() throws {
        let bed = try DevTestBed()
        let shop = try bed.project("shop", toml: DevTestBed.toml("shop"))
        let blog = try bed.project("blog", toml: DevTestBed.toml("blog", greeting: "hello"))
        let shopSession = try bed.dev(shop)
        _ = try bed.dev(blog)
        #expect(bed.wait(20) { try bed.body("shop.tako.local").hasPrefix("app=shop greeting=hi env=development node_env=development") })
        #expect(bed.wait(20) { try bed.body("blog.tako.local").hasPrefix("app=blog greeting=hello env=development") })
        // The control socket is this user's alone.
        let socketMode = try FileManager.default.attributesOfItem(atPath: bed.home.appendingPathComponent("dev-server.sock").path)[.posixPermissions] as? Int
        #expect(socketMode == 0o600, "\(String(socketMode ?? 0, radix: 8))")

        // A name no app has: a certificate still (any *.tako.local), and the page listing the URLs.
        let unknown = try bed.get("nope.tako.local")
        let page = String(decoding: unknown.body, as: UTF8.self)
        #expect(unknown.status == 421)
        #expect(page.contains("https://shop.tako.local:\(bed.httpsPort)/") && page.contains("https://blog.tako.local:\(bed.httpsPort)/"))

        // Plain HTTP is sent to HTTPS.
        let redirect = try Curl.request(port: bed.httpPort, host: "shop.tako.local", path: "/a?b=1")
        #expect(redirect.status == 301)
        #expect(redirect.headers["location"] == "https://shop.tako.local:\(bed.httpsPort)/a?b=1")

        // Names: the DNS responder and the hosts block.
        let dns = DNSResponderTests()
        let answer = try dns.exchange(dnsQuery(name: "blog.tako.local", type: 1), port: bed.dnsPort)
        #expect(answer[3] & 0x0f == 0 && Array(answer.suffix(4)) == [127, 0, 0, 1])
        let other = try dns.exchange(dnsQuery(name: "nope.tako.local", type: 1), port: bed.dnsPort)
        #expect(other[3] & 0x0f == 3, "NXDOMAIN")
        #expect(bed.hostsText.hasPrefix("127.0.0.1 localhost\n::1 localhost\n"))
        #expect(bed.hostsText.contains("127.0.0.1 shop.tako.local") && bed.hostsText.contains("127.0.0.1 blog.tako.local"))

        // A log line from the app reaches the shared log with its level.
        _ = try bed.get("shop.tako.local", "/warn")
        #expect(bed.wait(5) { bed.log("shop", shop).contains { $0.level == .warn && $0.scope == .app && $0.message.contains("something looks off") } })

        let doctor = try bed.tako(["doctor"])
        #expect(doctor.stderr.contains("tako-dev-server") && doctor.stderr.contains("running"), "\(doctor.output)")
        #expect(doctor.stderr.contains("shop.tako.local is listed in \(bed.hostsFile)"), "\(doctor.output)")
        #expect(doctor.stderr.contains("does not trust the local CA"), "a fresh CA is not trusted: \(doctor.output)")

        // The shop session ends: after the grace period (10 s in debug builds) shop goes, blog stays.
        shopSession.signal(SIGINT)
        #expect(shopSession.waitForExit() == 0)
        #expect(try bed.get("shop.tako.local").status == 200, "still there during the grace period")
        #expect(bed.wait(30) { try bed.get("shop.tako.local").status == 421 })
        #expect(!bed.hostsText.contains("shop.tako.local") && bed.hostsText.contains("blog.tako.local"))
        #expect(try bed.body("blog.tako.local").hasPrefix("app=blog"))
    }

    @Test("an idle app stops, and the next request starts it again and is held until it answers")
    func idleStopAndWake() throws {
        let bed = try DevTestBed(idleTimeout: 2)
        let shop = try bed.project("shop", toml: DevTestBed.toml("shop", extra: "START_DELAY = \"1\""))
        _ = try bed.dev(shop)
        #expect(bed.wait(20) { try bed.get("shop.tako.local").status == 200 })
        // A request longer than the idle timeout is not cut off by the idle stop.
        let slow = try bed.get("shop.tako.local", "/slow?s=3.5")
        #expect(slow.status == 200)
        let firstPid = try bed.pid("shop.tako.local")
        #expect(bed.wait(15) { bed.log("shop", shop).contains { $0.state == .stopped } }, "stopped after 2 s without requests")
        let stoppedAt = bed.log("shop", shop).count
        // The app takes a second to start; the request waits for it instead of failing.
        let woken = try bed.get("shop.tako.local")
        #expect(woken.status == 200)
        #expect(String(decoding: woken.body, as: UTF8.self).hasPrefix("app=shop"))
        #expect(try bed.pid("shop.tako.local") != firstPid)
        #expect(bed.log("shop", shop).dropFirst(stoppedAt).contains { $0.state == .running })
    }

    @Test("a second tako dev attaches; the app outlives the owner while a session remains, then leaves after the grace period")
    func attachAndGrace() throws {
        let bed = try DevTestBed()
        let shop = try bed.project("shop", toml: DevTestBed.toml("shop"))
        let owner = try bed.dev(shop)
        #expect(bed.wait(20) { try bed.get("shop.tako.local").status == 200 })
        let pid = try bed.pid("shop.tako.local")
        let attachedLog = bed.root.appendingPathComponent("attached.log").path
        let attached = try bed.dev(shop, log: attachedLog)
        // The attached session replays the shared log from its start.
        #expect(attached.firstLine.contains("[tako] serving https://shop.tako.local:\(bed.httpsPort)/"))
        #expect(bed.wait(5) { ((try? String(contentsOfFile: attachedLog, encoding: .utf8)) ?? "").contains("Attached to shop") })

        owner.signal(SIGINT)
        #expect(owner.waitForExit() == 0)
        // Longer than the grace period: the attached session keeps it, with the same process.
        usleep(12_000_000)
        #expect(try bed.pid("shop.tako.local") == pid)

        // A new owner within the grace period finds the app as it was.
        attached.signal(SIGINT)
        #expect(attached.waitForExit() == 0)
        let again = try bed.dev(shop)
        #expect(try bed.pid("shop.tako.local") == pid)
        again.signal(SIGINT)
        #expect(again.waitForExit() == 0)
        #expect(bed.wait(30) { try bed.get("shop.tako.local").status == 421 })
    }

    @Test("tako.toml edits: variables restart the app, routes re-register, a broken file changes nothing")
    func configEdits() throws {
        let bed = try DevTestBed()
        let shop = try bed.project("shop", toml: DevTestBed.toml("shop"))
        let outputLog = bed.root.appendingPathComponent("owner.log").path
        _ = try bed.dev(shop, log: outputLog)
        #expect(bed.wait(20) { try bed.body("shop.tako.local").contains("greeting=hi") })
        let pid = try bed.pid("shop.tako.local")
        let file = shop.appendingPathComponent("tako.toml")

        try DevTestBed.toml("shop", greeting: "changed").write(to: file, atomically: true, encoding: .utf8)
        #expect(bed.wait(20) { try bed.body("shop.tako.local").contains("greeting=changed") })
        #expect(try bed.pid("shop.tako.local") != pid, "a new process")

        try "[tako\nname = ".write(to: file, atomically: true, encoding: .utf8)
        #expect(bed.wait(10) { ((try? String(contentsOfFile: outputLog, encoding: .utf8)) ?? "").contains("keeping the running configuration") })
        #expect(try bed.body("shop.tako.local").contains("greeting=changed"))

        let routes = DevTestBed.toml("shop", greeting: "changed") + "\n[envs.development]\nroutes = [\"api.shop.tako.local\", \"*.shop.tako.local\"]\n"
        try routes.write(to: file, atomically: true, encoding: .utf8)
        #expect(bed.wait(20) { try bed.get("api.shop.tako.local").status == 200 })
        #expect(try bed.get("shop.tako.local").status == 421, "the old name is gone")
        #expect(bed.wait(5) { bed.hostsText.contains("api.shop.tako.local") && !bed.hostsText.contains(" shop.tako.local") })
        #expect(try bed.body("api.shop.tako.local").contains("greeting=changed"))
    }

    @Test("a busy HTTPS port: the daemon says so and tako dev shows its log")
    func busyPort() throws {
        let bed = try DevTestBed()
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(bed.httpsPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(holder, 1)

        let daemon = try Program.run(BuiltProducts.path("tako-dev-server"), ["serve"], environment: bed.environment)
        #expect(daemon.status == 1)
        #expect(daemon.stderr.contains("127.0.0.1:\(bed.httpsPort) is already in use"), "\(daemon.output)")
        #expect(!FileManager.default.fileExists(atPath: bed.home.appendingPathComponent("dev-server.sock").path))

        let shop = try bed.project("shop", toml: DevTestBed.toml("shop"))
        let dev = try bed.tako(["dev", "--no-tui"], in: shop)
        #expect(dev.status == 1)
        #expect(dev.stderr.contains("tako-dev-server did not start"), "\(dev.output)")
        #expect(dev.stderr.contains("is already in use"), "the daemon's log is shown: \(dev.output)")
    }

    @Test("doctor with no daemon: not running, a hint, exit 0; bad dev routes are refused clearly")
    func doctorAndBadRoutes() throws {
        let bed = try DevTestBed()
        let doctor = try bed.tako(["doctor"])
        #expect(doctor.status == 0)
        #expect(doctor.stderr.contains("tako-dev-server is not running"), "\(doctor.output)")
        #expect(doctor.stderr.contains("hint: run tako dev in a project to start it"))

        let wildcard = try bed.project(
            "wild", toml: DevTestBed.toml("wild") + "\n[envs.development]\nroutes = [\"*.wild.tako.local\"]\n")
        let result = try bed.tako(["dev", "--no-tui"], in: wildcard)
        #expect(result.status == 1)
        #expect(result.stderr.contains("No development route is left for 'wild'"), "\(result.output)")
        #expect(!result.stderr.contains("Error Domain") && !result.stderr.contains("Fatal"))
    }

    @Test("headless Chromium trusts the local CA through an NSS database and shows the app")
    func browser() throws {
        let bed = try DevTestBed()
        let shop = try bed.project("shop", toml: DevTestBed.toml("shop"))
        _ = try bed.dev(shop)
        #expect(bed.wait(20) { try bed.get("shop.tako.local").status == 200 })
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/browser-check.sh").path
        let trusted = try Program.run(
            "/bin/bash", [script, bed.caPath, "shop.tako.local", String(bed.httpsPort), "app=shop greeting=hi"])
        #expect(trusted.status == 0, "\(trusted.output)")
        // The same check without the CA in the database fails on the certificate: the check can fail.
        var environment = ProcessInfo.processInfo.environment
        environment["BROWSER_CHECK_NO_TRUST"] = "1"
        let untrusted = try Program.run(
            "/bin/bash", [script, bed.caPath, "shop.tako.local", String(bed.httpsPort), "app=shop greeting=hi"], environment: environment)
        #expect(untrusted.status == 1)
        #expect(untrusted.stdout.contains("ERR_CERT") || untrusted.stderr.contains("ERR_CERT"), "\(untrusted.output)")
    }
}
