import Foundation
import Synchronization
import TakoCore

@testable import TakoSupervisor

/// A clock that moves only when the test says so; sleepers wake when it passes their deadline.
final class ManualClock: SupervisorClock {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state = Mutex<(now: Duration, sleepers: [UInt64: Sleeper], nextID: UInt64)>((.zero, [:], 0))

    var now: Duration { state.withLock { $0.now } }

    func sleep(for duration: Duration) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let wakeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: state.now + duration, continuation: continuation)
                    return false
                }
                if wakeNow { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now += duration
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return Array(due.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// What a fake app does, chosen by the release version it runs.
enum FakeBehaviour: Sendable, Equatable {
    case healthy
    case crashesOnStart
    case neverReady
    /// Instances with this id or a higher one crash on start.
    case crashesFromInstance(Int)
}

/// Records every launch and signal in one ordered event list.
final class FakeWorld: Sendable {
    let events = Mutex<[String]>([])
    let behaviours: Mutex<[String: FakeBehaviour]>
    let processes = Mutex<[Int: FakeProcess]>([:])  // by port

    init(behaviours: [String: FakeBehaviour] = [:]) {
        self.behaviours = Mutex(behaviours)
    }

    func record(_ event: String) { events.withLock { $0.append(event) } }
    var log: [String] { events.withLock { $0 } }
}

final class FakeProcess: ManagedProcess {
    let pid: Int32
    let instance: String
    let version: String
    private let world: FakeWorld
    private let latch = ProcessExitLatch()

    init(pid: Int32, instance: String, version: String, world: FakeWorld) {
        self.pid = pid
        self.instance = instance
        self.version = version
        self.world = world
    }

    var hasExited: Bool { latch.exit != nil }

    func exited() async -> ProcessExit {
        await latch.wait()
    }

    func signalGroup(_ signal: Int32) {
        guard !hasExited else { return }
        world.record("signal \(signal) to \(instance)")
        if signal == SIGTERM || signal == SIGKILL { exit(.signaled(signal)) }
    }

    func exit(_ exit: ProcessExit) {
        latch.complete(exit)
    }
}

struct FakeLauncher: ProcessLauncher {
    let world: FakeWorld

    func launch(_ spec: LaunchSpec, output: @escaping @Sendable (AppLog.Stream, String) -> Void) throws -> any ManagedProcess {
        let version = spec.environment["TAKO_BUILD"] ?? "?"
        let instance = spec.environment["TAKO_INSTANCE"] ?? "?"
        let port = Int(spec.environment["PORT"] ?? "") ?? 0
        world.record("launch \(instance) \(version)")
        let process = FakeProcess(pid: Int32(10_000 + (Int(instance) ?? 0)), instance: instance, version: version, world: world)
        world.processes.withLock { $0[port] = process }
        let behaviour = world.behaviours.withLock { $0[version] }
        var crashes = behaviour == .crashesOnStart
        if case .crashesFromInstance(let first) = behaviour, (Int(instance) ?? 0) >= first { crashes = true }
        if crashes {
            output(.stderr, "cannot start \(version)")
            process.exit(.exited(1))
        }
        return process
    }
}

struct FakeProber: HealthProber {
    let world: FakeWorld

    func probe(port: Int, path: String, timeout: Duration) async -> Int? {
        guard let process = world.processes.withLock({ $0[port] }), !process.hasExited else { return nil }
        if world.behaviours.withLock({ $0[process.version] }) == .neverReady { return nil }
        return 200
    }
}

final class FakeObserver: AppSupervisorObserver {
    let changes = Mutex<[[InstanceSnapshot]]>([])

    func instancesChanged(app: String, instances: [InstanceSnapshot]) {
        changes.withLock { $0.append(instances) }
    }

    func traffic(app: String, instance: Int, port: Int) -> InstanceTraffic {
        InstanceTraffic(inFlight: 0, total: 0)
    }

    /// Versions of the healthy instances in the last published set.
    var routable: [String] {
        changes.withLock { $0.last ?? [] }.filter { $0.state == .healthy }.map(\.version).sorted()
    }
}
