// swift-tools-version: 6.1
import PackageDescription

// Data-parallel training across processes and machines with MPI (Open MPI
// from Debian: libopenmpi-dev, openmpi-bin). A package of its own, depending
// on BLASNet by path, so that BLASNet's libraries and its blasnet command
// never need MPI.
let package = Package(
  name: "BLASNetDistributed",
  products: [
    .library(name: "MPI", targets: ["MPI"]),
    .executable(name: "blasnet-mpi", targets: ["blasnet-mpi"]),
  ],
  dependencies: [.package(name: "BLASNet", path: "..")],
  targets: [
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    .target(name: "MPI", dependencies: ["CMPI", .product(name: "NeuralNetwork", package: "BLASNet")]),
    .executableTarget(
      name: "blasnet-mpi",
      dependencies: [
        "MPI", .product(name: "BLASNetCLI", package: "BLASNet"), .product(name: "LinearAlgebra", package: "BLASNet"),
      ]),
    // The measurements of Distributed/README.md (scripts/bench-distributed.sh).
    .executableTarget(
      name: "blasnet-mpi-bench",
      dependencies: [
        "MPI", .product(name: "NeuralNetwork", package: "BLASNet"), .product(name: "LinearAlgebra", package: "BLASNet"),
      ]),
    .testTarget(
      name: "DistributedTests",
      dependencies: [
        "MPI", "blasnet-mpi", .product(name: "NeuralNetwork", package: "BLASNet"),
        .product(name: "Tabular", package: "BLASNet"),
      ]),
  ]
)
