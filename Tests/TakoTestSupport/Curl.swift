import Foundation

/// curl, as a client would use the proxy. `--resolve` sends any host to the proxy's port.
public struct Curl {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    public static func run(_ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, output: Data, errors: String) {
        let result = try Program.run(
            "/usr/bin/env", ["curl", "--silent", "--show-error", "--max-time", "30"] + arguments, stdin: stdin)
        return (result.status, result.stdoutData, result.stderr)
    }

    /// One request through the proxy on `port` to `http://host/path`.
    public static func request(
        port: Int, host: String, path: String, method: String = "GET", headers: [String] = [], body: Data? = nil
    ) throws -> Response {
        var arguments = ["--include", "-X", method, "http://\(host):\(port)\(path)", "--connect-to", "\(host):\(port):127.0.0.1:\(port)"]
        for header in headers { arguments += ["-H", header] }
        if body != nil { arguments += ["--data-binary", "@-"] }
        let result = try run(arguments, stdin: body)
        guard result.status == 0 else { throw TestSupportError(message: "curl failed: \(result.errors)") }
        return parse(result.output)
    }

    /// Splits `--include` output into status, headers (last response) and body.
    public static func parse(_ data: Data) -> Response {
        var rest = data[...]
        var response = Response(status: 0, headers: [:], body: Data())
        while let end = rest.firstRange(of: Data("\r\n\r\n".utf8)) {
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ")
            response.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            response.headers = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                response.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            rest = rest[end.upperBound...]
            if response.status >= 200 { break }  // skip 100 Continue
        }
        response.body = Data(rest)
        return response
    }
}
