import Foundation

/// One host's certificate: until when it is valid, whether a new one is being obtained, and
/// the last failure to obtain one.
public struct CertificateStatus: Codable, Hashable, Sendable {
    public var host: String
    public var validUntil: Date?
    public var issuing: Bool
    public var lastError: String?

    public init(host: String, validUntil: Date?, issuing: Bool, lastError: String?) {
        self.host = host
        self.validUntil = validUntil
        self.issuing = issuing
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case host
        case validUntil = "valid_until"
        case issuing
        case lastError = "last_error"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        host = try container.decode(String.self, forKey: .host)
        validUntil = try ProtocolDate.decode(from: container, forKey: .validUntil)
        issuing = try container.decodeIfPresent(Bool.self, forKey: .issuing) ?? false
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(host, forKey: .host)
        try container.encodeIfPresent(validUntil.map(ProtocolDate.string), forKey: .validUntil)
        try container.encode(issuing, forKey: .issuing)
        try container.encodeIfPresent(lastError, forKey: .lastError)
    }
}
