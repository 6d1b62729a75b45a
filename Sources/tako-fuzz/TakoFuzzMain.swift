import Foundation
import TakoFuzz

// Two builds of one program. With -DFUZZING (and -sanitize=fuzzer, `make fuzz`), libFuzzer
// supplies main and calls the entry below with each input for the target named by
// TAKO_FUZZ_TARGET. Otherwise it replays files: `tako-fuzz TARGET FILE...` (a crash found by
// the fuzzer, reproduced in a debugger-friendly build).

#if FUZZING
private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["TAKO_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data(
            "set TAKO_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    target.run(bytes)
    return 0
}
#else
@main
struct TakoFuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: tako-fuzz TARGET FILE...   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(64)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(1)
            }
            target.run([UInt8](data))
            print("\(path): ok")
        }
    }
}
#endif
