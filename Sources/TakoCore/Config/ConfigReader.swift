/// Reads typed values out of parsed TOML and records a located `ConfigError` for every
/// value of the wrong type, so one pass reports every problem in a file.
struct ConfigReader {
    let file: String
    var problems: [ConfigError] = []

    init(file: String) {
        self.file = file
    }

    /// Parses `text` as TOML; a syntax error is reported (with its line) and gives nil.
    mutating func document(_ text: String) -> TOMLDocument? {
        do {
            return try TOMLParser.parse(text)
        } catch {
            report(.syntax, line: error.location.line, key: nil, error.message, hint: error.hint)
            return nil
        }
    }

    mutating func report(
        _ code: ConfigError.Code, line: Int?, key: String?, _ detail: String, hint: String? = nil,
        severity: ConfigError.Severity = .error
    ) {
        problems.append(ConfigError(code, file: file, line: line, key: key, detail, hint: hint, severity: severity))
    }

    mutating func string(_ entry: TOMLTable.Entry, path: String) -> String? {
        if case .string(let value) = entry.node.value { return value }
        wrongType(entry, path: path, expected: "a string", example: "\(entry.key) = \"...\"")
        return nil
    }

    mutating func integer(_ entry: TOMLTable.Entry, path: String, range: ClosedRange<Int>) -> Int? {
        guard case .integer(let value) = entry.node.value else {
            wrongType(entry, path: path, expected: "a whole number", example: "\(entry.key) = \(range.lowerBound)")
            return nil
        }
        guard value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else {
            report(
                .invalidValue, line: entry.keyLocation.line, key: path,
                "'\(path)' is \(value); it must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return Int(value)
    }

    mutating func boolean(_ entry: TOMLTable.Entry, path: String) -> Bool? {
        if case .boolean(let value) = entry.node.value { return value }
        wrongType(entry, path: path, expected: "true or false", example: "\(entry.key) = true")
        return nil
    }

    mutating func table(_ entry: TOMLTable.Entry, path: String) -> TOMLTable? {
        if case .table(let table) = entry.node.value { return table }
        wrongType(entry, path: path, expected: "a table", example: "[\(path)]")
        return nil
    }

    /// An environment variable's value: any scalar, as the text an app would read.
    mutating func variable(_ entry: TOMLTable.Entry, path: String) -> String? {
        switch entry.node.value {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .float(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .boolean(let value): return value ? "true" : "false"
        case .datetime(let value): return value
        case .array, .table:
            wrongType(entry, path: path, expected: "a string, number or boolean", example: "\(entry.key) = \"...\"")
            return nil
        }
    }

    mutating func unknownKey(_ entry: TOMLTable.Entry, in section: String, known: [String]) {
        let shown = section.isEmpty ? "'\(entry.key)'" : "'\(entry.key)' in [\(section)]"
        report(
            .unknownKey, line: entry.keyLocation.line, key: section.isEmpty ? entry.key : "\(section).\(entry.key)",
            "unknown key \(shown)", hint: DidYouMean.hint(for: entry.key, among: known))
    }

    private mutating func wrongType(_ entry: TOMLTable.Entry, path: String, expected: String, example: String) {
        report(
            .wrongType, line: entry.keyLocation.line, key: path,
            "'\(path)' must be \(expected), not \(article(entry.node.value.typeName))", hint: "write it as: \(example)")
    }

    private func article(_ word: String) -> String {
        let vowels: Set<Character> = ["a", "e", "i", "o", "u"]
        return (word.first.map { vowels.contains($0) } ?? false ? "an " : "a ") + word
    }
}
