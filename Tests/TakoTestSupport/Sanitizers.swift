import Foundation

/// The suite also runs built with ThreadSanitizer (`swift test --sanitize=thread`, see
/// docs/reliability.md): its options must reach every program a test starts with an
/// environment of its own, and checks of memory use mean nothing there (shadow memory).
public enum Sanitizers {
    /// Whether this process runs under ThreadSanitizer.
    public static let thread: Bool = dlsym(dlopen(nil, RTLD_NOW), "__tsan_init") != nil

    /// `environment` plus the sanitizer options of this process, if any.
    public static func passingOptions(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        for name in ["TSAN_OPTIONS", "ASAN_OPTIONS"] {
            if let value = ProcessInfo.processInfo.environment[name], environment[name] == nil { environment[name] = value }
        }
        return environment
    }
}
