// swift-tools-version: 6.1
// The package-benchmark suites of BLASNet, kept out of the root manifest so that the
// libraries carry no benchmark dependency. Run from this folder:
//   swift package benchmark
import PackageDescription

let package = Package(
  name: "BLASNetBenchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    // `name:` keeps the identity stable whatever the checkout folder is called.
    .package(name: "BLASNet", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "BLASNetBenchmarks",
      dependencies: [
        .product(name: "LinearAlgebra", package: "BLASNet"),
        .product(name: "NeuralNetwork", package: "BLASNet"),
        .product(name: "BLASNetBenchmarkKit", package: "BLASNet"),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/BLASNetBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
  ]
)
