import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// A safetensors file made byte by byte: the header names each tensor's
/// dtype, shape and byte range; the data follows, little-endian.
func safetensorsFile(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])]) -> [UInt8] {
  var header: [String] = []
  var data: [UInt8] = []
  for t in tensors {
    header.append(
      "\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":\(t.shape),\"data_offsets\":[\(data.count),\(data.count + t.bytes.count)]}"
    )
    data += t.bytes
  }
  var json = Array(("{\"__metadata__\":{\"format\":\"pt\"}," + header.joined(separator: ",") + "}").utf8)
  while json.count % 8 != 0 { json.append(0x20) }  // padded with spaces, as the writers do
  var length = UInt64(json.count).littleEndian
  return withUnsafeBytes(of: &length) { Array($0) } + json + data
}

func littleEndian(_ values: [Double]) -> [UInt8] {
  values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}
func littleEndian(_ values: [Float]) -> [UInt8] {
  values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

@Suite struct SafetensorsImportTests {
  // An nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 1)) in float64, row-major out × in.
  static let w1: [Double] = [0.1, -0.2, 0.3, 0.7, 0.05, -0.4, -0.3, 0.9, 0.2, 0.45, -0.15, 0.6]
  static let b1: [Double] = [0.01, -0.02, 0.3, 0.1]
  static let w2: [Double] = [0.8, -0.6, 0.5, 1.1]
  static let b2: [Double] = [-0.1]

  func write(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString).safetensors").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  func model(prefix: String = "") -> [UInt8] {
    safetensorsFile([
      ("\(prefix)0.weight", "F64", [4, 3], littleEndian(Self.w1)),
      ("\(prefix)0.bias", "F64", [4], littleEndian(Self.b1)),
      ("\(prefix)2.weight", "F64", [1, 4], littleEndian(Self.w2)),
      ("\(prefix)2.bias", "F64", [1], littleEndian(Self.b2)),
    ])
  }

  /// PyTorch's forward pass, by hand in Double.
  static func expected(_ x: [Double]) -> Double {
    var h = [Double](repeating: 0, count: 4)
    for i in 0..<4 { h[i] = max(0, (0..<3).reduce(b1[i]) { $0 + w1[i * 3 + $1] * x[$1] }) }
    let z = (0..<4).reduce(b2[0]) { $0 + w2[$1] * h[$1] }
    return 1 / (1 + exp(-z))
  }

  @Test func aSequentialOfLinearLayersPredictsAsPyTorch() throws {
    for prefix in ["", "net."] {
      let path = try write(model(prefix: prefix))
      defer { try? FileManager.default.removeItem(atPath: path) }
      let report = try TabularModel.importWeights(safetensors: path)
      #expect(report.model.network.sizes == [3, 4, 1])
      #expect(report.layers.map(\.weight) == ["\(prefix)0.weight", "\(prefix)2.weight"])
      #expect(report.model.network.outputActivation == .sigmoid)
      #expect(report.largestRounding > 0 && report.largestRounding < 6e-8, "\(report.largestRounding)")
      let rows: [[Double]] = [[1, 2, 3], [-1, 0.5, 2], [0, 0, 0], [3, -2, 1]]
      let x = Matrix<Float>(rows: 3, columns: rows.count) { i, j in Float(rows[j][i]) }
      let predictions = report.model.predict(encoded: x)
      for (p, row) in zip(predictions, rows) {
        let want = Self.expected(row)
        #expect(
          abs(Double(p.probabilities[1]) - want) <= 1e-6 * max(want, 1e-3), "\(row): \(p.probabilities[1]) vs \(want)")
      }
      // The model file round-trips.
      #expect(try TabularModel.decode(report.model.encoded()) == report.model)
    }
    // A linear last layer makes a regression; a wrong count of activations is refused.
    let path = try write(model())
    defer { try? FileManager.default.removeItem(atPath: path) }
    let linear = try TabularModel.importWeights(safetensors: path, activations: [.relu, .identity])
    #expect(linear.model.isRegression)
    #expect(throws: ImportError.self) { try TabularModel.importWeights(safetensors: path, activations: [.relu]) }
  }

  @Test func hostileFilesAreTypedErrorsNamingWhatIsWrong() throws {
    let good = model()
    let w = littleEndian(Self.w1.map(Float.init))
    var nan = Self.w1
    nan[5] = .nan
    let cases: [(String, [UInt8], String)] = [
      ("empty", [], "shorter than the 8-byte header length"),
      ("cut", Array(good.dropLast(9)), "lies at bytes"),
      ("header too long", [255, 255, 0, 0, 0, 0, 0, 0] + Array(good.dropFirst(8)), "the header claims"),
      ("not JSON", [4, 0, 0, 0, 0, 0, 0, 0] + Array("{{{{".utf8), "the header is not JSON"),
      (
        "int8",
        safetensorsFile([
          ("0.weight", "I8", [4, 3], Array(repeating: 1, count: 12)),
          ("0.bias", "F32", [4], littleEndian([Float](repeating: 0, count: 4))),
        ]), "tensor \"0.weight\" holds I8; the importer reads F32 and F64"
      ),
      ("unknown dtype", safetensorsFile([("0.weight", "Q4", [2], [1, 2])]), "holds Q4"),
      ("bytes ≠ shape", safetensorsFile([("0.weight", "F32", [4, 4], w)]), "but holds 48 bytes"),
      ("unknown name", safetensorsFile([("0.gamma", "F32", [4, 3], w)]), "tensor \"0.gamma\" is not a layer's"),
      ("missing bias", safetensorsFile([("0.weight", "F32", [4, 3], w)]), "tensor \"0.bias\" is missing"),
      (
        "layers that do not chain",
        safetensorsFile([
          ("0.weight", "F32", [4, 3], w), ("0.bias", "F32", [4], littleEndian([Float](repeating: 0, count: 4))),
          ("2.weight", "F32", [1, 5], littleEndian([Float](repeating: 1, count: 5))),
          ("2.bias", "F32", [1], littleEndian([Float(0)])),
        ]), "tensor \"2.weight\" has shape [1, 5]; expected [1, 4]"
      ),
      (
        "NaN",
        safetensorsFile([
          ("0.weight", "F64", [4, 3], littleEndian(nan)), ("0.bias", "F64", [4], littleEndian(Self.b1)),
        ]),
        "tensor \"0.weight\" has a value that is not finite (element 5)"
      ),
    ]
    for (what, bytes, message) in cases {
      let path = try write(bytes)
      defer { try? FileManager.default.removeItem(atPath: path) }
      do {
        _ = try TabularModel.importWeights(safetensors: path)
        Issue.record("\(what): imported")
      } catch {
        #expect("\(error)".contains(message), "\(what): \(error)")
      }
    }
  }
}

@Suite struct InterchangeFixtureTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/interchange")

  /// Benchmarks/Python/interchange_fixtures.py wrote the weights with the
  /// safetensors library and the outputs in float64 from the same float32 weights.
  @Test func aNetworkFromTheSafetensorsLibraryReproducesItsOutputsOn1000Rows() throws {
    let report = try TabularModel.importWeights(safetensors: Self.folder.appendingPathComponent("mlp.safetensors").path)
    #expect(report.model.network.sizes == [5, 8, 4, 1] && report.largestRounding == 0)
    let predictions = try report.model.predict(csvFile: Self.folder.appendingPathComponent("inputs.csv").path)
    let expected = try String(contentsOf: Self.folder.appendingPathComponent("expected.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst().map { Double($0)! }
    #expect(predictions.predictions.count == 1000 && expected.count == 1000)
    var worst = 0.0
    for (p, e) in zip(predictions.predictions, expected) {
      worst = max(worst, abs(Double(p.probabilities[1]) - e) / e)
    }
    #expect(worst < 1e-5, "largest relative difference \(worst)")
  }
}
