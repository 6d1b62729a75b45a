/// Turns what a client sent (Host header, request target) into the form routes are compared with.
///
/// Everything here runs on every proxied request and sees hostile input, so it works on UTF-8
/// bytes, never traps, and returns a slice of its input whenever that input is already normal —
/// the common case costs one scan and no allocation.
///
/// Path normalisation, in order:
/// - the query (`?…`) and fragment (`#…`) are cut off;
/// - percent-escapes of RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded, so
///   `%2e%2E` is `..`; every other escape keeps its meaning and only has its hex upper-cased.
///   In particular `%2F` stays encoded: a decoded slash would create a segment the client did not
///   send, and a backend that treats `%2F` as data must still see it as data;
/// - a `%` that does not start a valid escape becomes `%25`, so normalising twice changes nothing
///   (`%%34%31` would otherwise turn into `%41` and then into `A`);
/// - repeated slashes are merged (nginx `merge_slashes`) and dot-segments are removed per RFC 3986
///   §5.2.4, with `..` never climbing above `/`; a trailing slash is kept;
/// - an empty path, or one without a leading slash, is rooted at `/`.
///
/// An absolute-form target (`http://host/path`) is not split here: the proxy takes the host from
/// it and passes only the path.
public enum RoutePath {
    public static func normalize(_ rawPath: Substring) -> String {
        String(normalizedForMatching(rawPath))
    }

    public static func normalize(_ rawPath: String) -> String {
        switch normalized(rawPath[...]) {
        // Already normal and nothing cut off: hand back the caller's storage instead of a copy.
        case .slice(let slice) where slice.endIndex == rawPath.endIndex: rawPath
        case .slice(let slice): String(slice)
        case .rewritten(let path): path
        }
    }

    /// Removes a port from a Host header value; an IPv6 literal keeps its brackets (`[::1]:8080`
    /// → `[::1]`), so it can never be mistaken for a name.
    ///
    /// Lenient on purpose: an empty or non-numeric port is removed as well, since routes match
    /// any port and the listener already decided which port the request came in on.
    public static func hostWithoutPort(_ rawHost: Substring) -> Substring {
        let utf8 = rawHost.utf8
        let end = utf8.withContiguousStorageIfAvailable(hostEnd) ?? Array(utf8).withUnsafeBufferPointer(hostEnd)
        return rawHost[..<utf8.index(utf8.startIndex, offsetBy: end)]
    }

    /// Where the host ends: after the `]` of an IPv6 literal, else at the first `:`.
    private static func hostEnd(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return bytes.count }
            return close + 1
        }
        return bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
    }

    // MARK: - Matching forms

    /// The host a route is compared with: port removed, one trailing dot removed, ASCII
    /// lower-cased. `nil` when it cannot equal any route host — empty, longer than 253 bytes,
    /// an empty label, or a byte outside letters, digits, `-`, `_` and `.` (which also rules out
    /// IPv6 literals and non-ASCII, whose Unicode equivalences must never make two hosts equal).
    ///
    /// `_` is accepted because it occurs in real names under a wildcard (`my_box.example.com`),
    /// although a route itself cannot contain it. Allocates only when the host has upper case.
    static func canonicalHost(_ rawHost: Substring) -> Substring? {
        let utf8 = rawHost.utf8
        guard let scanned = utf8.withContiguousStorageIfAvailable(scanHost) else {
            return canonicalHost(Substring(String(rawHost)))  // bridged strings only; the copy is native
        }
        guard let (end, hasUppercase) = scanned else { return nil }
        let host = rawHost[..<utf8.index(utf8.startIndex, offsetBy: end)]
        guard hasUppercase else { return host }
        let lowered = String(unsafeUninitializedCapacity: end) { buffer in
            for (index, byte) in host.utf8.enumerated() {
                let isUpper = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
                buffer[index] = isUpper ? byte | 0x20 : byte
            }
            return end
        }
        return lowered[...]
    }

    /// The length of the canonical host at the start of `bytes`, or `nil` if there is none.
    private static func scanHost(_ bytes: UnsafeBufferPointer<UInt8>) -> (end: Int, hasUppercase: Bool)? {
        var end = hostEnd(bytes)
        if end > 0 && bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end > 0, end <= 253 else { return nil }

        var hasUppercase = false
        var previousWasDot = true  // a leading dot is an empty label
        for index in 0..<end {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"):
                previousWasDot = false
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                hasUppercase = true
                previousWasDot = false
            case UInt8(ascii: "."):
                if previousWasDot { return nil }
                previousWasDot = true
            default:
                return nil
            }
        }
        if previousWasDot { return nil }  // "a.." after the trailing dot was removed
        return (end, hasUppercase)
    }

    /// The normalised path, as a slice of `rawPath` when it is already normal (query cut off),
    /// otherwise as a slice of a new string.
    static func normalizedForMatching(_ rawPath: Substring) -> Substring {
        switch normalized(rawPath) {
        case .slice(let slice): slice
        case .rewritten(let path): path[...]
        }
    }

    private enum Normalized {
        case slice(Substring)
        case rewritten(String)
    }

    private static func normalized(_ rawPath: Substring) -> Normalized {
        let result = rawPath.utf8.withContiguousStorageIfAvailable { bytes -> Normalized in
            switch scan(bytes) {
            case .normal(let end):
                .slice(rawPath[..<rawPath.utf8.index(rawPath.utf8.startIndex, offsetBy: end)])
            case .needsRewrite(let end, let percents):
                .rewritten(rewrite(bytes, end: end, percents: percents))
            }
        }
        if let result { return result }
        // Only bridged, non-contiguous strings get here; normalise a native copy instead.
        var copy = String(rawPath)
        copy.makeContiguousUTF8()
        return .rewritten(String(normalizedForMatching(copy[...])))
    }

    // MARK: - Byte level

    private enum ScanResult {
        /// `bytes[0..<end]` is already normal.
        case normal(end: Int)
        /// `bytes[0..<end]` is the path; it holds `percents` `%` bytes.
        case needsRewrite(end: Int, percents: Int)
    }

    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")
    private static let percent = UInt8(ascii: "%")

    private static func isPathEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
    }

    /// One pass that finds where the path ends and whether anything in it needs rewriting.
    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> ScanResult {
        var needsRewrite = bytes.first != slash
        var percents = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if isPathEnd(byte) { break }
            if byte == percent {
                needsRewrite = true
                percents += 1
            } else if byte == slash && !needsRewrite {
                // Look at the segment that starts here: empty, "." or ".." all need a rewrite.
                let next = index + 1 < count ? bytes[index + 1] : nil
                if let next, next == slash {
                    needsRewrite = true
                } else if let next, next == dot {
                    let afterDot = index + 2 < count ? bytes[index + 2] : nil
                    if let afterDot, afterDot == dot {
                        let third = index + 3 < count ? bytes[index + 3] : nil
                        if third.map({ $0 == slash || isPathEnd($0) }) ?? true { needsRewrite = true }
                    } else if afterDot.map({ $0 == slash || isPathEnd($0) }) ?? true {
                        needsRewrite = true
                    }
                }
            }
            index += 1
        }
        return needsRewrite ? .needsRewrite(end: index, percents: percents) : .normal(end: index)
    }

    /// Rebuilds `bytes[0..<end]` segment by segment.
    ///
    /// The output never outgrows `end + 1 + 2 * percents` bytes: every kept segment is written
    /// with the slash that preceded it in the input (only a first segment without one adds a
    /// byte), decoding only shrinks, a stray `%` grows by two, and a closing slash reuses the
    /// slash or dot bytes of the segment it replaces.
    private static func rewrite(_ bytes: UnsafeBufferPointer<UInt8>, end: Int, percents: Int) -> String {
        let capacity = end + 1 + 2 * percents
        return String(unsafeUninitializedCapacity: capacity) { out in
            var written = 0
            var endsWithSlash = false
            var segmentStart = 0
            while true {
                var segmentEnd = segmentStart
                while segmentEnd < end && bytes[segmentEnd] != slash { segmentEnd += 1 }
                let isLast = segmentEnd >= end

                // Decode the segment after a tentative slash; keep it only if it is a real segment.
                out[written] = slash
                let length = decodeSegment(bytes, from: segmentStart, to: segmentEnd, into: out, at: written + 1)
                let first = length > 0 ? out[written + 1] : 0
                if length == 0 || (length == 1 && first == dot) {
                    endsWithSlash = isLast
                } else if length == 2 && first == dot && out[written + 2] == dot {
                    while written > 0 {
                        written -= 1
                        if out[written] == slash { break }
                    }
                    endsWithSlash = isLast
                } else {
                    written += 1 + length
                    endsWithSlash = false
                }

                if isLast { break }
                segmentStart = segmentEnd + 1
            }
            if written == 0 || endsWithSlash {
                out[written] = slash
                written += 1
            }
            return written
        }
    }

    /// Writes `bytes[start..<end]` with unreserved escapes decoded, other escapes upper-cased and
    /// stray `%` encoded; returns the number of bytes written.
    private static func decodeSegment(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int,
        into out: UnsafeMutableBufferPointer<UInt8>,
        at position: Int
    ) -> Int {
        var read = start
        var write = position
        while read < end {
            let byte = bytes[read]
            guard byte == percent else {
                out[write] = byte
                write += 1
                read += 1
                continue
            }
            if read + 2 < end, let high = hexValue(bytes[read + 1]), let low = hexValue(bytes[read + 2]) {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    out[write] = decoded
                    write += 1
                } else {
                    out[write] = percent
                    out[write + 1] = hexDigit(high)
                    out[write + 2] = hexDigit(low)
                    write += 3
                }
                read += 3
            } else {
                out[write] = percent
                out[write + 1] = UInt8(ascii: "2")
                out[write + 2] = UInt8(ascii: "5")
                write += 3
                read += 1
            }
        }
        return write - position
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    /// RFC 3986 §2.3: the characters whose escaped and unescaped forms are equivalent.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
