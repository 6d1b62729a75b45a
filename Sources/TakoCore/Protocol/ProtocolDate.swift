import Foundation

/// Dates on the management protocol: ISO 8601 UTC strings with second precision (fractional
/// seconds accepted when reading), not JSONEncoder's default Double since 2001, so any client
/// can read them.
enum ProtocolDate {
    static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func decode<Key: CodingKey>(from container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> Date? {
        guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let date = (try? Date(text, strategy: .iso8601)) ?? (try? Date(text, strategy: fractional)) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
        }
        return date
    }
}
