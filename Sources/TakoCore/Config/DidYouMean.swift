/// Suggests the closest known word for a misspelt key, as `git` does for commands.
enum DidYouMean {
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(Array(lowered.unicodeScalars), Array(candidate.unicodeScalars))
            if distance <= max(1, min(3, candidate.count / 3)), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Hint text for an unknown key: "did you mean 'x'?" or the list of known keys.
    static func hint(for word: String, among candidates: [String]) -> String {
        if let match = suggestion(for: word, among: candidates) {
            return "did you mean '\(match)'?"
        }
        return "known keys: " + candidates.map { "'\($0)'" }.joined(separator: ", ")
    }

    /// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the
    /// commonest typo ("nmae" for "name").
    private static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
