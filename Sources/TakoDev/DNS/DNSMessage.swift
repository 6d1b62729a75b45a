/// The one kind of DNS exchange the dev daemon answers: a standard query for one name.
///
/// `answer(_:isRegistered:)` reads a query packet and writes the reply: loopback addresses
/// (`127.0.0.1`, `::1`) for registered hosts, NXDOMAIN for every other name, so the dev
/// names resolve only while their app is registered. Malformed packets get FORMERR (or no
/// reply at all when not even the header can be read); other opcodes get NOTIMP.
/// Pure byte work with every length checked against what arrived.
public enum DNSMessage {
    public enum RecordType: UInt16 {
        case a = 1
        case aaaa = 28
        case any = 255
    }

    public enum ResponseCode: UInt8 {
        case noError = 0
        case formatError = 1
        case nameError = 3
        case notImplemented = 4
    }

    /// Answers are short-lived so a name that goes away stops resolving quickly.
    public static let ttl: UInt32 = 5
    /// Longest name (RFC 1035 §2.3.4).
    static let maxNameLength = 255

    /// A parsed question.
    public struct Question: Equatable, Sendable {
        /// Lower-cased, without the trailing dot.
        public var name: String
        public var type: UInt16
        public var recordClass: UInt16
    }

    /// The reply to `packet`, or nil when it should be dropped (too short to have an ID, or
    /// itself a response).
    public static func answer(_ packet: [UInt8], isRegistered: (String) -> Bool) -> [UInt8]? {
        guard packet.count >= 12 else { return nil }
        let flags = UInt16(packet[2]) << 8 | UInt16(packet[3])
        guard flags & 0x8000 == 0 else { return nil }  // a response, not a query
        let opcode = UInt8((flags >> 11) & 0x0f)
        let recursionDesired = flags & 0x0100 != 0
        guard opcode == 0 else { return reply(to: packet, question: nil, code: .notImplemented, recursionDesired: recursionDesired) }
        let questions = UInt16(packet[4]) << 8 | UInt16(packet[5])
        guard questions == 1, let (question, end) = parseQuestion(packet, at: 12) else {
            return reply(to: packet, question: nil, code: .formatError, recursionDesired: recursionDesired)
        }
        let raw = Array(packet[12..<end])
        guard question.recordClass == 1 || question.recordClass == 255, isRegistered(question.name) else {
            return reply(to: packet, question: raw, code: .nameError, recursionDesired: recursionDesired)
        }
        var answers: [[UInt8]] = []
        if question.type == RecordType.a.rawValue || question.type == RecordType.any.rawValue {
            answers.append(record(type: .a, data: [127, 0, 0, 1]))
        }
        if question.type == RecordType.aaaa.rawValue || question.type == RecordType.any.rawValue {
            answers.append(record(type: .aaaa, data: Array(repeating: 0, count: 15) + [1]))
        }
        // Another type for a registered name: the name exists, with no such record (NODATA).
        return reply(to: packet, question: raw, code: .noError, recursionDesired: recursionDesired, answers: answers)
    }

    /// The question at `offset`: its labels (no compression pointers in a query), type and
    /// class; nil when malformed. Returns the offset just past it.
    static func parseQuestion(_ packet: [UInt8], at offset: Int) -> (Question, Int)? {
        var index = offset
        var labels: [String] = []
        var length = 0
        while true {
            guard index < packet.count else { return nil }
            let size = Int(packet[index])
            index += 1
            if size == 0 { break }
            guard size <= 63, index + size <= packet.count else { return nil }  // 0xC0.. pointers land here too
            length += size + 1
            guard length <= maxNameLength else { return nil }
            let bytes = packet[index..<(index + size)]
            guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ".") }) else { return nil }
            labels.append(String(decoding: bytes, as: UTF8.self).lowercased())
            index += size
        }
        guard index + 4 <= packet.count else { return nil }
        let type = UInt16(packet[index]) << 8 | UInt16(packet[index + 1])
        let recordClass = UInt16(packet[index + 2]) << 8 | UInt16(packet[index + 3])
        return (Question(name: labels.joined(separator: "."), type: type, recordClass: recordClass), index + 4)
    }

    /// An answer record whose name points back at the question (offset 12).
    private static func record(type: RecordType, data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0xc0, 0x0c]
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff), 0, 1]
        bytes += [UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xff), UInt8((ttl >> 8) & 0xff), UInt8(ttl & 0xff)]
        bytes += [UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
        return bytes
    }

    private static func reply(
        to packet: [UInt8], question: [UInt8]?, code: ResponseCode, recursionDesired: Bool, answers: [[UInt8]] = []
    ) -> [UInt8] {
        // QR, the query's opcode, AA (this server owns the names), RD echoed; RA off.
        let opcodeBits = packet[2] & 0x78
        var bytes: [UInt8] = [packet[0], packet[1], 0x80 | opcodeBits | 0x04 | (recursionDesired ? 0x01 : 0), code.rawValue]
        bytes += [0, question == nil ? 0 : 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        if let question { bytes += question }
        for answer in answers { bytes += answer }
        return bytes
    }
}
