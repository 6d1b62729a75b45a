import Foundation

/// The releases kept on a host for one app (`releases`), newest first.
public struct ReleaseList: Codable, Hashable, Sendable {
    public struct Release: Codable, Hashable, Sendable {
        public var version: String
        /// When the release was unpacked on the host.
        public var createdAt: Date?
        /// The one `current` points at (what runs).
        public var current: Bool

        public init(version: String, createdAt: Date?, current: Bool) {
            self.version = version
            self.createdAt = createdAt
            self.current = current
        }

        enum CodingKeys: String, CodingKey {
            case version
            case createdAt = "created_at"
            case current
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decode(String.self, forKey: .version)
            createdAt = try ProtocolDate.decode(from: container, forKey: .createdAt)
            current = try container.decodeIfPresent(Bool.self, forKey: .current) ?? false
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encodeIfPresent(createdAt.map(ProtocolDate.string), forKey: .createdAt)
            try container.encode(current, forKey: .current)
        }
    }

    public var releases: [Release]

    public init(releases: [Release]) {
        self.releases = releases
    }
}
