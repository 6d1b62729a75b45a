import Foundation
import TakoCore

/// `tako-server ctl restart --hard`: asks the daemon for a plain stop and start
/// (`restart_server` with `hard`) and waits until the restarted process answers. The daemon
/// executes itself again in place, so the pid stays; `hello.started_at` tells the new
/// process from the old.
public enum HardRestart {
    public static func perform(socket: String, timeout: Duration) throws(UserError) -> ServerRestart {
        let before = try ManagementClient.call(.hello, path: socket, as: HelloInfo.self)
        guard before.capabilities.contains("hard_restart"), let startedAt = before.startedAt else {
            throw UserError("tako-server \(before.serverVersion) cannot restart itself", hint: "restart its service: systemctl restart tako-server")
        }
        do {
            _ = try ManagementClient.call(.restartServer(hard: true), path: socket, as: ServerRestart.self)
        } catch {
            // The answer can be lost when the stop closes the connection first; a refusal
            // comes from a server that still runs as before.
            if let still = try? ManagementClient.call(.hello, path: socket, as: HelloInfo.self), still.startedAt == startedAt,
                !error.message.contains("connection")
            {
                throw error
            }
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let now = try? ManagementClient.call(.hello, path: socket, as: HelloInfo.self, timeout: .seconds(5)),
                let started = now.startedAt, started != startedAt, let pid = now.pid
            {
                try waitForApps(socket: socket, deadline: deadline, timeout: timeout)
                return ServerRestart(pid: pid, previousPid: before.pid ?? pid)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw UserError(
            "tako-server did not answer again within \(timeout.components.seconds) s of the hard restart",
            hint: "see its log (journalctl -u tako-server); systemd starts it again if it exited")
    }

    /// The restarted server answers before its apps do: waits until every app that should
    /// run has a healthy instance again (or is idle, stopped or failed, which it says).
    static func waitForApps(socket: String, deadline: ContinuousClock.Instant, timeout: Duration) throws(UserError) {
        var waiting: [String] = []
        while ContinuousClock.now < deadline {
            let report = try ManagementClient.call(.status(app: nil), path: socket, as: StatusReport.self)
            waiting = report.apps.filter { app in
                switch app.state {
                case .idle, .stopped, .error: false
                case .running, .deploying: !app.instances.contains { $0.state == .healthy }
                }
            }.map(\.name)
            if waiting.isEmpty { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw UserError(
            "tako-server is back, but \(waiting.joined(separator: ", ")) had no healthy instance within \(timeout.components.seconds) s",
            hint: "see the app's log: tako logs")
    }
}
