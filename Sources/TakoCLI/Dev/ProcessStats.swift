import Foundation

/// CPU and memory of a dev app: its whole process group (a dev script's children count), read
/// from `/proc` on Linux. Elsewhere nothing is known and the dashboard shows dashes.
struct ProcessStats {
    struct Sample {
        var cpuPercent: Double?
        var rssBytes: Int?
    }

    private var previous: (pid: Int32, ticks: Int, at: ContinuousClock.Instant)?

    mutating func sample(group pid: Int32?) -> Sample {
        #if os(Linux)
        guard let pid else {
            previous = nil
            return Sample()
        }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        var ticks = 0
        var rss = 0
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where entry.first?.isNumber == true {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/stat") else { continue }
            let text = String(decoding: data, as: UTF8.self)
            // Fields after the command name, which is in parentheses and may hold spaces.
            guard let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 21, Int32(fields[2]) == pid else { continue }
            ticks += (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
            rss += (Int(fields[21]) ?? 0) * pageSize
        }
        let now = ContinuousClock.now
        var cpu: Double?
        if let previous, previous.pid == pid {
            let elapsed = now - previous.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if seconds > 0 { cpu = max(0, Double(ticks - previous.ticks) / ticksPerSecond / seconds * 100) }
        }
        previous = (pid, ticks, now)
        return Sample(cpuPercent: cpu, rssBytes: rss > 0 ? rss : nil)
        #else
        return Sample()
        #endif
    }
}
