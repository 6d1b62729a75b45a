/// Turns what a client sent (Host header, request target) into the form routes are compared with.
///
/// Everything here runs on every proxied request and sees hostile input, so it works on UTF-8
/// bytes, never traps, and hands the caller a view of its own bytes whenever they are already
/// normal — the common case costs one scan and no allocation; a rewrite uses a scratch buffer.
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
        var rawPath = rawPath
        return rawPath.withUTF8 { normalizedString($0, unchanged: nil) }
    }

    public static func normalize(_ rawPath: String) -> String {
        var bytes = rawPath
        return bytes.withUTF8 { normalizedString($0, unchanged: rawPath) }
    }

    /// Removes a port from a Host header value; an IPv6 literal keeps its brackets (`[::1]:8080`
    /// → `[::1]`), so it can never be mistaken for a name.
    ///
    /// Lenient on purpose: an empty or non-numeric port is removed as well, since routes match
    /// any port and the listener already decided which port the request came in on.
    public static func hostWithoutPort(_ rawHost: Substring) -> Substring {
        var bytes = rawHost
        let end = bytes.withUTF8(hostEnd)
        return rawHost[..<rawHost.utf8.index(rawHost.utf8.startIndex, offsetBy: end)]
    }

    // MARK: - Matching forms

    /// Calls `body` with the host a route is compared with: port removed, one trailing dot
    /// removed, ASCII lower-cased. Returns `nil` without calling it when the host cannot equal any
    /// route host — empty, longer than 253 bytes, an empty label, or a byte outside letters,
    /// digits, `-`, `_` and `.` (which rules out IPv6 literals, and non-ASCII text whose Unicode
    /// equivalences must never make two hosts equal).
    ///
    /// `_` is accepted because it occurs in real names under a wildcard (`my_box.example.com`),
    /// although a route itself cannot contain it.
    static func withCanonicalHost<Result>(
        _ rawHost: String,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result?
    ) -> Result? {
        var rawHost = rawHost
        return rawHost.withUTF8 { raw -> Result? in
            guard let (end, hasUppercase) = scanHost(raw) else { return nil }
            let host = UnsafeBufferPointer(rebasing: raw[..<end])
            guard hasUppercase else { return body(host) }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end) { lowered in
                for index in 0..<end {
                    let byte = host[index]
                    lowered[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                }
                return body(UnsafeBufferPointer(lowered))
            }
        }
    }

    /// Calls `body` with the normalised bytes of `rawPath`.
    static func withNormalizedPath<Result>(
        _ rawPath: String,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        var rawPath = rawPath
        return rawPath.withUTF8 { bytes in
            switch scan(bytes) {
            case .normal(let end):
                return body(UnsafeBufferPointer(rebasing: bytes[..<end]))
            case .needsRewrite(let end, let percents):
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rewriteCapacity(end, percents)) { out in
                    let count = rewrite(bytes, end: end, into: out)
                    return body(UnsafeBufferPointer(rebasing: out[..<count]))
                }
            }
        }
    }

    private static func normalizedString(_ bytes: UnsafeBufferPointer<UInt8>, unchanged whole: String?) -> String {
        switch scan(bytes) {
        case .normal(let end):
            // Already normal and nothing cut off: hand back the caller's storage instead of a copy.
            if end == bytes.count, let whole { return whole }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        case .needsRewrite(let end, let percents):
            return String(unsafeUninitializedCapacity: rewriteCapacity(end, percents)) {
                rewrite(bytes, end: end, into: $0)
            }
        }
    }

    /// Where the host ends: after the `]` of an IPv6 literal, else at the first `:`.
    private static func hostEnd(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return bytes.count }
            return close + 1
        }
        return bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
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

    /// Whether `bytes` starts with the bytes of `prefix` — byte-wise on purpose: `String`
    /// comparison would treat canonically equivalent text (U+037E and `;`) as equal.
    static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: String) -> Bool {
        let length = prefix.utf8.count
        guard bytes.count >= length else { return false }
        let compared = prefix.utf8.withContiguousStorageIfAvailable { prefixBytes in
            for index in 0..<length where bytes[index] != prefixBytes[index] { return false }
            return true
        }
        return compared ?? bytes.starts(with: prefix.utf8)
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

    /// How much room ``rewrite(_:end:into:)`` may need. The output never outgrows the input by
    /// more than this: every kept segment is written with the slash that preceded it in the input
    /// (only a first segment without one adds a byte), decoding only shrinks, a stray `%` grows by
    /// two, and a closing slash reuses the slash or dot bytes of the segment it replaces.
    private static func rewriteCapacity(_ end: Int, _ percents: Int) -> Int {
        end + 1 + 2 * percents
    }

    /// Rebuilds `bytes[0..<end]` segment by segment into `out`; returns the bytes written.
    private static func rewrite(
        _ bytes: UnsafeBufferPointer<UInt8>,
        end: Int,
        into out: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
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
