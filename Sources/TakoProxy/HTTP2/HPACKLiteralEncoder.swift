import NIOCore
import NIOHPACK

/// Response header blocks as plain HPACK literals (RFC 7541 §6.2.2): no dynamic table and no
/// Huffman coding, as nginx does for most fields. The block is a little larger than a
/// table-indexed one, but costs no hashing, table upkeep or per-byte coding, which on a proxy
/// that relays small responses is the larger bill. Without a dynamic table, the client's
/// SETTINGS_HEADER_TABLE_SIZE never matters.
enum HPACKLiteralEncoder {
    static func encode(_ headers: HPACKHeaders, into block: inout ByteBuffer) {
        for (name, value, _) in headers {
            if name == ":status" {
                writeStatus(value, into: &block)
            } else {
                writeField(name: name, value: value, into: &block)
            }
        }
    }

    static func writeStatus(_ value: String, into block: inout ByteBuffer) {
        if let status = Int(value), (100...999).contains(status) {
            writeStatus(status, into: &block)
        } else {
            block.writeInteger(UInt8(0x08))
            writeString(value, into: &block)
        }
    }

    /// `:status` from the static table (indices 8–14) or as a literal with its indexed name.
    static func writeStatus(_ status: Int, into block: inout ByteBuffer) {
        let index: UInt8? =
            switch status {
            case 200: 8
            case 204: 9
            case 206: 10
            case 304: 11
            case 400: 12
            case 404: 13
            case 500: 14
            default: nil
            }
        if let index {
            block.writeInteger(0x80 | index)
        } else {
            // Literal without indexing, name index 8 in the 4-bit prefix; three digits.
            block.writeInteger(UInt8(0x08))
            block.writeInteger(UInt8(3))
            block.writeInteger(UInt8(0x30 + status / 100))
            block.writeInteger(UInt8(0x30 + status / 10 % 10))
            block.writeInteger(UInt8(0x30 + status % 10))
        }
    }

    /// A field from an HTTP/1.1 head's bytes, its name lower-cased (RFC 9113 §8.2.1).
    static func writeField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into block: inout ByteBuffer) {
        block.writeInteger(UInt8(0))
        writeInteger(name.count, prefixBits: 7, into: &block)
        block.writeWithUnsafeMutableBytes(minimumWritableBytes: name.count) { target in
            for offset in 0..<name.count {
                let byte = name[offset]
                target[offset] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            }
            return name.count
        }
        writeInteger(value.count, prefixBits: 7, into: &block)
        block.writeBytes(value)
    }

    /// A literal field without indexing, with a literal name.
    static func writeField(name: String, value: String, into block: inout ByteBuffer) {
        block.writeInteger(UInt8(0))
        writeString(name, into: &block)
        writeString(value, into: &block)
    }

    static func writeString(_ string: String, into block: inout ByteBuffer) {
        writeInteger(string.utf8.count, prefixBits: 7, into: &block)
        block.writeString(string)
    }

    /// RFC 7541 §5.1, with a zero flag bit above the prefix (no Huffman).
    static func writeInteger(_ value: Int, prefixBits: Int, into block: inout ByteBuffer) {
        let limit = (1 << prefixBits) - 1
        guard value >= limit else {
            block.writeInteger(UInt8(value))
            return
        }
        block.writeInteger(UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            block.writeInteger(UInt8(rest & 127 | 128))
            rest >>= 7
        }
        block.writeInteger(UInt8(rest))
    }
}
