/// A streaming reader of tar archives as `tar` writes them on Linux and macOS: POSIX ustar
/// (with its name prefix), pax extended headers (`path`, `linkpath`, `size`) and GNU long
/// names. Bytes go in as they arrive; entries and their data come out, so an archive of any
/// size passes through in bounded memory.
///
/// The parser only reads the format. It accepts regular files, directories and symbolic
/// links and refuses everything else (hard links, devices, FIFOs): a release has no use for
/// them. Whether a name is safe to create is `ReleaseUnpacker`'s business.
public struct TarParser {
    public enum Kind: Equatable, Sendable {
        case file
        case directory
        case symlink(target: String)
    }

    public struct Entry: Equatable, Sendable {
        /// The member name as stored (`./app/main.py`, `app/`, ...).
        public var path: String
        public var kind: Kind
        /// Permission bits (`0o755`, ...).
        public var mode: Int
        public var size: Int64
    }

    public enum Event: Equatable {
        case begin(Entry)
        case data(ArraySlice<UInt8>)
        case end
    }

    /// Longest pax or GNU long-name record accepted.
    public static let maxExtendedHeader = 1 << 20

    private enum Extended {
        case pax
        case paxGlobal
        case longName
        case longLink
    }

    private enum State {
        case header
        case body(remaining: Int64, padding: Int)
        case extended(Extended, remaining: Int, padding: Int)
        case finished
    }

    private var state = State.header
    /// A header (or extended record) being assembled across chunks.
    private var pending: [UInt8] = []
    private var zeroBlocks = 0
    private var nextPath: String?
    private var nextLink: String?
    private var nextSize: Int64?

    public init() {}

    /// The end-of-archive marker (two zero blocks) has been read; anything after it is ignored.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Reads `bytes`, calling `emit` for each event they complete.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, _ emit: (Event) throws -> Void) throws {
        var rest = bytes
        while !rest.isEmpty {
            switch state {
            case .finished:
                return
            case .header:
                let take = min(512 - pending.count, rest.count)
                pending += rest.prefix(take)
                rest = rest.dropFirst(take)
                if pending.count == 512 {
                    let block = pending
                    pending.removeAll(keepingCapacity: true)
                    try header(block, emit)
                }
            case .body(let remaining, let padding):
                if remaining > 0 {
                    let take = Int(min(remaining, Int64(rest.count)))
                    try emit(.data(rest.prefix(take)))
                    rest = rest.dropFirst(take)
                    state = .body(remaining: remaining - Int64(take), padding: padding)
                    if remaining - Int64(take) == 0 {
                        try emit(.end)
                        if padding == 0 { state = .header }
                    }
                } else {
                    let take = min(padding, rest.count)
                    rest = rest.dropFirst(take)
                    state = padding - take == 0 ? .header : .body(remaining: 0, padding: padding - take)
                }
            case .extended(let kind, let remaining, let padding):
                if remaining > 0 {
                    let take = min(remaining, rest.count)
                    pending += rest.prefix(take)
                    rest = rest.dropFirst(take)
                    state = .extended(kind, remaining: remaining - take, padding: padding)
                    if remaining - take == 0 {
                        try extendedRecord(kind, pending)
                        pending.removeAll(keepingCapacity: true)
                        if padding == 0 { state = .header }
                    }
                } else {
                    let take = min(padding, rest.count)
                    rest = rest.dropFirst(take)
                    state = padding - take == 0 ? .header : .extended(kind, remaining: 0, padding: padding - take)
                }
            }
        }
    }

    /// The input has ended: it must have ended between entries.
    public func finish() throws(UserError) {
        switch state {
        case .finished:
            return
        case .header where pending.isEmpty && nextPath == nil && nextLink == nil && nextSize == nil:
            return
        default:
            throw UserError("the release archive ends in the middle of an entry", hint: "the upload was cut short; deploy again")
        }
    }

    // MARK: Headers

    private mutating func header(_ block: [UInt8], _ emit: (Event) throws -> Void) throws {
        if block.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 { state = .finished }
            return
        }
        zeroBlocks = 0
        guard Self.checksumMatches(block) else {
            throw UserError("the release archive is not a tar archive (bad header checksum)", hint: "deploy again; archives are made by tako deploy")
        }
        let size = try Self.number(block[124..<136], field: "size")
        let type = block[156]
        let isUstar = Array(block[257..<263]) == Array("ustar\0".utf8)
        func padded(_ size: Int64) -> Int { Int((512 - size % 512) % 512) }

        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= Self.maxExtendedHeader else {
                throw UserError("the release archive has an extended header of \(size) bytes", hint: "paths and links must be shorter")
            }
            let kind: Extended =
                switch type {
                case UInt8(ascii: "x"): .pax
                case UInt8(ascii: "g"): .paxGlobal
                case UInt8(ascii: "L"): .longName
                default: .longLink
                }
            state = .extended(kind, remaining: Int(size), padding: padded(size))
            if size == 0 { state = .header }
            return
        default:
            break
        }

        var path = Self.string(block[0..<100])
        if isUstar {
            let prefix = Self.string(block[345..<500])
            if !prefix.isEmpty { path = prefix + "/" + path }
        }
        path = nextPath ?? path
        let link = nextLink ?? Self.string(block[157..<257])
        let entrySize = nextSize ?? size
        nextPath = nil
        nextLink = nil
        nextSize = nil
        let mode = Int(try Self.number(block[100..<108], field: "mode") & 0o7777)

        let kind: Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symlink(target: link)
        case UInt8(ascii: "1"):
            throw UserError("the release archive has a hard link (\(path))", hint: "releases may hold files, directories and symbolic links only")
        default:
            throw UserError(
                "the release archive has an entry of type '\(Character(Unicode.Scalar(type)))' (\(path))",
                hint: "releases may hold files, directories and symbolic links only")
        }
        // Directories and links carry no data (a size on them is skipped, never written).
        let dataSize = kind == .file ? entrySize : 0
        try emit(.begin(Entry(path: path, kind: kind, mode: mode, size: dataSize)))
        if entrySize == 0 {
            try emit(.end)
            state = .header
        } else if kind == .file {
            state = .body(remaining: entrySize, padding: padded(entrySize))
        } else {
            try emit(.end)
            state = .body(remaining: 0, padding: Int(entrySize) + padded(entrySize))
        }
    }

    private mutating func extendedRecord(_ kind: Extended, _ bytes: [UInt8]) throws {
        switch kind {
        case .longName: nextPath = Self.string(bytes[...])
        case .longLink: nextLink = Self.string(bytes[...])
        case .paxGlobal: return
        case .pax:
            // Records are "LENGTH key=value\n", LENGTH counting the whole record.
            var index = 0
            while index < bytes.count {
                guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                    let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)),
                    length > space - index, index + length <= bytes.count, bytes[index + length - 1] == UInt8(ascii: "\n")
                else {
                    throw UserError("the release archive has a malformed pax header", hint: "deploy again; archives are made by tako deploy")
                }
                let record = bytes[(space + 1)..<(index + length - 1)]
                if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                    let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
                    let value = String(decoding: record[(equals + 1)...], as: UTF8.self)
                    switch key {
                    case "path": nextPath = value
                    case "linkpath": nextLink = value
                    case "size":
                        guard let size = Int64(value), size >= 0 else {
                            throw UserError("the release archive has a bad pax size '\(value)'", hint: "deploy again")
                        }
                        nextSize = size
                    default: break
                    }
                }
                index += length
            }
        }
    }

    // MARK: Fields

    static func checksumMatches(_ block: [UInt8]) -> Bool {
        guard let stored = try? number(block[148..<156], field: "checksum") else { return false }
        var sum: Int64 = 0
        for (index, byte) in block.enumerated() {
            sum += (148..<156).contains(index) ? 32 : Int64(byte)
        }
        return sum == stored
    }

    /// An octal field (NUL- or space-terminated), or GNU's base-256 form for large values.
    static func number(_ field: ArraySlice<UInt8>, field name: String) throws(UserError) -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            guard first == 0x80 else { throw UserError("the release archive has a negative \(name)", hint: "deploy again") }
            var value: Int64 = 0
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { throw UserError("the release archive has an oversized \(name)", hint: "deploy again") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var started = false
        for byte in field {
            if byte == 0 || (byte == UInt8(ascii: " ") && started) { break }
            if byte == UInt8(ascii: " ") { continue }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), value < Int64.max >> 3 else {
                throw UserError("the release archive has a malformed \(name) field", hint: "deploy again; archives are made by tako deploy")
            }
            started = true
            value = value << 3 | Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }
}
