import Foundation

/// Where an app's name came from, so `tako validate` can say it.
public enum AppNameSource: Hashable, Sendable, CustomStringConvertible {
    case takoToml
    case manifest(String)
    case directory

    public var description: String {
        switch self {
        case .takoToml: "tako.toml"
        case .manifest(let file): file
        case .directory: "the directory name"
        }
    }
}

/// Derives an app name when tako.toml does not set one: the project manifest's name
/// (package.json, Package.swift, pyproject.toml, go.mod), sanitised, else the directory name.
public enum AppNameDetector {
    public static func detect(in directory: URL) -> (name: String, source: AppNameSource)? {
        let candidates: [(String, (String) -> String?)] = [
            ("package.json", packageJSONName),
            ("Package.swift", swiftPackageName),
            ("pyproject.toml", pyprojectName),
            ("go.mod", goModuleName),
        ]
        for (file, extract) in candidates {
            let url = directory.appendingPathComponent(file)
            guard let text = try? String(contentsOf: url, encoding: .utf8),
                let raw = extract(text),
                let name = AppName.sanitize(raw)
            else { continue }
            return (name, .manifest(file))
        }
        let directoryName = directory.standardizedFileURL.lastPathComponent
        if let name = AppName.sanitize(directoryName) {
            return (name, .directory)
        }
        return nil
    }

    static func packageJSONName(_ text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object["name"] as? String
    }

    /// The `name:` argument of `Package(...)`; a manifest is Swift code, so this reads the
    /// first `Package(name: "...")` rather than evaluating it.
    static func swiftPackageName(_ text: String) -> String? {
        guard let call = text.range(of: "Package(") else { return nil }
        let rest = text[call.upperBound...].drop(while: { $0.isWhitespace })
        guard rest.hasPrefix("name:") else { return nil }
        let value = rest.dropFirst("name:".count).drop(while: { $0.isWhitespace })
        guard value.first == "\"" else { return nil }
        let body = value.dropFirst()
        guard let end = body.firstIndex(of: "\"") else { return nil }
        return String(body[..<end])
    }

    static func pyprojectName(_ text: String) -> String? {
        guard let document = try? TOMLParser.parse(text) else { return nil }
        for path in [["project", "name"], ["tool", "poetry", "name"]] {
            var table = document.root
            var found: String?
            for (index, key) in path.enumerated() {
                guard let node = table[key] else { break }
                if index == path.count - 1 {
                    if case .string(let value) = node.value { found = value }
                } else if case .table(let inner) = node.value {
                    table = inner
                } else {
                    break
                }
            }
            if let found { return found }
        }
        return nil
    }

    /// The last element of the module path, without a major-version suffix (`/v2`).
    static func goModuleName(_ text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "module" else { continue }
            var parts = words[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).split(separator: "/")
            if parts.count > 1, let last = parts.last, last.first == "v", last.dropFirst().allSatisfy(\.isNumber) {
                parts.removeLast()
            }
            return parts.last.map(String.init)
        }
        return nil
    }
}
