// swift-tools-version: 6.1
import PackageDescription

// The three libraries (LinearAlgebra, NeuralNetwork, Tabular) depend on nothing but
// the system's BLAS and LAPACKE, libxsmm for small products (the XSMM trait, on by default; x86_64)
// and zlib, for .npz archives: OpenBLAS by default, BLIS with the BLIS trait
// (`swift build --traits BLIS`; a consumer: `.package(..., traits: ["BLIS"])`); without libxsmm:
// `--disable-default-traits --traits OpenBLAS`. TabularONNX adds
// swift-protobuf; only the command-line tool pulls in swift-argument-parser. Benchmarks live in their own package under
// Benchmarks/ so that this manifest carries none of their dependencies.
let package = Package(
  name: "BLASNet",
  products: [
    .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
    .library(name: "NeuralNetwork", targets: ["NeuralNetwork"]),
    .library(name: "Tabular", targets: ["Tabular"]),
    .library(name: "TabularONNX", targets: ["TabularONNX"]),
    // The command line of blasnet, for Distributed/'s blasnet-mpi.
    .library(name: "BLASNetCLI", targets: ["BLASNetCLI"]),
    .executable(name: "blasnet", targets: ["blasnet"]),
    .executable(name: "matrix-demo", targets: ["matrix-demo"]),
    .executable(name: "blasnet-bench", targets: ["blasnet-bench"]),
    // The reference networks and measurements shared by blasnet-bench and the
    // package-benchmark suites in Benchmarks/.
    .library(name: "BLASNetBenchmarkKit", targets: ["BLASNetBenchmarkKit"]),
  ],
  traits: [
    .trait(name: "OpenBLAS", description: "BLAS from OpenBLAS (Debian: libopenblas-dev); the default."),
    .trait(
      name: "BLIS",
      description:
        "BLAS from BLIS with OpenMP threads (Debian: libblis-openmp-dev) instead of OpenBLAS; enable it alone (--traits BLIS), with OpenBLAS also enabled the code uses OpenBLAS."
    ),
    .trait(
      name: "XSMM",
      description:
        "libxsmm's just-in-time kernels (Debian: libxsmm-dev) for small products, where this machine's calibration finds them faster than BLAS; on by default. Without it (--disable-default-traits --traits OpenBLAS) every product runs in BLAS."
    ),
    .default(enabledTraits: ["OpenBLAS", "XSMM"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // ONNX's protobuf messages, for TabularONNX (the generated code is
    // committed: scripts/generate-onnx.sh).
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    // Only for `swift package generate-documentation` (scripts/docs.sh); no
    // target depends on it, and packages that depend on BLASNet never fetch it.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
    ),
    .systemLibrary(name: "CBLIS", providers: [.apt(["libblis-openmp-dev", "liblapacke-dev"])]),
    // libxsmm, static libraries only in Debian 12 (1.17), for the XSMM trait.
    .systemLibrary(name: "CXSMM", providers: [.apt(["libxsmm-dev"])]),
    // zlib, which inflates the members of compressed .npz archives.
    .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
    // Products summed in one fixed order (C, function-level target attributes, no flags).
    .target(name: "COrderedProducts"),
    .target(
      name: "LinearAlgebra",
      dependencies: [
        "COrderedProducts",
        .target(name: "COpenBLAS", condition: .when(traits: ["OpenBLAS"])),
        .target(name: "CBLIS", condition: .when(traits: ["BLIS"])),
        .target(name: "CXSMM", condition: .when(traits: ["XSMM"])),
      ],
      exclude: ["README.md"]
    ),
    // Elementwise loops in vector instructions, bit for bit their scalar form (C, no flags).
    .target(name: "CElementwise"),
    .target(name: "NeuralNetwork", dependencies: ["LinearAlgebra", "CElementwise"], exclude: ["README.md"]),
    .target(name: "Tabular", dependencies: ["NeuralNetwork", "LinearAlgebra", "CZlib"], exclude: ["README.md"]),
    // ONNX export and import of tabular models (swift-protobuf).
    .target(
      name: "TabularONNX",
      dependencies: [
        "Tabular", "NeuralNetwork", "LinearAlgebra", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["README.md"]
    ),
    .target(
      name: "BLASNetCLI",
      dependencies: [
        "Tabular", "NeuralNetwork", "TabularONNX",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      exclude: ["Resources/PROVENANCE.md"],
      resources: [.copy("Resources/wdbc.csv")]
    ),
    .executableTarget(name: "blasnet", dependencies: ["BLASNetCLI", "LinearAlgebra"]),
    .executableTarget(name: "matrix-demo", dependencies: ["LinearAlgebra"]),
    // An FMA-throughput probe in C (function-level target attributes, no flags).
    .target(name: "CPeakProbe"),
    .target(name: "BLASNetBenchmarkKit", dependencies: ["LinearAlgebra", "NeuralNetwork", "Tabular", "CPeakProbe"]),
    .executableTarget(name: "blasnet-bench", dependencies: ["BLASNetBenchmarkKit", "NeuralNetwork", "Tabular"]),
    .testTarget(
      name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"], resources: [.copy("Fixtures/npy")]),
    .testTarget(
      name: "NeuralNetworkTests",
      dependencies: ["NeuralNetwork"],
      exclude: ["Fixtures/README.md"],
      resources: [.copy("Fixtures/wdbc.csv"), .copy("Fixtures/digits.csv")]
    ),
    .testTarget(
      name: "TabularTests", dependencies: ["Tabular", "NeuralNetwork", "LinearAlgebra", "CZlib"], exclude: ["Fixtures"]),
    .testTarget(name: "TabularONNXTests", dependencies: ["TabularONNX", "Tabular", "NeuralNetwork", "LinearAlgebra"]),
    .testTarget(name: "BLASNetBenchmarkKitTests", dependencies: ["BLASNetBenchmarkKit"]),
    .testTarget(
      name: "BLASNetCLITests", dependencies: ["BLASNetCLI", "Tabular", "TabularONNX", "blasnet"], exclude: ["Fixtures"]),
    // libFuzzer targets for the CSV reader, the model-file loader and the .npy reader; built
    // with sanitizers and run by scripts/fuzz.sh, plain builds replay files.
    .target(name: "FuzzDriver", dependencies: ["Tabular"], path: "Tests/Fuzz/FuzzDriver"),
    .executableTarget(name: "fuzz-csv", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-csv"),
    .executableTarget(name: "fuzz-model", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-model"),
    .executableTarget(name: "fuzz-npy", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-npy"),
    .executableTarget(name: "fuzz-cache", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-cache"),
    .executableTarget(
      name: "fuzz-safetensors", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-safetensors"),
    .executableTarget(name: "fuzz-npz", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-npz"),
    .executableTarget(name: "fuzz-onnx", dependencies: ["TabularONNX", "FuzzDriver"], path: "Tests/Fuzz/fuzz-onnx"),
    .executableTarget(
      name: "fuzz-request", dependencies: ["Tabular", "FuzzDriver"], path: "Tests/Fuzz/fuzz-request"),
  ]
)
