// swift-tools-version: 6.0
// A minimal package that uses BLASNet as a dependency, as another project would.
import PackageDescription

let package = Package(
  name: "Consumer",
  dependencies: [
    // `name:` keeps the identity stable whatever the checkout folder is called.
    .package(name: "BLASNet", path: "../..")
  ],
  targets: [
    .executableTarget(
      name: "Consumer",
      dependencies: [
        .product(name: "LinearAlgebra", package: "BLASNet"),
        .product(name: "NeuralNetwork", package: "BLASNet"),
      ])
  ]
)
