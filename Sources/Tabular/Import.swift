import Foundation
import LinearAlgebra
import NeuralNetwork

/// Why a weights file could not become a model: each case names the file and
/// what in it is wrong.
public enum ImportError: Error, Equatable, Sendable, CustomStringConvertible {
  case cannotRead(path: String, reason: String)
  /// The container itself is damaged: a header that does not parse, an
  /// offset outside the file, a tensor whose bytes do not match its shape.
  case malformed(path: String, detail: String)
  /// A tensor the importer does not know what to do with.
  case unknownTensor(path: String, name: String, expected: String)
  /// A tensor of an element type the importer does not read.
  case unsupportedType(path: String, name: String, dtype: String)
  /// A layer without its weight or its bias.
  case missing(path: String, name: String)
  /// A tensor whose shape does not fit its neighbours.
  case shape(path: String, name: String, found: [Int], expected: String)
  /// A weight that is NaN or infinite (or beyond Float's range).
  case notFinite(path: String, name: String, index: Int)
  /// An ONNX node the importer does not read where it stands: its name,
  /// its operator, and why.
  case unsupportedNode(path: String, node: String, op: String, reason: String)
  /// The activations do not fit the layers.
  case activations(String)

  public var description: String {
    switch self {
    case .cannotRead(let p, let r): return "\(p): cannot read the file: \(r)"
    case .malformed(let p, let d): return "\(p): not a valid weights file: \(d)"
    case .unknownTensor(let p, let n, let e): return "\(p): tensor \(quoted(n)) is not \(e)"
    case .unsupportedType(let p, let n, let t):
      return "\(p): tensor \(quoted(n)) holds \(t); the importer reads F32 and F64"
    case .missing(let p, let n): return "\(p): tensor \(quoted(n)) is missing"
    case .shape(let p, let n, let f, let e): return "\(p): tensor \(quoted(n)) has shape \(f); expected \(e)"
    case .notFinite(let p, let n, let i):
      return "\(p): tensor \(quoted(n)) has a value that is not finite (element \(i))"
    case .unsupportedNode(let p, let n, let o, let r): return "\(p): node \(quoted(n)) (\(o)): \(r)"
    case .activations(let s): return TableError(s).description
    }
  }

  /// The message with the settings it names marked, for ``TableError/message(naming:)``.
  package var asTableError: TableError {
    if case .activations(let s) = self { return TableError(s) }
    return TableError(description)
  }
}

extension TabularModel {
  /// A network brought in from another framework's weights.
  public struct ImportReport: Sendable {
    /// The model: numeric inputs `x1…xn`, classes `0`, `1`, … (or a
    /// regression for a linear single output).
    public var model: TabularModel
    /// The tensors each layer came from, in order (weight, bias).
    public var layers: [(weight: String, bias: String)]
    /// The largest relative rounding of a value converted from float64 to Float (0 for float32 files).
    public var largestRounding: Double
    /// Nodes of an ONNX graph after the network's output that were left out
    /// (ArgMax, ZipMap, …: post-processing), as `name (Op)`.
    public var ignored: [String] = []
  }

  /// Reads a safetensors file (PyTorch's common format: an 8-byte
  /// little-endian header length, a JSON header naming each tensor's dtype,
  /// shape and byte range, then the raw little-endian data) holding an
  /// `nn.Sequential` of `Linear` layers: `0.weight` (out × in), `0.bias`
  /// (out), `2.weight`, … (any prefix, such as `net.0.weight`, as long as
  /// the last part before `weight`/`bias` is the layer's index).
  ///
  /// - Parameters:
  ///   - path: the `.safetensors` file.
  ///   - activations: one per layer; nil: ReLU on the hidden layers, and a
  ///     sigmoid (one output) or softmax (more) on the last.
  /// - Throws: ``ImportError`` naming the tensor and what is wrong with it;
  ///   nothing is returned from a damaged or hostile file.
  public static func importWeights(safetensors path: String, activations: [Activation]? = nil) throws(ImportError)
    -> ImportReport
  {
    try importWeights(safetensorsBytes: weightsFile(path), path: path, activations: activations)
  }

  /// Reads a `.npz` archive or a safetensors file, told apart by their first
  /// bytes (a zip starts with `PK`): ``importWeights(npz:activations:)`` or
  /// ``importWeights(safetensors:activations:)``.
  ///
  /// - Parameters:
  ///   - path: the weights file.
  ///   - activations: one per layer, or nil for the default.
  public static func importWeights(file path: String, activations: [Activation]? = nil) throws(ImportError)
    -> ImportReport
  {
    let bytes = try weightsFile(path)
    if bytes.starts(with: [0x50, 0x4B]) || path.hasSuffix(".npz") {
      return try importWeights(npzBytes: bytes, path: path, activations: activations)
    }
    return try importWeights(safetensorsBytes: bytes, path: path, activations: activations)
  }

  /// The bytes of a weights file, or ``ImportError/cannotRead(path:reason:)``.
  package static func weightsFile(_ path: String) throws(ImportError) -> [UInt8] {
    do {
      return try CSVFile.readBytes(path)
    } catch {
      throw .cannotRead(path: path, reason: "\(error)")
    }
  }

  /// ``importWeights(safetensors:activations:)`` of the file's bytes.
  static func importWeights(safetensorsBytes bytes: [UInt8], path: String, activations: [Activation]?)
    throws(ImportError) -> ImportReport
  {
    let tensors = try SafeTensors.read(bytes, path: path).map { t in
      WeightTensor(name: t.name, shape: t.shape) { () throws(ImportError) in try t.floats(path: path) }
    }
    return try assemble(WeightNaming.layers(tensors, path: path), path: path, activations: activations)
  }

  /// A network from the layers' tensors, in order, each layer's shapes
  /// checked against its neighbours.
  package static func assemble(_ pairs: [LayerTensors], path: String, activations: [Activation]?)
    throws(ImportError)
    -> ImportReport
  {
    guard !pairs.isEmpty else { throw .malformed(path: path, detail: "it holds no layer") }
    var parameters: [String: Matrix<Float>] = [:]
    var layers: [(String, String)] = []
    var sizes: [Int] = []
    var rounding = 0.0
    for (l, pair) in pairs.enumerated() {
      let (w, b) = (pair.weight, pair.bias)
      let layout = pair.inputsFirst ? "in × out" : "out × in"
      guard w.shape.count == 2, w.shape[0] >= 1, w.shape[1] >= 1 else {
        throw .shape(path: path, name: w.name, found: w.shape, expected: "2 dimensions, \(layout)")
      }
      let (out, input) = pair.inputsFirst ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
      if let previous = sizes.last, previous != input {
        let expected = pair.inputsFirst ? "[\(previous), \(out)]" : "[\(out), \(previous)]"
        throw .shape(
          path: path, name: w.name, found: w.shape,
          expected: "\(expected): its inputs are the \(previous) outputs of the layer before")
      }
      guard b.shape == [out] || b.shape == [out, 1] else {
        throw .shape(path: path, name: b.name, found: b.shape, expected: "[\(out)], one per output of \(w.name)")
      }
      if sizes.isEmpty { sizes.append(input) }
      sizes.append(out)
      let (wv, wr) = try w.values()
      let (bv, br) = try b.values()
      rounding = Swift.max(rounding, wr, br)
      // A row-major `in × out` kernel is the column-major `out × in` matrix.
      parameters["W\(l + 1)"] =
        pair.inputsFirst
        ? try! Matrix(rows: out, columns: input, columnMajor: wv) : try! Matrix(rows: out, columns: input, rowMajor: wv)
      parameters["b\(l + 1)"] = try! Matrix(rows: out, columns: 1, columnMajor: bv)
      layers.append((w.name, b.name))
    }
    let depth = layers.count
    let outputs = sizes.last!
    let chosen = activations ?? (Array(repeating: .relu, count: depth - 1) + [outputs == 1 ? .sigmoid : .softmax])
    guard chosen.count == depth else {
      throw .activations(
        "\(depth) layers need \(depth) activations (hidden ones, then the output's); got \(chosen.count): \(chosen.map(\.rawValue).joined(separator: ","))"
      )
    }
    let network: Network<Float>
    do {
      network = try Network(parameters: parameters, activations: chosen)
    } catch {
      throw .activations("\(path): \(error)")
    }
    let regression = outputs == 1 && chosen.last == .identity
    let model = TabularModel(
      network: network, featureNames: (1...sizes[0]).map { "x\($0)" }, labelName: nil,
      classNames: regression ? nil : (0..<Swift.max(2, outputs)).map(String.init),
      target: regression ? TargetScale(mean: 0, standardDeviation: 1) : nil)
    if let problem = outputProblem(network, regression: regression) {
      throw .activations(
        "\(problem) (give \(Setting.activations.named) ending in sigmoid, softmax, or identity for a number)")
    }
    try checkImported(model, path: path)
    return ImportReport(model: model, layers: layers, largestRounding: rounding)
  }

  /// The model-file loader's own checks (``checkLoadable(path:)``) on an
  /// imported model, so that nothing is saved that `load` would refuse.
  package static func checkImported(_ model: TabularModel, path: String) throws(ImportError) {
    do {
      try model.checkLoadable(path: path)
    } catch {
      let text = "\(error)"
      let detail = text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
      throw .malformed(path: path, detail: "the model it makes would not load: \(detail)")
    }
  }
}

/// A tensor of a weights file, read (and converted to Float) only once its
/// shape has been checked.
package struct WeightTensor {
  package var name: String
  package var shape: [Int]
  /// The values in row-major order, and the largest relative rounding of a
  /// float64 value to Float.
  package var values: () throws(ImportError) -> ([Float], Double)

  package init(name: String, shape: [Int], values: @escaping () throws(ImportError) -> ([Float], Double)) {
    self.name = name
    self.shape = shape
    self.values = values
  }

  /// `values` (of the tensor `name`) rounded to Float, and the largest
  /// relative rounding; a value that is no finite Float (NaN, ±∞, beyond
  /// Float's range) is an error naming its index.
  package static func rounded(_ values: [Double], path: String, name: String) throws(ImportError) -> ([Float], Double) {
    var floats: [Float] = []
    floats.reserveCapacity(values.count)
    var rounding = 0.0
    for v in values {
      let f = Float(v)
      guard f.isFinite else { throw .notFinite(path: path, name: name, index: floats.count) }
      if v != 0 { rounding = Swift.max(rounding, Swift.abs(Double(f) - v) / Swift.abs(v)) }
      floats.append(f)
    }
    return (floats, rounding)
  }
}

/// One dense layer's weight and bias.
package struct LayerTensors {
  package var weight: WeightTensor
  package var bias: WeightTensor
  /// Keras stores a kernel `in × out`; the others `out × in`.
  package var inputsFirst: Bool

  package init(weight: WeightTensor, bias: WeightTensor, inputsFirst: Bool) {
    self.weight = weight
    self.bias = bias
    self.inputsFirst = inputsFirst
  }
}

/// How a file names its layers' tensors.
enum WeightNaming: String {
  /// The deep-learning course's `W1`, `b1`, `W2`, … (W is `n_l × n_{l−1}`).
  case course
  /// `nn.Sequential`'s `0.weight`, `0.bias`, `2.weight`, … (any prefix).
  case pytorch
  /// Keras's `dense/kernel`, `dense/bias`, `dense_1/kernel`, … (kernel `in × out`),
  /// layers in the order the file holds them.
  case keras

  var pattern: String {
    switch self {
    case .course: "W1…WL and b1…bL, as the course names them"
    case .pytorch: "a layer's weight or bias (N.weight, N.bias as nn.Sequential names them)"
    case .keras: "a Dense layer's kernel or bias (NAME/kernel, NAME/bias as Keras names them)"
    }
  }

  /// The naming of a file's tensors: Keras if one is a kernel, PyTorch if one
  /// is a weight, the course's if one is `W1`.
  static func of(_ names: [String]) -> WeightNaming? {
    if names.contains(where: { kerasParts($0)?.role == "kernel" }) { return .keras }
    if names.contains(where: { pytorchParts($0)?.role == "weight" }) { return .pytorch }
    if names.contains(where: { courseParts($0)?.role == "W" }) { return .course }
    return nil
  }

  static func courseParts(_ name: String) -> (layer: Int, role: String)? {
    guard let first = name.first, first == "W" || first == "b", let l = Int(name.dropFirst()), l >= 1,
      String(l) == name.dropFirst()
    else { return nil }
    return (l, String(first))
  }

  static func pytorchParts(_ name: String) -> (layer: Int, role: String)? {
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 2, let index = Int(parts[parts.count - 2]), index >= 0,
      parts.last == "weight" || parts.last == "bias"
    else { return nil }
    return (index, String(parts.last!))
  }

  /// The layer's name and `kernel` or `bias`: `dense_1/kernel`, `dense_1/kernel:0`, `dense_1.kernel`.
  static func kerasParts(_ name: String) -> (layer: String, role: String)? {
    var text = Substring(name)
    if text.hasSuffix(":0") { text = text.dropLast(2) }
    guard let cut = text.lastIndex(where: { $0 == "/" || $0 == "." }) else { return nil }
    let role = text[text.index(after: cut)...]
    guard role == "kernel" || role == "bias", cut > text.startIndex else { return nil }
    return (String(text[..<cut]), String(role))
  }

  /// The layers of `tensors` (in the file's order), each with its weight and bias.
  static func layers(_ tensors: [WeightTensor], path: String) throws(ImportError) -> [LayerTensors] {
    guard !tensors.isEmpty else { throw .malformed(path: path, detail: "it holds no tensor") }
    guard let naming = of(tensors.map(\.name)) else {
      // np.savez(path, *arrays) names them arr_0, arr_1, …: nothing says which is a weight.
      let unnamed = tensors[0].name.hasPrefix("arr_")
      throw .unknownTensor(
        path: path, name: tensors[0].name,
        expected:
          "a layer's weight or bias: W1/b1 (the course), 0.weight/0.bias (PyTorch) or dense/kernel/dense/bias (Keras)"
          + (unnamed
            ? "; np.savez(path, *arrays) leaves them unnamed: save them by name, e.g. np.savez(path, **{w.path: w.numpy() for w in model.weights})"
            : ""))
    }
    var order: [String] = []
    var weights: [String: WeightTensor] = [:]
    var biases: [String: WeightTensor] = [:]
    var indices: [String: Int] = [:]
    for t in tensors {
      let key: String
      let isWeight: Bool
      switch naming {
      case .course:
        guard let (l, role) = courseParts(t.name) else {
          throw .unknownTensor(path: path, name: t.name, expected: naming.pattern)
        }
        (key, isWeight) = (String(l), role == "W")
        indices[key] = l
      case .pytorch:
        guard let (index, role) = pytorchParts(t.name) else {
          throw .unknownTensor(path: path, name: t.name, expected: naming.pattern)
        }
        (key, isWeight) = (String(index), role == "weight")
        indices[key] = index
      case .keras:
        guard let (layer, role) = kerasParts(t.name) else {
          throw .unknownTensor(path: path, name: t.name, expected: naming.pattern)
        }
        (key, isWeight) = (layer, role == "kernel")
      }
      if isWeight {
        if weights[key] != nil { throw .malformed(path: path, detail: "two weights for layer \(key)") }
        weights[key] = t
      } else {
        if biases[key] != nil { throw .malformed(path: path, detail: "two biases for layer \(key)") }
        biases[key] = t
      }
      if !order.contains(key) { order.append(key) }
    }
    if naming != .keras { order.sort { indices[$0]! < indices[$1]! } }
    if naming == .course, let gap = order.enumerated().first(where: { indices[$0.element]! != $0.offset + 1 }) {
      // Layer gap.offset + 1 has neither tensor: its weight is missing.
      throw .missing(path: path, name: "W\(gap.offset + 1)")
    }
    var result: [LayerTensors] = []
    for key in order {
      guard let w = weights[key] else {
        let b = biases[key]!.name
        let name =
          switch naming {
          case .course: "W\(key)"
          case .pytorch: String(b.dropLast(4)) + "weight"
          case .keras: key + "/kernel"
          }
        throw .missing(path: path, name: name)
      }
      guard let b = biases[key] else {
        let name =
          switch naming {
          case .course: "b\(key)"
          case .pytorch: String(w.name.dropLast(6)) + "bias"
          case .keras: key + "/bias"
          }
        throw .missing(path: path, name: name)
      }
      result.append(LayerTensors(weight: w, bias: b, inputsFirst: naming == .keras))
    }
    return result
  }
}

/// The safetensors container: `u64` header length (little-endian), a JSON
/// object `{name: {"dtype", "shape", "data_offsets": [begin, end]}}` (and an
/// optional `__metadata__`), then the tensors' bytes.
enum SafeTensors {
  struct Tensor {
    var name: String
    var dtype: String
    var shape: [Int]
    /// The tensor's bytes.
    var data: ArraySlice<UInt8>

    /// The values as Float (row-major, as stored), and the largest relative
    /// rounding of a float64 value.
    func floats(path: String) throws(ImportError) -> ([Float], Double) {
      switch dtype {
      case "F32":
        let values = data.withUnsafeBytes { raw in
          (0..<(raw.count / 4)).map {
            Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian)
          }
        }
        if let k = values.firstIndex(where: { !$0.isFinite }) { throw .notFinite(path: path, name: name, index: k) }
        return (values, 0)
      case "F64":
        let values = data.withUnsafeBytes { raw in
          (0..<(raw.count / 8)).map {
            Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian)
          }
        }
        return try WeightTensor.rounded(values, path: path, name: name)
      default:
        throw .unsupportedType(path: path, name: name, dtype: dtype)
      }
    }
  }

  static let elementSizes = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1, "U16": 2,
    "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
  ]

  static func read(_ bytes: [UInt8], path: String) throws(ImportError) -> [Tensor] {
    guard bytes.count >= 8 else {
      throw .malformed(path: path, detail: "\(bytes.count) bytes: shorter than the 8-byte header length")
    }
    var length: UInt64 = 0
    for k in 0..<8 { length |= UInt64(bytes[k]) << (8 * UInt64(k)) }
    guard length <= UInt64(bytes.count - 8), length <= 100 << 20 else {
      throw .malformed(
        path: path, detail: "the header claims \(length) bytes, but the file has \(bytes.count - 8) after its length")
    }
    let headerEnd = 8 + Int(length)
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
    } catch {
      throw .malformed(path: path, detail: "the header is not JSON")
    }
    guard let header = object as? [String: Any] else {
      throw .malformed(path: path, detail: "the header is not a JSON object")
    }
    let dataLength = bytes.count - headerEnd
    var tensors: [Tensor] = []
    for (name, value) in header where name != "__metadata__" {
      guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
        let shapeValues = entry["shape"] as? [Any], let offsets = entry["data_offsets"] as? [Any], offsets.count == 2
      else {
        throw .malformed(path: path, detail: "tensor \(quoted(name)) lacks a dtype, shape or data_offsets [begin, end]")
      }
      let shape = shapeValues.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
      let range = offsets.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
      guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 31 }), range.count == 2 else {
        throw .malformed(
          path: path, detail: "tensor \(quoted(name)) has a shape or offsets that are not whole numbers ≥ 0")
      }
      guard range[0] >= 0, range[0] <= range[1], range[1] <= dataLength else {
        throw .malformed(
          path: path,
          detail:
            "tensor \(quoted(name)) lies at bytes \(range[0])–\(range[1]) of a data section of \(dataLength) bytes")
      }
      guard let size = elementSizes[dtype] else {
        throw .unsupportedType(path: path, name: name, dtype: dtype)
      }
      var count = 1
      for d in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else {
          throw .malformed(path: path, detail: "tensor \(quoted(name)) has an impossible shape \(shape)")
        }
        count = product
      }
      guard count.multipliedReportingOverflow(by: size) == (range[1] - range[0], false) else {
        throw .malformed(
          path: path,
          detail:
            "tensor \(quoted(name)) is \(shape) of \(dtype) (\(count) × \(size) bytes) but holds \(range[1] - range[0]) bytes"
        )
      }
      tensors.append(
        Tensor(name: name, dtype: dtype, shape: shape, data: bytes[(headerEnd + range[0])..<(headerEnd + range[1])]))
    }
    return tensors.sorted { $0.name < $1.name }
  }
}
