// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "AgentHub",
    platforms: [.macOS(.v14)],
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
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .target(
            name: "Registry",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "GitSync",
            dependencies: [
                "CLibGit2", "CSystem", "Registry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CSystem"),
        .target(
            name: "Plugins",
            dependencies: [
                "Registry", "CSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Host",
            dependencies: [
                "Registry", "GitSync", "Plugins",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "agenthub",
            dependencies: [
                "Host", "Registry", "Plugins", "GitSync",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "agenthub-bench",
            dependencies: [
                "Host", "Registry", "Plugins",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/agenthub-bench"
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "TestSupport"]),
        .testTarget(name: "GitSyncTests", dependencies: ["GitSync", "TestSupport"]),
        .testTarget(name: "PluginsTests", dependencies: ["Plugins", "Registry", "TestSupport"]),
        .testTarget(name: "HostTests", dependencies: ["Host", "GitSync", "Registry", "Plugins", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
