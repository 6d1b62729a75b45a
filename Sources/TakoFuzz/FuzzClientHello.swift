import TakoProxy

/// The SNI reader, on the input and on its prefixes: once a prefix gives an answer, every
/// longer input gives the same one (the listener acts on the first answer it gets).
enum FuzzClientHello {
    static func run(_ data: [UInt8]) {
        let full = ProxyFuzzing.clientHelloServerName(data)
        var cut = 0
        while cut < data.count {
            cut = Swift.min(data.count, cut * 2 + 1)
            if let early = ProxyFuzzing.clientHelloServerName(Array(data.prefix(cut))) {
                FuzzFailure.check(early == full, "a prefix of \(cut) bytes answered \(String(describing: early)), the whole \(String(describing: full))")
                return
            }
        }
    }
}
