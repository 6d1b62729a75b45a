extension TOMLParser {
    /// A table while it is being built; tables are shared by reference so headers and dotted
    /// keys can reopen them.
    final class TableBuilder {
        enum Kind {
            /// Created by a header prefix (`a` in `[a.b]`) and not defined yet.
            case implicit
            /// Defined by a `[header]` or `[[header]]`, or the root, or an inline table.
            case header
            /// Created or extended by dotted keys (`a` in `a.b = 1`).
            case dotted
        }

        var kind: Kind
        var location: SourceLocation
        /// How many tables enclose this one; the root is 0.
        let depth: Int
        var entries: [EntryBuilder] = []
        private var indexByKey: [String: Int] = [:]

        init(kind: Kind, location: SourceLocation, depth: Int) {
            self.kind = kind
            self.location = location
            self.depth = depth
        }

        func index(of key: String) -> Int? { indexByKey[key] }

        func append(_ entry: EntryBuilder) {
            indexByKey[entry.key] = entries.count
            entries.append(entry)
        }

        func build() -> TOMLTable {
            var table = TOMLTable(location: location)
            table.entries.reserveCapacity(entries.count)
            for entry in entries {
                table.entries.append(
                    TOMLTable.Entry(key: entry.key, keyLocation: entry.keyLocation, node: entry.child.build()))
            }
            return table
        }
    }

    /// An array of tables made by `[[header]]`s; never empty.
    final class TableArrayBuilder {
        let location: SourceLocation
        private(set) var tables: [TableBuilder]
        /// The most recently appended table, which later headers and keys extend.
        private(set) var last: TableBuilder

        init(location: SourceLocation, first: TableBuilder) {
            self.location = location
            self.tables = [first]
            self.last = first
        }

        func append(_ table: TableBuilder) {
            tables.append(table)
            last = table
        }
    }

    enum NodeBuilder {
        /// A finished value: a scalar, a static array or an inline table. Never extended.
        case value(TOMLNode)
        case table(TableBuilder)
        case tableArray(TableArrayBuilder)

        func build() -> TOMLNode {
            switch self {
            case .value(let node):
                return node
            case .table(let table):
                return TOMLNode(value: .table(table.build()), location: table.location)
            case .tableArray(let array):
                let elements = array.tables.map { TOMLNode(value: .table($0.build()), location: $0.location) }
                return TOMLNode(value: .array(elements), location: array.location)
            }
        }
    }

    struct EntryBuilder {
        var key: String
        var keyLocation: SourceLocation
        var child: NodeBuilder
    }
}

extension TOMLParser.Parser {
    typealias TableBuilder = TOMLParser.TableBuilder
    typealias Key = TOMLParser.Key

    // MARK: Key/value pairs

    /// Adds `key = node` to `table`, creating the tables a dotted key implies.
    mutating func insert(_ node: TOMLNode, at key: [Key], into table: TableBuilder) throws(TOMLParseError) {
        guard let last = key.last else { return }
        var current = table
        for i in 0..<(key.count - 1) {
            current = try descendForDottedKey(key, segment: i, from: current)
        }
        if let index = current.index(of: last.name) {
            let existing = current.entries[index]
            let what: String
            switch existing.child {
            case .value: what = "first defined on line \(existing.keyLocation.line)"
            case .table: what = "already used for a table on line \(existing.keyLocation.line)"
            case .tableArray: what = "already used for an array of tables on line \(existing.keyLocation.line)"
            }
            throw TOMLParseError(message: "duplicate key '\(Self.display(key))' (\(what))", location: last.location)
        }
        current.append(TOMLParser.EntryBuilder(key: last.name, keyLocation: last.location, child: .value(node)))
    }

    /// The table that segment `i` of a dotted key names, created if needed.
    private mutating func descendForDottedKey(
        _ key: [Key], segment i: Int, from current: TableBuilder
    ) throws(TOMLParseError) -> TableBuilder {
        let segment = key[i]
        if let index = current.index(of: segment.name) {
            let entry = current.entries[index]
            let line = entry.keyLocation.line
            let path = Self.display(Array(key[...i]))
            switch entry.child {
            case .table(let table):
                switch table.kind {
                case .dotted:
                    return table
                case .implicit:
                    table.kind = .dotted
                    return table
                case .header:
                    throw TOMLParseError(
                        message: "cannot add to table '\(path)' with a dotted key: it is defined by a header on line \(line)",
                        location: segment.location,
                        hint: "add the key under that table's header instead")
                }
            case .tableArray:
                throw TOMLParseError(
                    message: "cannot add to '\(path)' with a dotted key: it is an array of tables (defined on line \(line))",
                    location: segment.location)
            case .value(let node):
                throw valueInTheWay(node, path: path, line: line, what: "key '\(Self.display(key))'",
                                    at: segment.location)
            }
        }
        guard current.depth < TOMLParser.maxNestingDepth else { throw tooDeep(at: segment.location) }
        let table = TableBuilder(kind: .dotted, location: segment.location, depth: current.depth + 1)
        current.append(TOMLParser.EntryBuilder(key: segment.name, keyLocation: segment.location, child: .table(table)))
        return table
    }

    private func valueInTheWay(
        _ node: TOMLNode, path: String, line: Int, what: String, at location: SourceLocation
    ) -> TOMLParseError {
        if case .table = node.value {
            return TOMLParseError(
                message: "cannot define \(what): '\(path)' is an inline table (defined on line \(line)), which cannot be extended",
                location: location,
                hint: "add the key inside the inline table's { } instead")
        }
        let type = node.value.typeName
        let article = type == "integer" || type == "array" ? "an" : "a"
        return TOMLParseError(
            message: "cannot define \(what): '\(path)' is already \(article) \(type) (defined on line \(line))",
            location: location)
    }

    // MARK: Headers

    /// Defines the table named by a `[header]` or appends one for a `[[header]]`.
    mutating func openTable(
        path: [Key], isArray: Bool, at headerLocation: SourceLocation, root: TableBuilder
    ) throws(TOMLParseError) -> TableBuilder {
        guard let last = path.last else { return root }
        let name = Self.display(path)
        let what = isArray ? "array of tables [[\(name)]]" : "table [\(name)]"
        var current = root
        for i in 0..<(path.count - 1) {
            let segment = path[i]
            if let index = current.index(of: segment.name) {
                let entry = current.entries[index]
                switch entry.child {
                case .table(let table):
                    current = table
                case .tableArray(let array):
                    current = array.last
                case .value(let node):
                    throw valueInTheWay(node, path: Self.display(Array(path[...i])), line: entry.keyLocation.line,
                                        what: what, at: segment.location)
                }
            } else {
                guard current.depth < TOMLParser.maxNestingDepth else { throw tooDeep(at: segment.location) }
                let table = TableBuilder(kind: .implicit, location: segment.location, depth: current.depth + 1)
                current.append(TOMLParser.EntryBuilder(
                    key: segment.name, keyLocation: segment.location, child: .table(table)))
                current = table
            }
        }
        guard current.depth < TOMLParser.maxNestingDepth else { throw tooDeep(at: last.location) }
        let defined = TableBuilder(kind: .header, location: headerLocation, depth: current.depth + 1)
        guard let index = current.index(of: last.name) else {
            let child: TOMLParser.NodeBuilder = isArray
                ? .tableArray(TOMLParser.TableArrayBuilder(location: headerLocation, first: defined))
                : .table(defined)
            current.append(TOMLParser.EntryBuilder(key: last.name, keyLocation: headerLocation, child: child))
            return defined
        }
        let entry = current.entries[index]
        let line = entry.keyLocation.line
        switch (entry.child, isArray) {
        case (.tableArray(let array), true):
            array.append(defined)
            return defined
        case (.table(let table), false) where table.kind == .implicit:
            table.kind = .header
            table.location = headerLocation
            current.entries[index].keyLocation = headerLocation
            return table
        case (.table(let table), false):
            let message = table.kind == .dotted
                ? "table [\(name)] was already defined with dotted keys on line \(line)"
                : "table [\(name)] is defined twice (first on line \(line))"
            let hint = table.kind == .dotted
                ? "a table made with dotted keys cannot be reopened with a [header]"
                : "merge the two [\(name)] sections into one"
            throw TOMLParseError(message: message, location: headerLocation, hint: hint)
        case (.table, true):
            throw TOMLParseError(
                message: "cannot define array of tables [[\(name)]]: '\(name)' is already a table (defined on line \(line))",
                location: headerLocation)
        case (.tableArray, false):
            throw TOMLParseError(
                message: "cannot define table [\(name)]: '\(name)' is already an array of tables (defined on line \(line))",
                location: headerLocation,
                hint: "use [[\(name)]] to add another table to the array")
        case (.value(let node), _):
            if isArray, case .array = node.value {
                throw TOMLParseError(
                    message: "cannot append to static array '\(name)' (defined on line \(line)) with [[\(name)]]",
                    location: headerLocation,
                    hint: "an array written as \(name) = [...] cannot also be extended with [[\(name)]] headers")
            }
            throw valueInTheWay(node, path: name, line: line, what: what, at: headerLocation)
        }
    }
}
