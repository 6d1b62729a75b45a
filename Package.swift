// swift-tools-version: 6.2
import PackageDescription

// Upcoming features every target opts into: explicit `any` for existentials and imports
// that are visible only where they are written.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// SwiftNIO's core, POSIX and HTTP/1 modules, which the networking targets share.
let nioHTTP: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
]

let package = Package(
    name: "tako",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tako", targets: ["tako"]),
        .executable(name: "tako-server", targets: ["tako-server"]),
        .executable(name: "tako-dev-server", targets: ["tako-dev-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Pure Swift shared by all three programs: config, routes, secrets, versions, protocol.
        .target(
            name: "TakoCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The one BoringSSL option NIOSSL does not expose (server cipher order); see its header.
        .target(name: "CTakoBoringSSL"),
        // The traffic path shared by tako-server and tako-dev-server: HTTP proxy, routing
        // through a RouteTable snapshot, upstream pools, load balancing. NIO stays in here.
        .target(
            name: "TakoProxy",
            dependencies: [
                "TakoCore", "CTakoBoringSSL",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ] + nioHTTP,
            swiftSettings: swiftSettings
        ),
        // App instances: spawn, environment, log capture, health probing, restarts, rolling
        // updates, on-demand start and idle stop. NIO only for the health probe's socket.
        .target(
            name: "TakoSupervisor",
            dependencies: [
                "TakoCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Certificates: a local CA (the internal issuer here, the dev daemon's CA later) and,
        // next, the ACME client.
        .target(
            name: "TakoACME",
            dependencies: [
                "TakoCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + nioHTTP,
            swiftSettings: swiftSettings
        ),
        // What both daemons compose the same way: the routing publisher that turns supervised
        // instances into the proxy's snapshot, and the one-request JSON socket server.
        .target(
            name: "TakoHosting",
            dependencies: [
                "TakoCore", "TakoProxy", "TakoSupervisor",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The dev daemon: the local CA that mints a leaf per dev name, the DNS responder,
        // leases, dev apps under the supervisor, the control socket.
        .target(
            name: "TakoDev",
            dependencies: [
                "TakoCore", "TakoProxy", "TakoACME", "TakoSupervisor", "TakoHosting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The host daemon put together: server config, state in SQLite (GRDB), the management
        // socket, app runtime wiring Supervisor <-> Proxy, `/_tako/status`.
        .target(
            name: "TakoServer",
            dependencies: [
                "TakoCore", "TakoProxy", "TakoSupervisor", "TakoACME", "TakoHosting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ] + nioHTTP,
            swiftSettings: swiftSettings
        ),
        // The developer's CLI. Needs Core only; it never links the proxy.
        .target(
            name: "TakoCLI",
            dependencies: [
                "TakoCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "tako", dependencies: ["TakoCLI"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "tako-server",
            dependencies: [
                "TakoCore", "TakoProxy", "TakoServer", "TakoHosting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tako-dev-server",
            dependencies: ["TakoCore", "TakoDev", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        // Every parser of outside input as a fuzz target (docs/reliability.md); `tako-fuzz` is
        // the libFuzzer program (`make fuzz`), or without -DFUZZING a replayer of inputs.
        .target(
            name: "TakoFuzz",
            dependencies: [
                "TakoCore", "TakoProxy", "TakoACME", "TakoDev",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "tako-fuzz", dependencies: ["TakoFuzz"], swiftSettings: swiftSettings),
        .testTarget(name: "TakoFuzzTests", dependencies: ["TakoFuzz", "TakoTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "TakoCoreTests", dependencies: ["TakoCore", "TakoTestSupport"], swiftSettings: swiftSettings),
        // Helpers the integration tests share: child processes, curl, the built binaries.
        .target(name: "TakoTestSupport", path: "Tests/TakoTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "TakoACMETests", dependencies: ["TakoACME", "TakoProxy", "TakoTestSupport", .product(name: "NIOCore", package: "swift-nio")], swiftSettings: swiftSettings),
        .testTarget(
            name: "TakoDevTests", dependencies: ["TakoDev", "TakoProxy", "TakoCore", "TakoSupervisor", "TakoTestSupport"] + nioHTTP,
            exclude: ["Support/browser-check.sh", "Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "TakoSupervisorTests", dependencies: ["TakoSupervisor", "TakoCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TakoServerTests",
            dependencies: [
                "TakoServer", "TakoSupervisor", "TakoCore", "TakoTestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TakoProxyTests",
            dependencies: [
                "TakoProxy", "TakoTestSupport", .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nioHTTP,
            exclude: ["Support/upstream.py", "Support/h2probe.py", "Support/h2smuggle.py", "Support/h2attack.py"],
            swiftSettings: swiftSettings
        ),
        // Runs the built binaries as a user would; they must be built first (`make test` does).
        .testTarget(
            name: "TakoCLITests", dependencies: ["TakoCore", "TakoCLI", "TakoTestSupport"], exclude: ["Support/pty-drive.py"],
            swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
