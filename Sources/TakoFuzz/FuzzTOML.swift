import Foundation
import TakoCore

/// tako.toml (parsed and validated as a project) and server-config.toml.
enum FuzzTOML {
    static let directory = URL(fileURLWithPath: "/nonexistent-fuzz-project")

    static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let (config, problems) = TakoConfig.parse(text)
        if problems.isEmpty {
            _ = try? TakoProject.load(text: text, directory: directory)
            _ = config
        }
        _ = ServerConfig.parse(text, file: "server-config.toml")
    }
}
