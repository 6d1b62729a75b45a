import Foundation
import NIOCore
import Testing

@testable import TakoDev

#if canImport(Glibc)
import Glibc
#endif

/// A DNS query as a resolver sends it: one question, recursion desired.
func dnsQuery(id: UInt16 = 0x1234, name: String, type: UInt16, flags: UInt16 = 0x0100, questions: UInt16 = 1) -> [UInt8] {
    var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), UInt8(flags >> 8), UInt8(flags & 0xff), 0, UInt8(questions), 0, 0, 0, 0, 0, 0]
    for label in name.split(separator: ".") {
        bytes.append(UInt8(label.utf8.count))
        bytes += Array(label.utf8)
    }
    bytes += [0, UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
    return bytes
}

@Suite("Dev DNS answers")
struct DNSMessageTests {
    let registered: Set<String> = ["web.tako.local", "api.web.tako.local"]
    func answer(_ packet: [UInt8]) -> [UInt8]? { DNSMessage.answer(packet) { registered.contains($0) } }
    func code(_ reply: [UInt8]) -> UInt8 { reply[3] & 0x0f }
    func answers(_ reply: [UInt8]) -> Int { Int(reply[6]) << 8 | Int(reply[7]) }

    @Test("a registered name gets loopback: A 127.0.0.1, AAAA ::1, both for ANY; any case")
    func registeredNames() throws {
        let a = try #require(answer(dnsQuery(name: "Web.Tako.Local", type: 1)))
        #expect(Array(a[0..<2]) == [0x12, 0x34], "the query's id")
        #expect(a[2] & 0x80 != 0 && a[2] & 0x04 != 0 && a[2] & 0x01 != 0, "QR, AA and RD set")
        #expect(code(a) == 0 && answers(a) == 1)
        #expect(Array(a.suffix(4)) == [127, 0, 0, 1])
        #expect(Array(a.suffix(16).prefix(6)) == [0xc0, 0x0c, 0, 1, 0, 1], "name points at the question; type A, class IN")
        let aaaa = try #require(answer(dnsQuery(name: "api.web.tako.local", type: 28)))
        #expect(answers(aaaa) == 1 && Array(aaaa.suffix(16)) == Array(repeating: 0, count: 15) + [1])
        let any = try #require(answer(dnsQuery(name: "web.tako.local", type: 255)))
        #expect(answers(any) == 2)
        let mx = try #require(answer(dnsQuery(name: "web.tako.local", type: 15)))
        #expect(code(mx) == 0 && answers(mx) == 0, "the name exists, with no such record")
    }

    @Test("every other name is NXDOMAIN", arguments: ["other.tako.local", "tako.local", "example.com", "web.tako.local.evil"])
    func otherNames(name: String) throws {
        let reply = try #require(answer(dnsQuery(name: name, type: 1)))
        #expect(code(reply) == 3 && answers(reply) == 0)
        #expect(reply[5] == 1, "the question is echoed")
    }

    @Test("malformed and unsupported queries get FORMERR or NOTIMP; responses and scraps get nothing")
    func malformed() throws {
        #expect(answer([1, 2, 3]) == nil)
        #expect(answer(dnsQuery(name: "web.tako.local", type: 1, flags: 0x8100)) == nil, "a response is never answered")
        #expect(code(try #require(answer(dnsQuery(name: "web.tako.local", type: 1, flags: 0x1100)))) == 4, "opcode 2: NOTIMP")
        #expect(code(try #require(answer(dnsQuery(name: "web.tako.local", type: 1, questions: 2)))) == 1)
        var pointer = dnsQuery(name: "a", type: 1)
        pointer.replaceSubrange(12..<14, with: [0xc0, 0x0c])
        #expect(code(try #require(answer(pointer))) == 1, "no compression pointers in a question")
        let cut = Array(dnsQuery(name: "web.tako.local", type: 1).dropLast(3))
        #expect(code(try #require(answer(cut))) == 1)
        let long = dnsQuery(name: Array(repeating: String(repeating: "x", count: 63), count: 5).joined(separator: "."), type: 1)
        #expect(code(try #require(answer(long))) == 1, "names over 255 bytes")
    }

    @Test("random packets never crash; a reply always carries the query's id and the response bit")
    func randomPackets() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            var packet = (0..<Int.random(in: 0..<80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if packet.count > 2, Bool.random(using: &generator) { packet[2] &= 0x7f }
            if let reply = answer(packet) {
                #expect(Array(reply.prefix(2)) == Array(packet.prefix(2)) && reply[2] & 0x80 != 0)
            }
        }
    }
}

@Suite("Dev DNS responder over UDP")
struct DNSResponderTests {
    /// Sends `packet` to the responder from a real UDP socket and returns the reply.
    func exchange(_ packet: [UInt8], port: Int) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(sent == packet.count)
        var buffer = [UInt8](repeating: 0, count: 1500)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { throw CancellationError() }
        return Array(buffer.prefix(count))
    }

    @Test("answers registered names over UDP and follows changes to the set")
    func overUDP() async throws {
        let responder = DNSResponder()
        let port = try await responder.start(port: 0).port ?? 0
        responder.setHosts(["web.tako.local"])
        let reply = try exchange(dnsQuery(name: "web.tako.local", type: 1), port: port)
        #expect(reply[3] & 0x0f == 0 && Array(reply.suffix(4)) == [127, 0, 0, 1])
        responder.setHosts([])
        let gone = try exchange(dnsQuery(name: "web.tako.local", type: 1), port: port)
        #expect(gone[3] & 0x0f == 3, "an unregistered name stops resolving")
        await responder.stop()
    }
}
