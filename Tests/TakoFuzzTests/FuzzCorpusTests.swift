import Foundation
import TakoTestSupport
import Testing

@testable import TakoFuzz

/// The fuzz targets' committed inputs — seeds, and every crash the fuzzer found, kept as a
/// regression (`regress-*`) — replayed through the targets in every `make test`, plus a few
/// hundred mutations of them from a fixed seed. A crash here is a crash the fuzzer found
/// again (docs/reliability.md).
@Suite("Fuzz targets: seeds and regressions")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    static func inputs(_ target: FuzzTarget) throws -> [(String, [UInt8])] {
        let folder = corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            (name, [UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }

    @Test("every committed input runs through its target", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) async throws {
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 3, "a target has a small seed corpus")
        for (_, input) in inputs { await target.runAsync(input) }
    }

    @Test("mutations of the seeds from a fixed seed run through their target", arguments: FuzzTarget.allCases)
    func mutations(_ target: FuzzTarget) async throws {
        var generator = SplitMix64(seed: 0x7a6b_6f00 ^ UInt64(target.rawValue.utf8.count))
        let seeds = try Self.inputs(target).map(\.1)
        for round in 0..<200 {
            var input = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                let position = input.isEmpty ? 0 : Int(generator.next() % UInt64(input.count))
                switch generator.next() % 4 {
                case 0 where !input.isEmpty: input[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: input.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
                case 2 where !input.isEmpty: input.remove(at: position)
                default: input += input.prefix(Int(generator.next() % 16))
                }
            }
            await target.runAsync(input)
        }
    }
}
