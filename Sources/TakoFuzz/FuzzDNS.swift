import TakoDev

/// A UDP packet to the dev DNS responder. A reply keeps the query's ID and says it is one.
enum FuzzDNS {
    static func run(_ data: [UInt8]) {
        guard let reply = DNSMessage.answer(data, isRegistered: { $0.hasSuffix(".tako.local") }) else { return }
        FuzzFailure.check(reply.count >= 12 && reply.count <= 512 + data.count, "a reply of \(reply.count) bytes")
        FuzzFailure.check(reply[0] == data[0] && reply[1] == data[1], "the reply's ID differs from the query's")
        FuzzFailure.check(reply[2] & 0x80 != 0, "the reply is not marked as a response")
    }
}
