// swift-tools-version: 6.1
import PackageDescription

// blasnet-serve: a trained model as an HTTP prediction service, on
// Hummingbird, with Prometheus metrics. A package of its own, depending on
// BLASNet by path, so that BLASNet's libraries and its blasnet command keep
// no server dependencies.
let package = Package(
  name: "BLASNetServe",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "BLASNetServe", targets: ["BLASNetServe"]),
    .executable(name: "blasnet-serve", targets: ["blasnet-serve"]),
    .executable(name: "blasnet-load", targets: ["blasnet-load"]),
  ],
  dependencies: [
    .package(name: "BLASNet", path: ".."),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // Named for the modules the service uses directly (Hummingbird depends on them already).
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
  ],
  targets: [
    .target(
      name: "BLASNetServe",
      dependencies: [
        .product(name: "Tabular", package: "BLASNet"), .product(name: "NeuralNetwork", package: "BLASNet"),
        .product(name: "LinearAlgebra", package: "BLASNet"), .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Logging", package: "swift-log"),
      ]),
    .executableTarget(
      name: "blasnet-serve",
      dependencies: [
        "BLASNetServe", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "LinearAlgebra", package: "BLASNet"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]),
    // The load test: HTTP/1.1 keep-alive clients on 127.0.0.1 only, bounded, self-stopping.
    .executableTarget(name: "blasnet-load", dependencies: []),
    .testTarget(
      name: "ServeTests",
      dependencies: ["BLASNetServe", .product(name: "HummingbirdTesting", package: "hummingbird")]),
  ]
)
