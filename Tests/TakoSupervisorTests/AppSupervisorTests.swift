import Foundation
import Synchronization
import TakoCore
import Testing

@testable import TakoSupervisor

/// The supervisor's lifecycle logic with fake processes, a fake prober and a manual clock:
/// every step is driven by the test, nothing sleeps.
@Suite("App supervisor (fakes, manual clock)")
struct AppSupervisorTests {
    let world: FakeWorld
    let clock = ManualClock()
    let observer = FakeObserver()
    let supervisor: AppSupervisor

    init() throws {
        world = FakeWorld(behaviours: ["bad": .crashesOnStart, "slow": .neverReady, "half": .crashesFromInstance(4)])
        var settings = SupervisorSettings()
        settings.startTimeout = .seconds(30)
        settings.drainTimeout = .seconds(30)
        settings.stopGrace = .seconds(5)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-sup-\(UUID().uuidString.prefix(8))").path
        supervisor = try AppSupervisor(
            name: "web", logDirectory: directory,
            dependencies: AppSupervisor.Dependencies(
                launcher: FakeLauncher(world: world), prober: FakeProber(world: world), clock: clock, observer: observer,
                settings: settings, inheritedEnvironment: [:]))
    }

    func spec(_ version: String, instances: Int = 2) -> AppSpec {
        AppSpec(
            name: "web", version: version, env: "production", releasePath: "/releases/\(version)",
            start: StartCommand(command: "exec app", runtime: .custom), instances: instances, idleTimeout: .seconds(60))
    }

    /// Runs `work` while moving the clock on in 100 ms steps until it finishes.
    func drive<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let task = Task {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
        }
        for _ in 0..<100_000 {
            if let done = result.withLock({ $0 }) { return try done.get() }
            clock.advance(by: .milliseconds(100))
            for _ in 0..<20 { await Task.yield() }
        }
        task.cancel()
        throw CancellationError()
    }

    @Test("a rolling update starts one new instance, then stops one old one, in turn")
    func rollingOrder() async throws {
        try await drive { try await supervisor.deploy(spec("v1")) }
        try await drive { try await supervisor.deploy(spec("v2")) }
        #expect(world.log == [
            "launch 1 v1", "launch 2 v1",
            "launch 3 v2", "signal 15 to 1",
            "launch 4 v2", "signal 15 to 2",
        ])
        #expect(observer.routable == ["v2", "v2"])
        let status = await supervisor.status()
        #expect(status.version == "v2" && status.state == .running)
    }

    @Test("a new instance never has an old one stopped before it is healthy")
    func neverFewerThanTarget() async throws {
        try await drive { try await supervisor.deploy(spec("v1")) }
        try await drive { try await supervisor.deploy(spec("v2")) }
        let counts = observer.changes.withLock { $0 }.map { $0.filter { $0.state == .healthy }.count }
        let afterFirstDeploy = counts.drop { $0 < 2 }
        #expect(afterFirstDeploy.allSatisfy { $0 >= 1 }, "\(counts)")
    }

    @Test("a release that crashes on start fails the deploy and the old instances keep serving")
    func crashOnStart() async throws {
        try await drive { try await supervisor.deploy(spec("v1")) }
        await #expect(throws: SupervisorError.self) { try await drive { try await supervisor.deploy(spec("bad")) } }
        #expect(world.log == ["launch 1 v1", "launch 2 v1", "launch 3 bad"])
        #expect(observer.routable == ["v1", "v1"])
        let status = await supervisor.status()
        #expect(status.version == "v1" && status.state == .running)
        #expect(status.lastError?.contains("instance 3 exited with status 1") == true)
    }

    @Test("a failure half-way brings the old release back for the instances it had replaced")
    func rollbackHalfWay() async throws {
        try await drive { try await supervisor.deploy(spec("v1")) }
        await #expect(throws: SupervisorError.self) { try await drive { try await supervisor.deploy(spec("half")) } }
        #expect(world.log == [
            "launch 1 v1", "launch 2 v1",
            "launch 3 half", "signal 15 to 1",  // the first new instance replaced an old one
            "launch 4 half",  // the second crashed
            "launch 5 v1", "signal 15 to 3",  // the old release comes back, the new one leaves
        ])
        #expect(observer.routable == ["v1", "v1"])
        #expect(await supervisor.status().version == "v1")
    }

    @Test("a release that never gets healthy fails at the start timeout and is stopped")
    func neverReady() async throws {
        try await drive { try await supervisor.deploy(spec("v1", instances: 1)) }
        let before = clock.now
        await #expect(throws: SupervisorError.self) { try await drive { try await supervisor.deploy(spec("slow", instances: 1)) } }
        #expect(clock.now - before >= .seconds(30))
        #expect(world.log == ["launch 1 v1", "launch 2 slow", "signal 15 to 2"])
        #expect(observer.routable == ["v1"])
    }

    @Test("a crashed instance is restarted after 1 s, then 2 s, ...")
    func restartBackoff() async throws {
        try await drive { try await supervisor.deploy(spec("v1", instances: 1)) }
        for (crash, expected) in [(1, Duration.seconds(1)), (2, .seconds(2)), (3, .seconds(4))] {
            let running = try #require(world.processes.withLock { $0.values.first { !$0.hasExited } })
            let crashedAt = clock.now
            running.exit(.exited(2))
            try await drive { [world] in
                while world.log.filter({ $0 == "launch 1 v1" }).count < crash + 1 { await Task.yield() }
            }
            let delay = clock.now - crashedAt
            #expect(delay >= expected && delay <= expected + .milliseconds(200), "crash \(crash): restarted after \(delay)")
        }
        #expect(world.log.allSatisfy { $0 == "launch 1 v1" }, "the same instance, launched again: \(world.log)")
    }

    @Test("on demand: the validation instance stops after the deploy, a cold start brings one up")
    func onDemand() async throws {
        try await drive { try await supervisor.deploy(spec("v1", instances: 0)) }
        #expect(world.log == ["launch 1 v1", "signal 15 to 1"])
        #expect(await supervisor.status().state == .idle)
        let started = try await drive { await supervisor.coldStart() }
        #expect(started)
        #expect(observer.routable == ["v1"])
        #expect(await supervisor.status().state == .running)
    }
}
