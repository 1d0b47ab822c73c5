// swift-tools-version: 6.2
import PackageDescription

// AgentHub builds only on Linux: CShims calls prctl(2), openat2(2) and inotify, and the children
// die with their host through PR_SET_PDEATHSIG. Shared state is behind Synchronization's `Mutex`.
let package = Package(
    name: "AgentHub",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agenthub", targets: ["agenthub"]),
        .library(name: "Host", targets: ["Host"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"4.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        // JSON values and parser, globs, paths, redaction, JSON-RPC and the line transport: what every
        // other module shares, with no SQLite, libgit2 or YAML below it.
        .target(name: "Base"),
        // Child processes (swift-subprocess): spawned from one long-lived thread, tied to the host's life,
        // with a filtered environment and a graceful stop. The bridge and the git fetch worker use it.
        .target(
            name: "Children",
            dependencies: [
                "Base", "CShims",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Registry",
            dependencies: [
                "Base",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The registry in PostgreSQL, for several hosts on one database: the schema, its migrations
        // under an advisory lock, and the connection checks at start.
        .target(
            name: "RegistryPostgres",
            dependencies: [
                "Base",
                "Registry",
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The core services every front calls: the skill catalog (who sees which copy, decided once),
        // the source directory (the status derived once), over store protocols that SQLite implements.
        .target(name: "Core", dependencies: ["Base", "Registry"]),
        .target(
            name: "GitSync",
            dependencies: [
                "Base", "CLibGit2", "CShims", "Children", "Registry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CShims"),
        .target(
            name: "Plugins",
            dependencies: [
                "Base", "Core", "Registry", "CShims", "Children",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                // The bridge's remote servers (Streamable HTTP, HTTP+SSE); HummingbirdTesting builds it already.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Host",
            dependencies: [
                "Base", "Children", "CShims", "Core", "Registry", "RegistryPostgres", "GitSync", "Plugins",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The HTTP front (Hummingbird): health, readiness, Prometheus metrics, the API, MCP over HTTP and
        // the web console (Mustache pages, Markdown by Ink). Kept out of Host so the stdio host never links it.
        .target(
            name: "HTTPFront",
            dependencies: [
                "Base", "CShims", "Children", "Core", "Host", "Registry", "Plugins",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Ink", package: "Ink"),
            ]
        ),
        .executableTarget(
            name: "agenthub",
            dependencies: [
                "Base", "Children", "CShims", "Core", "Host", "HTTPFront", "Registry", "RegistryPostgres", "Plugins", "GitSync",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "agenthub-bench",
            dependencies: [
                "Base", "Host", "Registry", "Plugins",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "bench/Sources/agenthub-bench"
        ),
        .executableTarget(
            name: "agenthub-pg-bench",
            dependencies: [
                "Base", "Core", "Host", "Registry", "RegistryPostgres", "Plugins", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/agenthub-pg-bench"
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "BaseTests", dependencies: ["Base", "TestSupport"]),
        .testTarget(name: "ChildrenTests", dependencies: ["Base", "Children", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Base", "Registry", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "RegistryPostgresTests", dependencies: [
            "Base", "Core", "Host", "Plugins", "Registry", "RegistryPostgres", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "CoreTests", dependencies: ["Base", "Core", "Registry", "TestSupport"]),
        .testTarget(name: "GitSyncTests", dependencies: ["Base", "GitSync", "TestSupport"]),
        .testTarget(name: "PluginsTests", dependencies: ["Base", "Children", "Core", "Plugins", "Registry", "RegistryPostgres", "TestSupport",
                                                      .product(name: "Logging", package: "swift-log"),
                                                      .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                      .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "HostTests", dependencies: ["Base", "Core", "Host", "GitSync", "Registry", "Plugins", "TestSupport",
                                                   .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "HTTPFrontTests", dependencies: [
            "Base", "Host", "HTTPFront", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
