import Crypto
import Foundation
import Testing

@testable import TakoCore

@Suite struct SecretBoxTests {
    let key = SecretKey.generate()

    @Test(arguments: ["postgres://user:pa55@db/app", "", "ünïcødé ✓ 🐙", "line one\nline two\n", String(repeating: "x", count: 100_000)])
    func sealedValueOpensToTheSamePlaintext(plaintext: String) throws {
        let sealed = SecretBox.seal(plaintext, key: key)
        #expect(try SecretBox.open(sealed, key: key, environment: "production", name: "DATABASE_URL") == plaintext)
    }

    @Test func sealedValueIsNonceCiphertextAndTagInBase64() throws {
        let sealed = SecretBox.seal("abc", key: key)
        let bytes = try #require(Data(base64Encoded: sealed))
        #expect(bytes.count == 12 + 3 + 16)
    }

    @Test func sealingTheSameValueTwiceUsesAFreshNonce() throws {
        let first = try #require(Data(base64Encoded: SecretBox.seal("same", key: key)))
        let second = try #require(Data(base64Encoded: SecretBox.seal("same", key: key)))
        #expect(first != second)
        #expect(first.prefix(12) != second.prefix(12))
    }

    @Test func wrongKeyFailsNamingTheEnvironmentAndSecretButNotTheValue() throws {
        let sealed = SecretBox.seal("hunter2-very-secret", key: key)
        let error = try #require(throws: SecretsError.self) {
            try SecretBox.open(sealed, key: SecretKey.generate(), environment: "production", name: "DATABASE_URL")
        }
        #expect(error == .wrongKeyOrTampered)
        #expect(error.message.contains("'DATABASE_URL'"))
        #expect(error.message.contains("'production'"))
        #expect(error.hint?.contains("tako secrets key import --env production") == true)
        #expect(!error.description.contains("hunter2"))
    }

    /// Flipping one bit anywhere (nonce, ciphertext or tag) must fail authentication.
    @Test(arguments: [
        ("first nonce byte", 0), ("last nonce byte", 11), ("first ciphertext byte", 12),
        ("last ciphertext byte", 12 + 9), ("first tag byte", 12 + 10), ("last tag byte", 12 + 10 + 15),
    ])
    func tamperedByteIsRejected(region: String, offset: Int) throws {
        var bytes = try #require(Data(base64Encoded: SecretBox.seal("0123456789", key: key)))
        bytes[offset] ^= 0x01
        #expect(throws: SecretsError.wrongKeyOrTampered, "tampered \(region)") {
            try SecretBox.open(bytes.base64EncodedString(), key: key, environment: "staging", name: "TOKEN")
        }
    }

    @Test func truncatedValueIsRejected() throws {
        let bytes = try #require(Data(base64Encoded: SecretBox.seal("0123456789", key: key)))
        #expect(throws: SecretsError.wrongKeyOrTampered) {
            try SecretBox.open(bytes.dropLast().base64EncodedString(), key: key, environment: "staging", name: "TOKEN")
        }
        #expect(throws: SecretsError.wrongKeyOrTampered) {
            try SecretBox.open(bytes.dropFirst().base64EncodedString(), key: key, environment: "staging", name: "TOKEN")
        }
    }

    @Test(arguments: ["", "not base64!", "AAAA", Data(count: 27).base64EncodedString(), "====", "😀"])
    func malformedValueIsAnErrorNotACrash(sealed: String) throws {
        let error = try #require(throws: SecretsError.self) {
            try SecretBox.open(sealed, key: key, environment: "staging", name: "TOKEN")
        }
        #expect(error == .malformedValue)
        #expect(error.message.contains("'TOKEN'") && error.message.contains("'staging'"))
    }

    @Test func minimumLengthValueWithBadTagIsTampered() {
        #expect(throws: SecretsError.wrongKeyOrTampered) {
            try SecretBox.open(Data(count: 28).base64EncodedString(), key: key, environment: "staging", name: "TOKEN")
        }
    }

    // MARK: SecretKey

    @Test func keyRoundTripsThroughBase64() throws {
        let key = SecretKey.generate()
        #expect(try SecretKey(base64: key.base64) == key)
        #expect(key.base64.count == 44)
    }

    @Test func keyParsingIgnoresSurroundingWhitespace() throws {
        let key = SecretKey.generate()
        #expect(try SecretKey(base64: "  \(key.base64)\n") == key)
    }

    @Test(arguments: ["", "not-base64!!", Data(count: 16).base64EncodedString(), Data(count: 33).base64EncodedString()])
    func invalidKeyIsRejected(text: String) {
        #expect(throws: SecretsError.invalidKey) { try SecretKey(base64: text) }
    }

    @Test func generatedKeysDiffer() {
        #expect(SecretKey.generate() != SecretKey.generate())
    }

    @Test func keyIsNeverPrintedByAccident() {
        let key = SecretKey.generate()
        #expect("\(key)" == "SecretKey(redacted)")
        #expect(String(reflecting: key) == "SecretKey(redacted)")
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(key.base64))
        #expect(!"\([key])".contains(key.base64))
    }

    // MARK: NIST CAVP known answers

    /// Vectors from NIST CAVP `gcmEncryptExtIV256.rsp` ([Keylen = 256] [IVlen = 96]
    /// [Taglen = 128]), checked against Python's `cryptography` AESGCM.
    struct Vector: Sendable, CustomTestStringConvertible {
        var label: String
        var key: String
        var iv: String
        var pt: String
        var aad: String
        var ct: String
        var tag: String
        var testDescription: String { label }
    }

    static let vectors: [Vector] = [
        Vector(
            label: "PTlen=0 AADlen=0 Count=0",
            key: "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4", iv: "516c33929df5a3284ff463d7",
            pt: "", aad: "", ct: "", tag: "bdc1ac884d332457a1d2664f168c76f0"),
        Vector(
            label: "PTlen=0 AADlen=128 Count=0",
            key: "78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223", iv: "d79cf22d504cc793c3fb6c8a",
            pt: "", aad: "b96baa8c1c75a671bfb2d08d06be5f36", ct: "", tag: "3e5d486aa2e30b22e040b85723a06e76"),
        Vector(
            label: "PTlen=0 AADlen=160 Count=0",
            key: "886cff5f3e6b8d0e1ad0a38fcdb26de97e8acbe79f6bed66959a598fa5047d65", iv: "3a8efa1cd74bbab5448f9945",
            pt: "", aad: "519fee519d25c7a304d6c6aa1897ee1eb8c59655", ct: "", tag: "f6d47505ec96c98a42dc3ae719877b87"),
        Vector(
            label: "PTlen=128 AADlen=0 Count=0",
            key: "31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22", iv: "0d18e06c7c725ac9e362e1ce",
            pt: "2db5168e932556f8089a0622981d017d", aad: "", ct: "fa4362189661d163fcd6a56d8bf0405a",
            tag: "d636ac1bbedd5cc3ee727dc2ab4a9489"),
        Vector(
            label: "PTlen=104 AADlen=0 Count=3",
            key: "e5a0eb92cc2b064e1bc80891faf1fab5e9a17a9c3a984e25416720e30e6c2b21", iv: "4742357c335913153ff0eb0f",
            pt: "8499893e16b0ba8b007d54665a", aad: "", ct: "eb8e6175f1fe38eb1acf95fd51",
            tag: "88a8b74bb74fda553e91020a23deed45"),
        Vector(
            label: "PTlen=408 AADlen=0 Count=8",
            key: "595f259c55abe00ae07535ca5d9b09d6efb9f7e9abb64605c337acbd6b14fc7e", iv: "92f258071d79af3e63672285",
            pt: "a6fee33eb110a2d769bbc52b0f36969c287874f665681477a25fc4c48015c541fbe2394133ba490a34ee2dd67b898177849a91",
            aad: "", ct: "bbca4a9e09ae9690c0f6f8d405e53dccd666aa9c5fa13c8758bc30abe1ddd1bcce0d36a1eaaaaffef20cd3c5970b9673f8a65c",
            tag: "26ccecb9976fd6ac9c2c0f372c52c821"),
        Vector(
            label: "PTlen=128 AADlen=128 Count=0",
            key: "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b", iv: "ac93a1a6145299bde902f21a",
            pt: "2d71bcfa914e4ac045b2aa60955fad24", aad: "1e0889016f67601c8ebea4943bc23ad6",
            ct: "8995ae2e6df3dbf96fac7b7137bae67f", tag: "eca5aa77d51d4a0a14d9c51e1da474ab"),
    ]

    @Test(arguments: vectors)
    func aesGCMMatchesNISTVector(vector: Vector) throws {
        let key = try SecretKey(base64: hex(vector.key).base64EncodedString())
        let nonce = try AES.GCM.Nonce(data: hex(vector.iv))
        let box = try AES.GCM.seal(hex(vector.pt), using: key.symmetricKey, nonce: nonce, authenticating: hex(vector.aad))
        #expect(box.ciphertext == hex(vector.ct))
        #expect(box.tag == hex(vector.tag))
        #expect(try AES.GCM.open(box, using: key.symmetricKey, authenticating: hex(vector.aad)) == hex(vector.pt))
    }

    /// The exact bytes SecretBox stores, for the vectors without AAD (SecretBox uses none).
    @Test(arguments: vectors.filter { $0.aad.isEmpty })
    func secretBoxLayoutMatchesNISTVector(vector: Vector) throws {
        let key = try SecretKey(base64: hex(vector.key).base64EncodedString())
        let sealed = SecretBox.seal(hex(vector.pt), key: key, nonce: try AES.GCM.Nonce(data: hex(vector.iv)))
        #expect(Data(base64Encoded: sealed) == hex(vector.iv + vector.ct + vector.tag))
    }

    private func hex(_ text: String) -> Data {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return Data(bytes)
    }
}
