import Foundation
import Testing

@testable import TakoSupervisor

@Suite("App log")
struct AppLogTests {
    private func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tako-log-\(UUID().uuidString.prefix(8))").path
    }

    @Test("each line carries the time, the instance and the stream")
    func format() throws {
        let log = try AppLog(directory: directory())
        log.append(instance: 2, stream: .stderr, "oops")
        let line = try #require(log.lastLines(1).first)
        #expect(line.hasSuffix(" [instance 2 stderr] oops"))
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "#, options: .regularExpression) != nil, "\(line)")
    }

    @Test("rotates at the size limit, keeps the configured number of files, and reads across them")
    func rotation() throws {
        let path = directory()
        let log = try AppLog(directory: path, maxBytes: 1000, keep: 3)
        for index in 0..<200 { log.append(instance: 1, stream: .stdout, "line \(index)") }
        let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        #expect(files == ["current.log", "current.log.1", "current.log.2", "current.log.3"])
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: path + "/" + file)[.size] as? Int ?? 0
            #expect(size <= 1000)
        }
        let last = log.lastLines(30)
        #expect(last.count == 30)
        #expect(last.last?.hasSuffix("line 199") == true)
        #expect(last.first?.hasSuffix("line 170") == true, "lines come in order across rotated files")
    }

    @Test("lines written from many threads never interleave")
    func concurrentWriters() async throws {
        let log = try AppLog(directory: directory())
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<200 { log.append(instance: writer, stream: .stdout, String(repeating: "x", count: 100) + " \(index)") }
                }
            }
        }
        let lines = log.lastLines(10_000)
        #expect(lines.count == 1600)
        #expect(lines.allSatisfy { $0.contains("] " + String(repeating: "x", count: 100) + " ") })
    }
}
