import Foundation
import LinearAlgebra
import NeuralNetwork

/// `blasnet-bench --inference`: batch and one-row prediction of BLASNet next
/// to NumPy, ONNX Runtime and PyTorch (those a Python can import), in
/// interleaved rounds: each round times BLASNet, then runs
/// `Benchmarks/Python/inference_reference.py` on the same parameters and inputs.
public struct InferenceCase: Sendable {
  public var name: String
  public var sizes: [Int]
  public var examples: Int

  /// The issue's two shapes: the CLI's default network on 100,000 rows, the
  /// wide reference network on 10,000.
  public static let all = [
    InferenceCase(name: "wdbc", sizes: [30, 16, 8, 1], examples: 100_000),
    InferenceCase(name: "wide", sizes: [784, 512, 256, 1], examples: 10_000),
  ]

  public var quick: InferenceCase {
    InferenceCase(name: name, sizes: sizes, examples: examples / 10)
  }
}

/// One library's figures in one case: a batch predict (ms) and a one-row predict (µs), per round.
public struct InferenceTimes: Codable, Sendable {
  public var library: String
  public var batchMilliseconds: [Double] = []
  public var rowMicroseconds: [Double] = []
  /// The largest difference of its outputs from BLASNet's (0 for BLASNet's own paths).
  public var largestDifference: Double = 0

  public static func median(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.sorted()[values.count / 2]
  }
}

public struct InferenceCaseResult: Codable, Sendable {
  public var name: String
  public var sizes: [Int]
  public var examples: Int
  public var libraries: [InferenceTimes]
  /// Libraries the Python could not import, with the reason.
  public var missing: [String: String]
}

public struct InferenceReport: Codable, Sendable {
  public var cpu: String
  public var blas: String
  public var kernel: String
  public var cores: Int
  public var rounds: Int
  public var python: String?
  public var cases: [InferenceCaseResult]

  /// The table: medians over the rounds, and each library's time over BLASNet's engine.
  public var text: String {
    func f(_ v: Double?, _ digits: Int) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "—" }
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
    var s = "Inference: \(cpu), \(cores) cores; \(blas), kernel \(kernel)\n"
    s += "medians of \(rounds) interleaved rounds; × = time over BLASNet Predictor's (above 1: BLASNet is faster)\n"
    for c in cases {
      s += "\n\(c.name) \(c.sizes.map(String.init).joined(separator: "→")), \(c.examples) rows\n"
      s += "library".padding(toLength: 34, withPad: " ", startingAt: 0) + pad("batch ms", 10) + pad("×", 8)
      s += pad("one row µs", 12) + pad("×", 8) + pad("max |Δ|", 11) + "\n"
      let base = c.libraries.first
      let baseBatch = base.flatMap { InferenceTimes.median($0.batchMilliseconds) }
      let baseRow = base.flatMap { InferenceTimes.median($0.rowMicroseconds) }
      for l in c.libraries {
        let batch = InferenceTimes.median(l.batchMilliseconds)
        let row = InferenceTimes.median(l.rowMicroseconds)
        s += l.library.padding(toLength: 34, withPad: " ", startingAt: 0) + pad(f(batch, 3), 10)
        s += pad(f(batch.flatMap { b in baseBatch.map { b / $0 } }, 2), 8) + pad(f(row, 2), 12)
        s += pad(f(row.flatMap { r in baseRow.map { r / $0 } }, 2), 8)
        s += pad(String(format: "%.1e", l.largestDifference), 11) + "\n"
      }
      for (library, why) in c.missing.sorted(by: { $0.key < $1.key }) { s += "\(library): not run (\(why))\n" }
    }
    return s
  }
}

public enum InferenceBenchmark {
  /// Runs every case for `rounds` rounds; `python` is the interpreter for
  /// the peers (nil: BLASNet alone).
  public static func run(
    cases: [InferenceCase], rounds: Int, python: String?, script: String, log: (String) -> Void
  ) -> InferenceReport {
    var results: [InferenceCaseResult] = []
    for c in cases {
      log("\(c.name): \(c.sizes) on \(c.examples) rows")
      results.append(run(c, rounds: rounds, python: python, script: script, log: log))
    }
    return InferenceReport(
      cpu: BLAS.CPUFeatures.current.modelName, blas: BLAS.configuration, kernel: BLAS.kernel,
      cores: ProcessInfo.processInfo.activeProcessorCount, rounds: rounds, python: python, cases: results)
  }

  static func run(_ c: InferenceCase, rounds: Int, python: String?, script: String, log: (String) -> Void)
    -> InferenceCaseResult
  {
    let network = Network<Float>(sizes: c.sizes, seed: 3)
    let x = Matrix<Float>.randomNormal(c.sizes[0], c.examples, seed: 1)
    let row = Matrix<Float>.randomNormal(c.sizes[0], 1, seed: 1)
    let predictor = Predictor(network)
    var out = Matrix<Float>.zeros(network.outputSize, c.examples)
    var rowOut = Matrix<Float>.zeros(network.outputSize, 1)
    var engine = InferenceTimes(
      library: "BLASNet Predictor, \(predictor.products == .blas ? "BLAS" : "ordered") (reused)")
    // The same predictor with the other kind of products, side by side.
    let other: Predictor<Float>.Products = predictor.products == .ordered ? .blas : .ordered
    let alternative = Predictor(network, products: other)
    var alternativeEngine = InferenceTimes(
      library: "BLASNet Predictor, \(other == .blas ? "BLAS" : "ordered") products")
    var plain = InferenceTimes(library: "BLASNet Network.predict")
    var layered = InferenceTimes(library: "BLASNet layer by layer (before)")
    let batchRuns = c.examples >= 50_000 ? 30 : 20
    // One-row calls are timed 100 at a time (a clock read costs tens of ns).
    func perRow(_ body: () -> Void) -> Double {
      Timing.measure(budget: 0.2, minimumRuns: 20, maximumRuns: 2000) { for _ in 0..<100 { body() } }.median / 100
        * 1e6
    }
    // The parameters and inputs, for the peers.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-inference-\(getpid())")
    var peers: [String: InferenceTimes] = [:]
    var missing: [String: String] = [:]
    var order: [String] = []
    let reference = predictor.predict(x)
    let wrote = python != nil && write(network, x, reference, to: folder, runs: batchRuns)
    defer { try? FileManager.default.removeItem(at: folder) }
    for r in 1...rounds {
      log("  round \(r) of \(rounds)")
      engine.batchMilliseconds.append(
        Timing.measure(budget: 0.5, minimumRuns: batchRuns) { predictor.predict(x, into: &out) }.median * 1e3)
      engine.rowMicroseconds.append(perRow { predictor.predict(row, into: &rowOut) })
      alternativeEngine.batchMilliseconds.append(
        Timing.measure(budget: 0.5, minimumRuns: batchRuns) { alternative.predict(x, into: &out) }.median * 1e3)
      alternativeEngine.rowMicroseconds.append(perRow { alternative.predict(row, into: &rowOut) })
      plain.batchMilliseconds.append(
        Timing.measure(budget: 0.5, minimumRuns: batchRuns) { opaqueUse(network.predict(x)) }.median * 1e3)
      plain.rowMicroseconds.append(perRow { opaqueUse(network.predict(row)) })
      layered.batchMilliseconds.append(
        Timing.measure(budget: 0.5, minimumRuns: batchRuns) { opaqueUse(network._layerByLayerPredict(x)) }.median
          * 1e3)
      layered.rowMicroseconds.append(perRow { opaqueUse(network._layerByLayerPredict(row)) })
      guard wrote, let python, let answer = runPeers(python: python, script: script, folder: folder) else { continue }
      for (key, name) in [("numpy", "NumPy"), ("onnxruntime", "ONNX Runtime"), ("torch", "PyTorch")] {
        guard let entry = answer[key] as? [String: Any] else { continue }
        if let why = entry["missing"] as? String {
          missing[name] = why
          continue
        }
        let label = "\(name) \(entry["version"] as? String ?? "")"
        if peers[label] == nil {
          peers[label] = InferenceTimes(library: label)
          order.append(label)
        }
        if let ms = entry["batchMilliseconds"] as? Double { peers[label]!.batchMilliseconds.append(ms) }
        if let us = entry["rowMicroseconds"] as? Double { peers[label]!.rowMicroseconds.append(us) }
        peers[label]!.largestDifference = entry["largestDifference"] as? Double ?? .nan
      }
    }
    engine.largestDifference = 0
    alternativeEngine.largestDifference = Double(maxDifference(alternative.predict(x), reference))
    plain.largestDifference = Double(maxDifference(network.predict(x), reference))
    layered.largestDifference = Double(maxDifference(network._layerByLayerPredict(x), reference))
    return InferenceCaseResult(
      name: c.name, sizes: c.sizes, examples: c.examples,
      libraries: [engine, alternativeEngine, plain, layered] + order.compactMap { peers[$0] }, missing: missing)
  }

  static func maxDifference(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Float {
    zip(a.elements, b.elements).map { Swift.abs($0 - $1) }.max() ?? 0
  }

  /// W1.npy, b1.npy, …, x.npy, BLASNet's outputs (reference.npy) and network.json in `folder`.
  static func write(
    _ network: Network<Float>, _ x: Matrix<Float>, _ reference: Matrix<Float>, to folder: URL, runs: Int
  )
    -> Bool
  {
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      for (l, layer) in network.layers.enumerated() {
        try layer.weights.write(npyFile: folder.appendingPathComponent("W\(l + 1).npy").path)
        try layer.bias.write(npyFile: folder.appendingPathComponent("b\(l + 1).npy").path)
      }
      try x.write(npyFile: folder.appendingPathComponent("x.npy").path)
      try reference.write(npyFile: folder.appendingPathComponent("reference.npy").path)
      let spec: [String: Any] = [
        "sizes": network.sizes, "hidden": network.layers[0].activation.rawValue,
        "output": network.outputActivation.rawValue, "runs": runs, "rowRuns": 2000,
      ]
      try JSONSerialization.data(withJSONObject: spec).write(to: folder.appendingPathComponent("network.json"))
      return true
    } catch {
      return false
    }
  }

  /// One round of the Python peers, or nil if the script fails.
  static func runPeers(python: String, script: String, folder: URL) -> [String: Any]? {
    runPythonJSON(python, script, folder.path) as? [String: Any]
  }
}

/// Runs `python script arguments…` and parses its standard output as JSON;
/// nil when it cannot start, fails, or prints something else.
func runPythonJSON(_ python: String, _ script: String, _ arguments: String...) -> Any? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [python, script] + arguments
  let out = Pipe()
  process.standardOutput = out
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else { return nil }
  return try? JSONSerialization.jsonObject(with: data)
}
