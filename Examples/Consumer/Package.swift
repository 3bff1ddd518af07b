// swift-tools-version: 6.1
// A minimal package that uses BLASNet as a dependency, as another project would.
// BLASNET_BACKEND=BLIS builds it on BLASNet's BLIS backend (the `BLIS` trait),
// as a consumer would write `.package(..., traits: ["BLIS"])`.
import PackageDescription

let blis = Context.environment["BLASNET_BACKEND"] == "BLIS"

let package = Package(
  name: "Consumer",
  dependencies: [
    // `name:` keeps the identity stable whatever the checkout folder is called.
    .package(name: "BLASNet", path: "../..", traits: blis ? ["BLIS"] : [.defaults])
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
