import Testing

@testable import TakoSupervisor

@Suite("Health state machine")
struct HealthMonitorTests {
    @Test("failures while starting do not count; one success makes it healthy")
    func starting() {
        var monitor = HealthMonitor()
        #expect(monitor.nextProbeDelay == .milliseconds(100))
        for _ in 0..<10 { #expect(monitor.record(success: false) == .none) }
        #expect(monitor.phase == .starting)
        #expect(monitor.record(success: true) == .markHealthy)
        #expect(monitor.phase == .healthy)
        #expect(monitor.nextProbeDelay == .seconds(1))
    }

    @Test("2 failures take it out of the balancer, 5 restart it, one success brings it back")
    func thresholds() {
        var monitor = HealthMonitor()
        _ = monitor.record(success: true)
        #expect(monitor.record(success: false) == .none)
        #expect(monitor.record(success: false) == .markUnhealthy)
        #expect(monitor.phase == .unhealthy)
        #expect(monitor.record(success: true) == .markHealthy)
        #expect(monitor.consecutiveFailures == 0)
        let actions = (0..<5).map { _ in monitor.record(success: false) }
        #expect(actions == [.none, .markUnhealthy, .none, .none, .restart])
    }

    @Test("a success between failures starts the count again")
    func intermittent() {
        var monitor = HealthMonitor()
        _ = monitor.record(success: true)
        for _ in 0..<10 {
            #expect(monitor.record(success: false) == .none)
            #expect(monitor.record(success: true) == .none)
        }
        #expect(monitor.phase == .healthy)
    }

    @Test(
        "which answers count as alive",
        arguments: [
            (200, false, true), (302, false, true), (404, false, true), (500, false, false), (503, false, false),
            (200, true, true), (301, true, true), (404, true, false), (500, true, false),
        ])
    func statusCodes(status: Int, explicit: Bool, alive: Bool) {
        #expect(HealthMonitor.isSuccess(status: status, explicitPath: explicit) == alive)
    }
}

@Suite("Restart backoff")
struct RestartBackoffTests {
    @Test("1 s doubling to 30 s")
    func doubling() {
        var backoff = RestartBackoff()
        let delays = (0..<8).map { _ in backoff.delay(afterRunning: .seconds(1)) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
    }

    @Test("a run that lasted 30 s starts the sequence over")
    func recovery() {
        var backoff = RestartBackoff()
        _ = backoff.delay(afterRunning: .zero)
        _ = backoff.delay(afterRunning: .zero)
        #expect(backoff.delay(afterRunning: .zero) == .seconds(4))
        #expect(backoff.delay(afterRunning: .seconds(45)) == .seconds(1))
        #expect(backoff.delay(afterRunning: .zero) == .seconds(2))
    }
}
