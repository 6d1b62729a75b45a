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

    /// `:status` from the static table (indices 8–14) or as a literal with its indexed name.
    static func writeStatus(_ value: String, into block: inout ByteBuffer) {
        let index: UInt8? =
            switch value {
            case "200": 8
            case "204": 9
            case "206": 10
            case "304": 11
            case "400": 12
            case "404": 13
            case "500": 14
            default: nil
            }
        if let index {
            block.writeInteger(0x80 | index)
        } else {
            // Literal without indexing, name index 8 in the 4-bit prefix.
            block.writeInteger(UInt8(0x08))
            writeString(value, into: &block)
        }
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
