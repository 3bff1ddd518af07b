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

  /// The largest relative difference between the model's probabilities on
  /// inputs.csv and the fixture's float64 outputs `expected`.
  static func largestDifference(_ model: TabularModel, expected: String) throws -> Double {
    let predictions = try model.predict(csvFile: folder.appendingPathComponent("inputs.csv").path)
    let expected = try String(contentsOf: folder.appendingPathComponent(expected), encoding: .utf8)
      .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
    #expect(predictions.predictions.count == 1000 && expected.count == 1000)
    var worst = 0.0
    for (p, e) in zip(predictions.predictions, expected) {
      let values = e.count == 1 ? [Double(p.probabilities[1])] : p.probabilities.map(Double.init)
      for (v, x) in zip(values, e) { worst = max(worst, abs(v - x) / x) }
    }
    return worst
  }

  /// Benchmarks/Python/interchange_fixtures.py wrote the weights with the
  /// safetensors library and the outputs in float64 from the same float32 weights.
  @Test func aNetworkFromTheSafetensorsLibraryReproducesItsOutputsOn1000Rows() throws {
    let report = try TabularModel.importWeights(safetensors: Self.folder.appendingPathComponent("mlp.safetensors").path)
    #expect(report.model.network.sizes == [5, 8, 4, 1] && report.largestRounding == 0)
    let worst = try Self.largestDifference(report.model, expected: "expected.csv")
    #expect(worst < 1e-5, "largest relative difference \(worst)")
  }

  /// A network trained in PyTorch (Benchmarks/Python/interchange_torch.py:
  /// ReLU, Tanh, logits under BCEWithLogitsLoss) saved with safetensors.torch:
  /// with a sigmoid on its logits it gives PyTorch's own probabilities.
  @Test func aNetworkTrainedInPyTorchReproducesPyTorchsOutputs() throws {
    let report = try TabularModel.importWeights(
      safetensors: Self.folder.appendingPathComponent("torch-mlp.safetensors").path,
      activations: [.relu, .tanh, .sigmoid])
    #expect(report.model.network.sizes == [5, 16, 8, 1])
    let worst = try Self.largestDifference(report.model, expected: "expected-torch-mlp.csv")
    #expect(worst < 1e-5, "largest relative difference \(worst)")
  }

  /// A Keras 3 model (Dense relu, Dense softmax) trained by Keras, its
  /// `model.weights` saved by path (`sequential/dense/kernel`, in × out):
  /// Keras's own `model.predict`.
  @Test func aModelTrainedInKerasReproducesKerasOutputs() throws {
    let report = try TabularModel.importWeights(npz: Self.folder.appendingPathComponent("keras-mlp.npz").path)
    #expect(report.model.network.sizes == [5, 12, 3])
    #expect(report.layers.map(\.weight) == ["sequential/dense/kernel", "sequential/dense_1/kernel"])
    let worst = try Self.largestDifference(report.model, expected: "expected-keras-mlp.csv")
    #expect(worst < 1e-5, "largest relative difference \(worst)")
  }

  /// The course's float64 W1…W3, b1…b3 (b as n × 1) from np.savez give the
  /// course's AL; the rounding to Float is reported.
  @Test func theCoursesParametersFromNpzGiveTheCoursesAL() throws {
    let report = try TabularModel.importWeights(npz: Self.folder.appendingPathComponent("course.npz").path)
    #expect(report.model.network.sizes == [5, 8, 4, 1])
    #expect(report.layers.map(\.weight) == ["W1", "W2", "W3"] && report.layers.map(\.bias) == ["b1", "b2", "b3"])
    #expect(report.largestRounding > 0 && report.largestRounding < 6e-8)
    let worst = try Self.largestDifference(report.model, expected: "expected-course.csv")
    #expect(worst < 1e-5, "largest relative difference \(worst)")
  }

  /// Keras's kernels are in × out: np.savez_compressed of dense/kernel,
  /// dense/bias, dense_1/…, imported in the archive's order and transposed.
  @Test func kerasKernelsFromACompressedNpzAreTransposed() throws {
    let report = try TabularModel.importWeights(npz: Self.folder.appendingPathComponent("keras.npz").path)
    #expect(report.model.network.sizes == [5, 8, 4, 1] && report.largestRounding == 0)
    #expect(report.layers.map(\.weight) == ["dense/kernel", "dense_1/kernel", "dense_2/kernel"])
    let worst = try Self.largestDifference(report.model, expected: "expected.csv")
    #expect(worst < 1e-5, "largest relative difference \(worst)")
  }
}

/// A `.npy` file of float64 values (C order) made byte by byte.
func npyFile(_ values: [Double], shape: [Int], descr: String = "<f8") -> [UInt8] {
  let tuple = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
  var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }".utf8)
  while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
  header.append(0x0A)
  let data = descr == "<f4" ? littleEndian(values.map(Float.init)) : littleEndian(values)
  return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 255), UInt8(header.count >> 8)] + header + data
}

/// A zip archive of stored (uncompressed) members, as np.savez writes it,
/// made byte by byte with a CRC-32 computed here.
func storedZip(_ members: [(name: String, bytes: [UInt8])]) -> [UInt8] {
  func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 255) } }
  func crc32(_ bytes: [UInt8]) -> Int {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      c ^= UInt32(b)
      for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return Int(~c)
  }
  var out: [UInt8] = []
  var directory: [UInt8] = []
  for m in members {
    let name = Array(m.name.utf8)
    let fields = le(0, 2) + le(0, 2) + le(0, 4) + le(crc32(m.bytes), 4) + le(m.bytes.count, 4) + le(m.bytes.count, 4)
    directory +=
      le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + fields + le(name.count, 2) + le(0, 2) + le(0, 2) + le(0, 2)
      + le(0, 2) + le(0, 4) + le(out.count, 4) + name
    out += le(0x0403_4B50, 4) + le(20, 2) + fields + le(name.count, 2) + le(0, 2) + name + m.bytes
  }
  let start = out.count
  out += directory
  out +=
    le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2) + le(directory.count, 4)
    + le(start, 4) + le(0, 2)
  return out
}

@Suite struct NPZImportTests {
  func write(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString).npz").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  typealias Net = SafetensorsImportTests

  /// The course's names with b as a vector, PyTorch's state_dict names, and
  /// Keras's (kernels in × out, `:0` suffixes) all give the same network.
  @Test func threeNamingsOfOneNetworkPredictTheSame() throws {
    let w1T = (0..<3).flatMap { j in (0..<4).map { i in Net.w1[i * 3 + j] } }
    let archives: [(String, [(String, [UInt8])])] = [
      (
        "course",
        [
          ("W1.npy", npyFile(Net.w1, shape: [4, 3])), ("b1.npy", npyFile(Net.b1, shape: [4])),
          ("W2.npy", npyFile(Net.w2, shape: [1, 4])), ("b2.npy", npyFile(Net.b2, shape: [1, 1])),
        ]
      ),
      (
        "pytorch",
        [
          ("net.2.bias.npy", npyFile(Net.b2, shape: [1], descr: "<f4")),
          ("net.0.weight.npy", npyFile(Net.w1, shape: [4, 3], descr: "<f4")),
          ("net.0.bias.npy", npyFile(Net.b1, shape: [4], descr: "<f4")),
          ("net.2.weight.npy", npyFile(Net.w2, shape: [1, 4], descr: "<f4")),
        ]
      ),
      (
        "keras",
        [
          ("hidden/kernel:0.npy", npyFile(w1T, shape: [3, 4])), ("hidden/bias:0.npy", npyFile(Net.b1, shape: [4])),
          ("out/kernel:0.npy", npyFile(Net.w2, shape: [4, 1])), ("out/bias:0.npy", npyFile(Net.b2, shape: [1])),
        ]
      ),
    ]
    let x: [Double] = [0.5, -1.25, 2.0]
    for (naming, members) in archives {
      let path = try write(storedZip(members))
      defer { try? FileManager.default.removeItem(atPath: path) }
      let report = try TabularModel.importWeights(npz: path)
      #expect(report.model.network.sizes == [3, 4, 1], "\(naming)")
      let p = report.model.network.predict(try Matrix<Float>(rows: 3, columns: 1, columnMajor: x.map(Float.init)))
      #expect(abs(Double(p[0, 0]) - Net.expected(x)) < 1e-6, "\(naming): \(p[0, 0]) vs \(Net.expected(x))")
    }
  }

  @Test func hostileArchivesAreTypedErrorsNamingWhatIsWrong() throws {
    let good = storedZip([("W1.npy", npyFile(Net.w1, shape: [4, 3])), ("b1.npy", npyFile(Net.b1, shape: [4]))])
    var badCRC = good
    badCRC[30 + 6 + 130] ^= 1  // a byte of W1's elements
    var nan = Net.w1
    nan[7] = .infinity
    var cases: [(String, [UInt8], String)] = [
      ("empty", [], "no zip end record"),
      ("a .npy", npyFile(Net.b1, shape: [4]), "a single .npy array, not an .npz archive"),
      ("cut", Array(good.dropLast(30)), "no zip end record"),
      ("damaged", badCRC, "member \"W1.npy\" is damaged: its CRC-32"),
      (
        "not .npy", storedZip([("W1.npy", Array("hello".utf8))]),
        "not a valid weights file: member \"W1.npy\": not a NumPy .npy file: it starts with \"hello\""
      ),
      (
        "int64", storedZip([("W1.npy", npyFile([1, 2], shape: [2], descr: "<i8"))]),
        "tensor \"W1\" holds int64"
      ),
      ("missing b", storedZip([("W1.npy", npyFile(Net.w1, shape: [4, 3]))]), "tensor \"b1\" is missing"),
      (
        "unnamed",
        storedZip([("arr_0.npy", npyFile(Net.w1, shape: [4, 3])), ("arr_1.npy", npyFile(Net.b1, shape: [4]))]),
        "np.savez(path, *arrays) leaves them unnamed: save them by name"
      ),
      (
        "missing W2",
        storedZip([
          ("W1.npy", npyFile(Net.w1, shape: [4, 3])), ("b1.npy", npyFile(Net.b1, shape: [4])),
          ("b3.npy", npyFile(Net.b2, shape: [1])), ("W3.npy", npyFile(Net.w2, shape: [1, 4])),
        ]), "tensor \"W2\" is missing"
      ),
      (
        "unknown", storedZip([("W1.npy", npyFile(Net.w1, shape: [4, 3])), ("gamma.npy", npyFile([1], shape: [1]))]),
        "tensor \"gamma\" is not W1…WL and b1…bL"
      ),
      (
        "b of the wrong length",
        storedZip([("W1.npy", npyFile(Net.w1, shape: [4, 3])), ("b1.npy", npyFile(Net.b2, shape: [1, 1]))]),
        "tensor \"b1\" has shape [1, 1]; expected [4], one per output of W1"
      ),
      (
        "keras kernel that does not chain",
        storedZip([
          ("a/kernel.npy", npyFile(Net.w1, shape: [3, 4])), ("a/bias.npy", npyFile(Net.b1, shape: [4])),
          ("b/kernel.npy", npyFile(Net.w1, shape: [3, 4])), ("b/bias.npy", npyFile(Net.b1, shape: [4])),
        ]), "tensor \"b/kernel\" has shape [3, 4]; expected [4, 4]: its inputs are the 4 outputs"
      ),
      (
        "infinity",
        storedZip([("W1.npy", npyFile(nan, shape: [4, 3])), ("b1.npy", npyFile(Net.b1, shape: [4]))]),
        "tensor \"W1\" has a value that is not finite (element 7)"
      ),
    ]
    // A byte of a deflated member changed (np.savez_compressed's archive).
    var deflated = Array(try Data(contentsOf: InterchangeFixtureTests.folder.appendingPathComponent("keras.npz")))
    deflated[100] ^= 0x55
    cases.append(("deflate", deflated, "member \"dense/kernel.npy\""))
    for (what, bytes, message) in cases {
      let path = try write(bytes)
      defer { try? FileManager.default.removeItem(atPath: path) }
      do {
        _ = try TabularModel.importWeights(file: path)
        Issue.record("\(what): imported")
      } catch {
        #expect("\(error)".contains(message), "\(what): \(error)")
      }
    }
  }
}
