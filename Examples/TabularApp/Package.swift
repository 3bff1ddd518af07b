// swift-tools-version: 6.1
// A Swift program that uses BLASNet's Tabular library alone, as an app or a
// service would: train on a CSV file with text labels and missing values,
// save the model, load it back, predict from records built in code.
import PackageDescription

let package = Package(
  name: "TabularApp",
  dependencies: [
    // `name:` keeps the identity stable whatever the checkout folder is called.
    .package(name: "BLASNet", path: "../..")
  ],
  targets: [
    .executableTarget(name: "TabularApp", dependencies: [.product(name: "Tabular", package: "BLASNet")])
  ]
)
