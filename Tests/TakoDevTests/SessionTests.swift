import Foundation
import TakoTestSupport
import Testing

@testable import TakoCore
@testable import TakoDev

@Suite("Dev sessions: leases and the project lock")
struct SessionTests {
    let settings = LeaseBook.Settings(grace: 600, heartbeatTimeout: 15)

    @Test("an app stays while a session heartbeats, outlives its last session by the grace period, then goes")
    func grace() {
        var book = LeaseBook(settings: settings)
        book.join("web", session: "owner", at: 0)
        for t in stride(from: 10.0, through: 3600, by: 10) { book.heartbeat("web", session: "owner", at: t) }
        #expect(book.collect(at: 3600).isEmpty)
        book.leave("web", session: "owner", at: 3600)
        #expect(book.collect(at: 3600 + 599).isEmpty, "within the grace period")
        #expect(book.collect(at: 3600 + 600) == ["web"])
        #expect(book.apps.isEmpty)
    }

    @Test("a session that stops heartbeating has left when it was last heard from plus the timeout")
    func silentSession() {
        var book = LeaseBook(settings: settings)
        book.join("web", session: "owner", at: 0)
        book.heartbeat("web", session: "owner", at: 100)
        #expect(book.liveSessions("web", at: 110) == 1)
        #expect(book.liveSessions("web", at: 116) == 0)
        #expect(book.collect(at: 100 + 15 + 599).isEmpty)
        #expect(book.collect(at: 100 + 15 + 600) == ["web"])
    }

    @Test("an attached session keeps the app when the owner leaves; a returning session cancels the grace")
    func attach() {
        var book = LeaseBook(settings: settings)
        book.join("web", session: "owner", at: 0)
        book.join("web", session: "second", at: 5)
        book.leave("web", session: "owner", at: 10)
        #expect(book.liveSessions("web", at: 12) == 1)
        book.leave("web", session: "second", at: 20)
        book.join("web", session: "again", at: 300)
        book.heartbeat("web", session: "again", at: 690)
        #expect(book.collect(at: 700).isEmpty, "someone came back before the grace (ending at 620) ran out")
    }

    @Test("an idle app goes as soon as no session is left")
    func idle() {
        var book = LeaseBook(settings: settings)
        book.join("web", session: "owner", at: 0)
        book.join("api", session: "other", at: 0)
        book.setIdle("web", true)
        #expect(book.collect(at: 1).isEmpty, "idle but still used")
        book.leave("web", session: "owner", at: 2)
        book.leave("api", session: "other", at: 2)
        #expect(book.collect(at: 3) == ["web"], "idle: at once; api waits for its grace")
    }

    @Test("the first session owns the project; a second finds it held; the lock goes with its holder")
    func projectLock() throws {
        let home = TakoHome(root: FileManager.default.temporaryDirectory.appendingPathComponent("tako-dev-lock-\(UUID().uuidString.prefix(8))"))
        let project = URL(fileURLWithPath: "/work/shop", isDirectory: true)
        let key = ProjectLock.key(app: "shop", directory: project)
        #expect(key.hasPrefix("shop-") && key.count == "shop-".count + 8)
        #expect(key == ProjectLock.key(app: "shop", directory: URL(fileURLWithPath: "/work/./shop/")), "one project, one key")
        #expect(key != ProjectLock.key(app: "shop", directory: URL(fileURLWithPath: "/work/shop-copy")))

        let owner = try #require(try ProjectLock.claim(home: home, key: key))
        // Another process sees it held (flock is per open file description, so a second
        // claim from this process would too; a child process makes the point plainly).
        let probe = try Program.run(
            "/usr/bin/env", ["python3", "-c", "import fcntl,sys; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX|fcntl.LOCK_NB)", ProjectLock.path(home: home, key: key)])
        #expect(probe.status != 0, "held by the owner")
        owner.release()
        #expect(try ProjectLock.claim(home: home, key: key) != nil, "free again once released")
    }
}
