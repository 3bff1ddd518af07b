import Foundation
import LinearAlgebra
import NeuralNetwork
import SwiftProtobuf
import Tabular

extension TabularModel {
  /// Reads the dense network of an ONNX model: the chain of layers from its
  /// one input, each a `Gemm`, or a `MatMul` and an `Add` of a constant,
  /// followed by `Relu`, `Sigmoid`, `Tanh`, `Softmax`, `LeakyRelu` (slope
  /// 0.01) or nothing; `Identity`, `Flatten`, `Cast` and `Dropout` pass
  /// through; `Sub`, `Add`, `Mul` or `Div` by constants before the first
  /// layer (a scaler) are folded into it, and after a layer's product into
  /// that layer. What follows the last layer (`ArgMax`, `ZipMap`, …) is left
  /// out and listed in the report's `ignored`. scikit-learn's
  /// `MLPClassifier` and `MLPRegressor` through skl2onnx, `torch.onnx.export`
  /// of an `nn.Sequential` of `Linear` layers, and every BLASNet export read
  /// this way: its `Imputer`, `Gather` + `OneHotEncoder` per text column and
  /// `Concat` before the first layer become the model's encoder (columns,
  /// categories, fills, missing indicators: `IsNaN` of the raw numbers, and
  /// a text column's `OneHotEncoder` of its missing markers' spellings),
  /// and a calibrated sigmoid's `Clip`, `Mul`, `Add` its Platt or
  /// temperature calibrator.
  ///
  /// Class names come from the graph's metadata (BLASNet's export) or its
  /// `ZipMap` (skl2onnx); input names from BLASNet's metadata.
  ///
  /// - Parameters:
  ///   - path: the `.onnx` file.
  ///   - activations: nil to take them from the graph; if given, they must
  ///     be the graph's, but for the last when the graph ends in logits (no
  ///     activation, as a network trained with `BCEWithLogitsLoss` does): a
  ///     sigmoid or softmax there turns them into probabilities.
  /// - Throws: `ImportError` naming the node or tensor and what is wrong.
  public static func importWeights(onnx path: String, activations: [Activation]? = nil) throws(ImportError)
    -> ImportReport
  {
    try importWeights(onnxBytes: weightsFile(path), path: path, activations: activations)
  }

  /// ``importWeights(onnx:activations:)`` of the file's bytes.
  package static func importWeights(onnxBytes bytes: [UInt8], path: String, activations: [Activation]?)
    throws(ImportError) -> ImportReport
  {
    let model: Onnx_ModelProto
    do {
      var options = BinaryDecodingOptions()
      options.messageDepthLimit = 32
      model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
    } catch {
      throw .malformed(path: path, detail: "not an ONNX model: the protobuf does not decode (\(error))")
    }
    guard model.hasGraph else { throw .malformed(path: path, detail: "not an ONNX model: it has no graph") }
    let metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    var reader = try ONNXGraphReader(graph: model.graph, path: path, metadata: metadata)
    let chain = try reader.read()
    var chosen = chain.activations
    // A graph that ends in logits (a network trained with BCEWithLogitsLoss or
    // CrossEntropyLoss) takes its output activation from the caller.
    if let activations, activations.count == chosen.count, chosen.last == .identity,
      Array(activations.dropLast()) == Array(chosen.dropLast())
    {
      chosen = activations
    } else if let activations, activations != chain.activations {
      throw .activations(
        "\(path): the graph's activations are \(chain.activations.map(\.rawValue).joined(separator: ",")); --activations says \(activations.map(\.rawValue).joined(separator: ",")) (only an identity output, logits, may be given another)"
      )
    }
    var report = try assemble(chain.members[0], path: path, activations: chosen)
    for (k, layers) in chain.members.enumerated().dropFirst() {
      // An ensemble's other networks (BLASNet's export): the same sizes.
      let assembled = try assemble(layers, path: path, activations: chosen)
      let member = assembled.model.network
      guard member.sizes == report.model.network.sizes else {
        throw .malformed(
          path: path,
          detail:
            "the ensemble's network \(k + 1) is \(member.sizes), its first \(report.model.network.sizes); an ensemble's networks share their sizes"
        )
      }
      report.model.networks.append(member)
      report.layers += assembled.layers
      report.largestRounding = Swift.max(report.largestRounding, assembled.largestRounding)
    }
    report.ignored = reader.ignored
    if let calibrator = chain.calibrator {
      if let problem = calibrator.problem(outputs: report.model.network.outputSize) {
        throw .activations("\(path): the graph's calibration does not fit its output: \(problem)")
      }
      report.model.calibrator = calibrator
    }
    // Names from BLASNet's metadata, or skl2onnx's ZipMap.
    let strings = reader.strings
    if var encoder = chain.encoder {
      encoder.ignoredColumns = strings("ignored_columns") ?? []
      report.model.encoder = encoder
      report.model.featureNames = encoder.featureNames
      if let binned = chain.binned {
        // The standardisation and the bins, before the first layer.
        report.model.standardizer = binned.standardizer
        report.model.piecewiseLinear = binned.encoding
      } else if let maps = chain.maps {
        // The maps, then the standardisation already folded into the first layer.
        let width = encoder.width
        report.model.standardizer = Standardizer(
          means: [Double](repeating: 0, count: width), standardDeviations: [Double](repeating: 1, count: width),
          quantileMaps: maps)
      }
    } else if let names = strings("input_columns"), names.count == report.model.network.inputSize {
      report.model.featureNames = names
      var encoder = TabularEncoder(numericColumns: names)
      encoder.ignoredColumns = strings("ignored_columns") ?? []
      report.model.encoder = encoder
    }
    if !report.model.isRegression {
      let classes = report.model.network.outputSize == 1 ? 2 : report.model.network.outputSize
      if let names = strings("class_names") ?? reader.zipMapClasses, names.count == classes,
        Set(names).count == classes
      {
        report.model.classNames = names
      }
      if let text = metadata["threshold"], let t = Double(text), t > 0, t < 1, classes == 2 {
        report.model.threshold = t
      }
    }
    if let label = metadata["label"], !label.isEmpty { report.model.labelName = label }
    try checkImported(report.model, path: path)
    return report
  }
}

/// Follows an ONNX graph's chain of dense layers from its input.
struct ONNXGraphReader {
  let graph: Onnx_GraphProto
  let path: String
  /// Initializers and the outputs of `Constant` nodes.
  var constants: [String: Onnx_TensorProto] = [:]
  /// For each tensor, the nodes that read it.
  var consumers: [String: [Int]] = [:]
  var used = Set<Int>()
  /// Nodes left out, `name (Op)` (the name alone when it starts with the operator's).
  var ignored: [String] = []
  /// The class names of a `ZipMap` node, if the graph has one.
  var zipMapClasses: [String]?
  /// The model's metadata (BLASNet's export names its columns there).
  let metadata: [String: String]

  /// A JSON array of strings in the metadata.
  func strings(_ key: String) -> [String]? {
    guard let text = metadata[key], let data = text.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String]
  }

  /// One input of the Concat before the first layer.
  enum Block: Equatable {
    /// The numeric columns (each its value, or its value and ramps).
    case numbers
    /// Missing indicators of these numeric columns (graph order), one input each.
    case flags([Int])
    /// A text column's one-hot categories.
    case text(column: Int, categories: [String])
    /// A text column's missing indicator, one input.
    case textMissing(column: Int)
    /// A text column's input for its other categories (1 − its categories − missing), one input.
    case textOther(column: Int)

    var width: Int? {
      switch self {
      case .numbers: nil
      case .flags(let columns): columns.count
      case .text(_, let categories): categories.count
      case .textMissing, .textOther: 1
      }
    }
  }

  /// What BLASNet's export puts before the first layer: an `Imputer` and
  /// `Sub`/`Div` on the numeric input, a `Gather` and a `OneHotEncoder` per
  /// text column, missing indicators, and a `Concat` of them all.
  struct FrontEnd {
    /// The fills of the numeric columns (NaN: none).
    var fills: [Double]?
    /// The quantile maps of the numeric columns, in the graph's order (nil: none).
    var maps: [QuantileMap?]?
    /// `Sub`/`Div` by constants on the numeric columns.
    var numericBefore: [(node: Onnx_NodeProto, values: [Double])] = []
    /// The Concat's inputs in order.
    var blocks: [Block] = [.numbers]
    /// The missing markers a text column's missing indicator spells (nil: none).
    var markers: [String]?
    /// The piecewise-linear encoding's bin edges of the numeric columns, in
    /// the graph's order (nil: none; an inner nil: a column passed through).
    var bins: [[Double]?]?
    var output: String
  }

  /// A layer being read: its weights (out × in) and bias in Double.
  struct Layer {
    var w: Matrix<Double>
    var b: [Double]
    var weightName: String
    var biasName: String
    var activation: Activation?
  }

  init(graph: Onnx_GraphProto, path: String, metadata: [String: String] = [:]) throws(ImportError) {
    self.graph = graph
    self.path = path
    self.metadata = metadata
    for t in graph.initializer { constants[t.name] = t }
    for (k, node) in graph.node.enumerated() {
      if node.opType == "Constant" && node.domain.isEmpty {
        if let value = node.attribute.first(where: { $0.name == "value" }), value.hasT, let out = node.output.first {
          constants[out] = value.t
        }
        continue
      }
      for input in node.input where !input.isEmpty { consumers[input, default: []].append(k) }
      if node.opType == "ZipMap" {
        if let labels = node.attribute.first(where: { $0.name == "classlabels_strings" }), !labels.strings.isEmpty {
          zipMapClasses = labels.strings.map { String(decoding: $0, as: UTF8.self) }
        } else if let labels = node.attribute.first(where: { $0.name == "classlabels_int64s" }), !labels.ints.isEmpty {
          zipMapClasses = labels.ints.map { String($0) }
        }
      }
    }
  }

  func fail(_ node: Onnx_NodeProto, _ reason: String) -> ImportError {
    .unsupportedNode(
      path: path, node: node.name.isEmpty ? node.output.first ?? "?" : node.name, op: node.opType, reason: reason)
  }

  /// The values of a constant tensor, row-major, with its shape; each
  /// finite (or +∞, with `positiveInfinity`: the padding of a search table).
  func values(_ name: String, positiveInfinity: Bool = false) throws(ImportError) -> (
    shape: [Int], values: [Double]
  )? {
    guard let t = constants[name] else { return nil }
    let label = t.name.isEmpty ? name : t.name
    if t.dataLocation == .external {
      throw .malformed(path: path, detail: "tensor \(quoted(label)) keeps its data in an external file")
    }
    var count = 1
    for d in t.dims {
      guard d >= 0, d <= 1 << 31 else {
        throw .shape(path: path, name: label, found: t.dims.map { Int(clamping: $0) }, expected: "dimensions ≥ 0")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
      guard !overflow, product <= 1 << 28 else {
        throw .malformed(path: path, detail: "tensor \(quoted(label)) has an impossible shape \(t.dims)")
      }
      count = product
    }
    let shape = t.dims.map { Int($0) }
    let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType))
    /// The elements from `rawData` (little-endian, `size` bytes each) or from the typed field.
    func elements(_ size: Int, _ what: String, typed: [Double], _ load: (UnsafeRawBufferPointer, Int) -> Double)
      throws(ImportError) -> [Double]
    {
      if t.rawData.isEmpty {
        guard typed.count == count else {
          throw .malformed(path: path, detail: "tensor \(quoted(label)) is \(shape) but holds \(typed.count) \(what)s")
        }
        return typed
      }
      guard t.rawData.count == size * count else {
        throw .malformed(
          path: path, detail: "tensor \(quoted(label)) is \(shape) of \(what) but holds \(t.rawData.count) bytes")
      }
      return t.rawData.withUnsafeBytes { raw in (0..<count).map { load(raw, $0) } }
    }
    let out: [Double]
    switch type {
    case .float?:
      out = try elements(4, "float", typed: t.floatData.map(Double.init)) { raw, k in
        Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self).littleEndian))
      }
    case .double?:
      out = try elements(8, "double", typed: t.doubleData) { raw, k in
        Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self).littleEndian)
      }
    default:
      throw .unsupportedType(
        path: path, name: label, dtype: "ONNX data type \(t.dataType)\(type.map { " (\($0))" } ?? "")")
    }
    if let k = out.firstIndex(where: { !$0.isFinite && !(positiveInfinity && $0 == .infinity) }) {
      throw .notFinite(path: path, name: label, index: k)
    }
    return (shape, out)
  }

  /// The chain of layers, as the importer's layers, and their activations.
  mutating func read() throws(ImportError) -> (
    members: [[LayerTensors]], activations: [Activation], encoder: TabularEncoder?, calibrator: Calibrator?,
    maps: [QuantileMap?]?, binned: (standardizer: Standardizer, encoding: PiecewiseLinearEncoding)?
  ) {
    let inputs = graph.input.filter { constants[$0.name] == nil }
    let text = inputs.filter { $0.type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.string.rawValue) }
    let numbers = inputs.filter { $0.type.tensorType.elemType != Int32(Onnx_TensorProto.DataType.string.rawValue) }
    let firstReader = numbers.first.flatMap { consumers[$0.name]?.first }.map { graph.node[$0] }
    guard numbers.count <= 1, text.count <= 1, !inputs.isEmpty,
      text.count == 1 || (numbers.count == 1 && (inputs.count == 1))
    else {
      throw .malformed(
        path: path,
        detail:
          "the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); the importer reads a network of one numeric input (and a text input, as BLASNet exports them)"
      )
    }
    var front: FrontEnd?
    let flagged = numbers.first.map { n in
      (consumers[n.name] ?? []).contains { k in
        graph.node[k].opType == "Gather"
          && (consumers[graph.node[k].output.first ?? ""] ?? []).contains { graph.node[$0].opType == "IsNaN" }
      }
    }
    if !text.isEmpty || firstReader?.opType == "Imputer" || flagged == true {
      front = try readFrontEnd(numeric: numbers.first?.name, text: text.first?.name)
    }
    var current = front?.output ?? numbers[0].name
    var layers: [Layer] = []
    var before: [(node: Onnx_NodeProto, values: [Double])] = []  // Sub/Add/Mul/Div before the first layer
    var encoder: TabularEncoder?
    var maps: [QuantileMap?]?
    var binned: (standardizer: Standardizer, encoding: PiecewiseLinearEncoding)?
    // BLASNet's calibrated sigmoid: Clip of the logits, then a·z + b.
    var clipped = false
    var calibration = (a: 1.0, b: 0.0)
    var calibrator: Calibrator?
    // An ensemble (BLASNet's export): the tensor its networks' first layers
    // all read, the Sub/Add/Mul/Div before it, and each network's layers
    // and output (a `Mean`'s inputs).
    let averaged = graph.node.indices.filter { graph.node[$0].opType == "Mean" && graph.node[$0].domain.isEmpty }
    var fork: (tensor: String, before: [(node: Onnx_NodeProto, values: [Double])])?
    var members: [(layers: [Layer], output: String)] = []
    member: while true {
      walk: while true {
        let readers = consumers[current] ?? []
        guard let k = readers.first(where: { !used.contains($0) }) else { break }
        var next = readers.filter { !used.contains($0) }
        let node = graph.node[k]
        let open = layers.last.map { $0.activation == nil } ?? false
        // The one input of node that is not a constant must be the current tensor.
        let computed = node.input.filter { !$0.isEmpty && constants[$0] == nil }
        if next.count > 1, layers.isEmpty, averaged.count == 1,
          next.allSatisfy({ ["Gemm", "MatMul"].contains(graph.node[$0].opType) })
        {
          // An ensemble's networks: this one first, the others after it.
          if fork == nil { fork = (current, before) }
          next = [k]
        }
        if next.count > 1 {
          let ops = next.map { graph.node[$0].opType }
          // After the last activation, post-processing may read the output twice (ArgMax and ZipMap).
          if !layers.isEmpty && !open { break }
          throw fail(
            node,
            "tensor \(quoted(current)) feeds \(next.count) nodes (\(ops.joined(separator: ", "))); the importer reads a chain of layers"
          )
        }
        guard computed == [current] || (["Gemm", "MatMul"].contains(node.opType) && node.input.first == current) else {
          // (An ensemble's Mean ends each network, a linear output too.)
          if !layers.isEmpty && (!open || averaged.contains(k)) { break }
          throw fail(node, "it combines computed tensors \(computed); the importer reads a chain of layers")
        }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
          if !layers.isEmpty && !open { break }
          throw fail(node, "an operator of the domain \(node.domain), outside the importer's subset")
        }
        switch node.opType {
        case "Gemm", "MatMul":
          if layers.last?.activation == nil, !layers.isEmpty { layers[layers.count - 1].activation = .identity }
          var layer = try linear(node, current, inputs: layers.last?.w.rows)
          if layers.isEmpty {
            try fold(before, into: &layer)
            if let front { (encoder, maps, binned) = try arrange(front, node, &layer) }
          }
          layers.append(layer)
        case "Add", "Sub", "Mul", "Div":
          guard let constant = node.input.first(where: { constants[$0] != nil }), let (_, v) = try values(constant)
          else { throw fail(node, "no constant operand") }
          if (node.opType == "Sub" || node.opType == "Div") && node.input.first != current {
            if !layers.isEmpty && !open { break walk }
            throw fail(
              node, "a constant \(node.opType == "Sub" ? "minus" : "divided by") the data is outside the subset")
          }
          if layers.isEmpty {
            before.append((node, v))
          } else if open && clipped {
            guard v.count == 1 else { throw fail(node, "a calibration of \(v.count) values; BLASNet's is one a and b") }
            switch node.opType {
            case "Mul": calibration = (calibration.a * v[0], calibration.b * v[0])
            case "Div": calibration = (calibration.a / v[0], calibration.b / v[0])
            case "Add": calibration.b += v[0]
            default: calibration.b -= v[0]
            }
          } else if open {
            try apply(node, v, to: &layers[layers.count - 1])
          } else {
            break walk  // after the last activation: post-processing
          }
        case "Relu", "Sigmoid", "Tanh", "Softmax", "LeakyRelu":
          guard open else {
            if !layers.isEmpty { break walk }
            throw fail(node, "an activation before any Gemm or MatMul")
          }
          layers[layers.count - 1].activation = try activation(node)
          if clipped {
            guard node.opType == "Sigmoid" else {
              throw fail(node, "a clipped (calibrated) output must end in a sigmoid")
            }
            calibrator =
              calibration.b == 0 ? .temperature(1 / calibration.a) : .platt(a: calibration.a, b: calibration.b)
          }
        case "Clip":
          // BLASNet's export of a calibrated sigmoid: the logits kept within ±log((1 − 10⁻⁷)/10⁻⁷).
          let bounds = node.input.dropFirst().compactMap { name -> [Double]? in
            guard let (_, v) = try? values(name) else { return nil }
            return v
          }
          let bound = Double(ONNXWriter.logitBound)
          guard open, !clipped, bounds.count == 2, bounds[0].count == 1, bounds[1].count == 1,
            abs(bounds[0][0] + bound) < 1e-3, abs(bounds[1][0] - bound) < 1e-3
          else {
            if !layers.isEmpty && !open { break walk }
            throw fail(
              node, "a Clip is read only as BLASNet's clamp of a calibrated output's logits (±\(bound)), after a layer")
          }
          clipped = true
        case "Neg":
          // 1/(1 + e^(−z)): BLASNet's own export of a sigmoid output.
          guard open, let out = sigmoidPattern(node) else {
            if !layers.isEmpty && !open { break walk }
            throw fail(node, "Neg is read only as the start of 1/(1 + exp(−z)), a sigmoid")
          }
          layers[layers.count - 1].activation = .sigmoid
          if clipped {
            calibrator =
              calibration.b == 0 ? .temperature(1 / calibration.a) : .platt(a: calibration.a, b: calibration.b)
          }
          used.insert(k)
          current = out
          continue
        case "Identity", "Dropout":
          break
        case "Reshape", "Squeeze", "Unsqueeze":
          // A change of shape after the last layer (skl2onnx's regressor ends so);
          // a layer after it is caught below.
          guard layers.isEmpty else { break walk }
          throw fail(node, "a \(node.opType) before the first layer")
        case "Flatten":
          let axis = node.attribute.first { $0.name == "axis" }?.i ?? 1
          guard axis == 1 else {
            throw fail(node, "Flatten with axis \(axis); the importer reads rows of features (axis 1)")
          }
        case "Cast":
          let to = node.attribute.first { $0.name == "to" }?.i ?? 0
          guard to == 1 || to == 11 else {
            if !layers.isEmpty && !open { break walk }
            throw fail(node, "a Cast to ONNX type \(to); the network's values are float or double")
          }
        default:
          if !layers.isEmpty && !open { break walk }
          throw fail(
            node,
            "outside the importer's subset (Gemm, MatMul, Add, Sub, Mul, Div by constants, Relu, Sigmoid, Tanh, Softmax, LeakyRelu, Identity, Flatten, Cast, Dropout)"
          )
        }
        used.insert(k)
        current = node.output.first ?? ""
      }
      guard !layers.isEmpty else {
        throw .malformed(
          path: path, detail: "no Gemm or MatMul follows the input \(quoted(inputs[0].name)): no dense layer")
      }
      if layers[layers.count - 1].activation == nil { layers[layers.count - 1].activation = .identity }
      members.append((layers, current))
      // The next network of an ensemble, from the same inputs.
      guard let fork, consumers[fork.tensor, default: []].contains(where: { !used.contains($0) }) else { break member }
      (current, before, layers) = (fork.tensor, fork.before, [])
      if clipped { throw .malformed(path: path, detail: "an ensemble's network has a calibrated (clipped) output") }
    }
    if members.count > 1 {
      // Their outputs must be the Mean's inputs, each once.
      let mean = graph.node[averaged[0]]
      guard mean.input.sorted() == members.map(\.output).sorted() else {
        throw fail(
          mean,
          "it averages \(mean.input.map(quoted).joined(separator: ", ")), not the outputs of the \(members.count) networks that read \(quoted(fork!.tensor))"
        )
      }
      for member in members.dropFirst() where member.layers.map(\.activation) != members[0].layers.map(\.activation) {
        throw fail(mean, "its networks differ in their activations; an ensemble's share them")
      }
      used.insert(averaged[0])
    }
    // A layer the walk did not reach is a branch the importer would drop.
    for (k, node) in graph.node.enumerated() where !used.contains(k) && node.opType != "Constant" {
      if node.opType == "Gemm" || node.opType == "MatMul" {
        throw fail(node, "a layer outside the chain the importer follows from the input (a branch?)")
      }
      let name = node.name.isEmpty ? node.output.first ?? "?" : node.name
      ignored.append(name.hasPrefix(node.opType) ? name : "\(name) (\(node.opType))")
    }
    let path = path
    let tensors = members.map {
      $0.layers.map { layer in
        let (w, b) = (layer.w, layer.b)
        return LayerTensors(
          weight: WeightTensor(name: layer.weightName, shape: [w.rows, w.columns]) { () throws(ImportError) in
            try WeightTensor.rounded(w.rowMajorElements, path: path, name: layer.weightName)
          },
          bias: WeightTensor(name: layer.biasName, shape: [b.count]) { () throws(ImportError) in
            try WeightTensor.rounded(b, path: path, name: layer.biasName)
          },
          inputsFirst: false)
      }
    }
    if clipped && calibrator == nil {
      throw .malformed(path: path, detail: "a Clip of the logits that no sigmoid follows")
    }
    return (tensors, members[0].layers.map { $0.activation! }, encoder, calibrator, maps, binned)
  }

  /// An int64 constant's values (a Gather's index).
  func integers(_ name: String) -> [Int64]? {
    guard let t = constants[name], t.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue) else { return nil }
    if !t.int64Data.isEmpty { return t.int64Data }
    guard t.rawData.count % 8 == 0 else { return nil }
    return t.rawData.withUnsafeBytes { raw in
      (0..<(raw.count / 8)).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
    }
  }

  /// Reads the nodes BLASNet's export puts before the first layer (see ``FrontEnd``).
  mutating func readFrontEnd(numeric: String?, text: String?) throws(ImportError) -> FrontEnd {
    func only(_ tensor: String) -> Int? {
      guard let readers = consumers[tensor], readers.count == 1 else { return nil }
      return readers[0]
    }
    let other =
      "a text column's input for its other categories is read only as BLASNet exports it: "
      + "Sub(1, MatMul(its OneHotEncoder, ones)), or Sub(1, Add(that MatMul, its missing indicator))"
    var front = FrontEnd(output: numeric ?? "")
    var flags: (columns: [Int], output: String)?
    var flagNodes: Set<Int> = []
    if let numeric {
      // BLASNet's missing indicators: Gather (axis 1) of the raw numbers → IsNaN → Cast to float.
      for k in consumers[numeric] ?? [] where graph.node[k].opType == "Gather" {
        guard let flag = graph.node[k].output.first, let i = consumers[flag]?.first, graph.node[i].opType == "IsNaN"
        else { continue }
        let gather = graph.node[k]
        guard flags == nil, (gather.attribute.first { $0.name == "axis" }?.i ?? 0) == 1, gather.input.count == 2,
          let index = integers(gather.input[1]), !index.isEmpty, index.allSatisfy({ $0 >= 0 }),
          Set(index).count == index.count, only(flag) == i, let c = only(graph.node[i].output.first ?? ""),
          graph.node[c].opType == "Cast", (graph.node[c].attribute.first { $0.name == "to" }?.i ?? 0) == 1
        else {
          throw fail(
            graph.node[i],
            "missing indicators are read only as BLASNet exports them: one Gather (axis 1) of distinct numeric columns, IsNaN, Cast to float"
          )
        }
        flags = (index.map { Int($0) }, graph.node[c].output.first ?? "")
        flagNodes.formUnion([k, i, c])
      }
      used.formUnion(flagNodes)
      var current = numeric
      // (The raw numbers' other reader is the indicators' Gather.)
      func next(_ tensor: String) -> Int? {
        let readers = (consumers[tensor] ?? []).filter { !flagNodes.contains($0) }
        return readers.count == 1 ? readers[0] : nil
      }
      while let k = next(current) {
        let node = graph.node[k]
        if node.opType == "Imputer" && front.fills == nil {
          let replaced = node.attribute.first { $0.name == "replaced_value_float" }?.f
          guard let replaced, replaced.isNaN,
            let fills = node.attribute.first(where: { $0.name == "imputed_value_floats" })?.floats
          else { throw fail(node, "an Imputer is read only as BLASNet's: NaN replaced by one value per column") }
          front.fills = fills.map(Double.init)
        } else if node.opType == "Max" && front.maps == nil && front.numericBefore.isEmpty {
          (front.maps, current) = try quantileMaps(from: current, max: k)
          continue
        } else if (node.opType == "Sub" || node.opType == "Div") && node.input.first == current,
          let constant = node.input.last, let (_, v) = try values(constant)
        {
          front.numericBefore.append((node, v))
        } else if node.opType == "Gather" && !front.numericBefore.isEmpty && front.bins == nil {
          // BLASNet's piecewise-linear encoding repeats the standardised columns for its ramps.
          (front.bins, current) = try piecewiseLinear(from: current, gather: k)
          continue
        } else {
          break
        }
        used.insert(k)
        current = node.output.first ?? ""
      }
      front.output = current
    }
    if text == nil && flags == nil { return front }
    var blocks: [String: Block] = [:]
    if let flags { blocks[flags.output] = .flags(flags.columns) }
    for k in text.map({ consumers[$0] ?? [] }) ?? [] {
      let gather = graph.node[k]
      // Each column's Gather feeds its categories' OneHotEncoder and, when
      // missing is a category of its own, a second one over the missing
      // markers' spellings, summed by a MatMul by ones.
      let readers = consumers[gather.output.first ?? ""] ?? []
      var categoriesEncoder: Int?
      var missingSum: (encoder: Int, sum: Int)?
      for e in readers {
        if graph.node[e].opType == "OneHotEncoder", let out = graph.node[e].output.first, let m = only(out),
          graph.node[m].opType == "MatMul", missingSum == nil
        {
          missingSum = (e, m)
        } else if categoriesEncoder == nil {
          categoriesEncoder = e
        } else {
          categoriesEncoder = nil
          break
        }
      }
      guard gather.opType == "Gather", (gather.attribute.first { $0.name == "axis" }?.i ?? 0) == 1,
        gather.input.count == 2, let index = integers(gather.input[1]), index.count == 1,
        let e = categoriesEncoder, graph.node[e].opType == "OneHotEncoder"
      else { throw fail(gather, "the text input is read only through Gather (axis 1) and OneHotEncoder, per column") }
      if let (spelledAt, sumAt) = missingSum {
        let markers = try missingMarkers(spelled: graph.node[spelledAt], sum: graph.node[sumAt])
        if let known = front.markers, known != markers {
          throw fail(graph.node[spelledAt], "two text columns spell different missing markers")
        }
        front.markers = markers
        // An input when the Concat takes it; else only what the other categories leave out.
        let sum = graph.node[sumAt].output.first ?? ""
        if (consumers[sum] ?? []).contains(where: { graph.node[$0].opType == "Concat" }) {
          blocks[sum] = .textMissing(column: Int(index[0]))
        } else if (consumers[graph.node[e].output.first ?? ""] ?? []).count < 2 {
          // Neither an input nor subtracted for the other categories (below): nothing reads it.
          throw fail(graph.node[sumAt], "a text column's missing markers summed for nothing")
        }
        used.formUnion([spelledAt, sumAt])
      }
      let encoder = graph.node[e]
      guard let categories = encoder.attribute.first(where: { $0.name == "cats_strings" })?.strings,
        !categories.isEmpty
      else { throw fail(encoder, "a OneHotEncoder without cats_strings") }
      let names = categories.map { String(decoding: $0, as: UTF8.self) }
      var seen = Set<String>()
      if let twice = names.first(where: { !seen.insert($0).inserted }) {
        throw fail(encoder, "category \(quoted(twice)) appears twice in cats_strings")
      }
      blocks[encoder.output.first ?? ""] = .text(column: Int(index[0]), categories: names)
      used.formUnion([k, e])
      // The other categories: Sub(1, MatMul(categories, ones) [+ missing]).
      let sums = (consumers[encoder.output.first ?? ""] ?? []).filter { graph.node[$0].opType == "MatMul" }
      if let m = sums.first {
        let sum = graph.node[m]
        let missingOutput = missingSum.flatMap { graph.node[$0.sum].output.first }
        var covered = sum.output.first ?? ""
        var nodes = [m]
        if let missingOutput {
          guard let a = (consumers[covered] ?? []).first, graph.node[a].opType == "Add",
            Set(graph.node[a].input) == [covered, missingOutput]
          else { throw fail(sum, other) }
          covered = graph.node[a].output.first ?? ""
          nodes.append(a)
        }
        guard sums.count == 1, sum.input.count == 2, sum.input[0] == encoder.output.first,
          let (shape, ones) = try values(sum.input[1]), shape == [names.count, 1], ones.allSatisfy({ $0 == 1 }),
          let d = only(covered), graph.node[d].opType == "Sub", graph.node[d].input.count == 2,
          graph.node[d].input[1] == covered, try values(graph.node[d].input[0])?.values == [1]
        else { throw fail(sum, other) }
        blocks[graph.node[d].output.first ?? ""] = .textOther(column: Int(index[0]))
        used.formUnion(nodes + [d])
      }
    }
    let concats = blocks.keys.flatMap { consumers[$0] ?? [] }.filter { graph.node[$0].opType == "Concat" }
    guard let c = concats.first, Set(concats).count == 1 else {
      throw .malformed(
        path: path, detail: "the one-hot encoded columns and missing indicators do not meet in one Concat")
    }
    let concat = graph.node[c]
    guard (concat.attribute.first { $0.name == "axis" }?.i ?? 0) == 1,
      concat.input.allSatisfy({ blocks[$0] != nil || $0 == front.output }),
      concat.input.filter({ blocks[$0] != nil }).count == blocks.count
    else {
      throw fail(
        concat,
        "a Concat of other tensors than the numeric columns, the one-hot encoded ones and the missing indicators")
    }
    front.blocks = concat.input.map { blocks[$0] ?? .numbers }
    used.insert(c)
    front.output = concat.output.first ?? ""
    return front
  }

  /// The missing markers of a text column's missing indicator: `spelled`,
  /// a OneHotEncoder over every spelling of them (``ONNXWriter/markerSpellings(_:)``),
  /// and `sum`, its MatMul by a column of ones. The markers are the
  /// spellings' distinct lowercased forms, in order (the empty field first,
  /// as the export always spells it); anything else is refused.
  func missingMarkers(spelled: Onnx_NodeProto, sum: Onnx_NodeProto) throws(ImportError) -> [String] {
    let spellings = (spelled.attribute.first { $0.name == "cats_strings" }?.strings ?? []).map {
      String(decoding: $0, as: UTF8.self)
    }
    var markers: [String] = []
    for spelling in spellings where !markers.contains(spelling.lowercased()) {
      markers.append(spelling.lowercased())
    }
    guard markers.count > 1, (try? ONNXWriter.markerSpellings(markers)) == spellings else {
      throw fail(
        spelled, "a text column's missing indicator must spell its markers in every case, as BLASNet exports them")
    }
    guard sum.input.count == 2, sum.input[0] == spelled.output.first, let (shape, ones) = try values(sum.input[1]),
      shape == [spellings.count, 1], ones.allSatisfy({ $0 == 1 })
    else { throw fail(sum, "a text column's missing indicator sums its spellings by a MatMul by a column of ones") }
    return markers
  }

  /// The quantile maps BLASNet's export writes (`ONNXWriter.quantileMaps`),
  /// read back from the subgraph that starts with the `Max` node `k` on the
  /// numeric columns `x`; returns the maps and the subgraph's output. Any
  /// other shape of nodes there is refused, naming the node.
  mutating func quantileMaps(from x: String, max k: Int) throws(ImportError) -> (
    maps: [QuantileMap?], output: String
  ) {
    func reader(_ tensor: String, _ op: String) -> Int? {
      let readers = consumers[tensor] ?? []
      return readers.count <= 2 ? readers.first { graph.node[$0].opType == op } : nil
    }
    func constant(_ node: Onnx_NodeProto, at i: Int) throws(ImportError) -> [Double] {
      guard node.input.count > i, let (_, v) = try values(node.input[i]) else {
        throw fail(node, "a quantile map's node without its constant")
      }
      return v
    }
    let maxNode = graph.node[k]
    let shape =
      "a quantile map is read only as BLASNet exports it (Max, Min, a binary search by Gather, GreaterOrEqual, "
      + "Where and Add, or by Gather, Less, Not, Cast and MatMul; then Add, Gather, Sub, Mul, Add)"
    guard maxNode.input.first == x, let m = reader(maxNode.output.first ?? "", "Min") else {
      throw fail(maxNode, shape)
    }
    let (low, high) = (try constant(maxNode, at: 1), try constant(graph.node[m], at: 1))
    let n = low.count
    let clipped = graph.node[m].output.first ?? ""
    // The count of inner knots at or below each value: a binary search (since
    // the search became the export's) or every knot compared (files written before).
    var counted: (count: String, inner: [[Double]]?, flat: [Double]?, nodes: [Int])
    if let g = reader(clipped, "Gather") {
      guard let innerInput = integers(graph.node[g].input.last ?? ""),
        let less = reader(graph.node[g].output.first ?? "", "Less"),
        let not = reader(graph.node[less].output.first ?? "", "Not"),
        let cast = reader(graph.node[not].output.first ?? "", "Cast"),
        let sums = reader(graph.node[cast].output.first ?? "", "MatMul"),
        let toInteger = reader(graph.node[sums].output.first ?? "", "Cast")
      else { throw fail(maxNode, shape) }
      let inner = try constant(graph.node[less], at: 1)
      guard innerInput.count == inner.count, innerInput.allSatisfy({ $0 >= 0 && $0 < n }) else {
        throw fail(maxNode, shape)
      }
      counted = (graph.node[toInteger].output.first ?? "", nil, inner, [g, less, not, cast, sums, toInteger])
    } else {
      let (count, inner, nodes) = try knotSearch(from: clipped, inputs: n, at: maxNode, shape)
      counted = (count, inner, nil, nodes)
    }
    let countReaders = consumers[counted.count] ?? []
    guard countReaders.count == 1, graph.node[countReaders[0]].opType == "Add",
      let sub = (consumers[clipped] ?? []).first(where: { graph.node[$0].opType == "Sub" })
    else { throw fail(maxNode, shape) }
    let add = countReaders[0]
    guard let first = integers(graph.node[add].input.last ?? ""),
      let mul = reader(graph.node[sub].output.first ?? "", "Mul"),
      let output = reader(graph.node[mul].output.first ?? "", "Add")
    else { throw fail(maxNode, shape) }
    // The three tables, told apart by where each Gather's output goes.
    let segment = graph.node[add].output.first ?? ""
    var tables: [String: [Double]] = [:]
    for r in consumers[segment] ?? [] {
      let gather = graph.node[r]
      guard gather.opType == "Gather", gather.input.last == segment else { throw fail(gather, shape) }
      let out = gather.output.first ?? ""
      let role =
        graph.node[sub].input.last == out ? "knot" : graph.node[mul].input.first == out ? "slope" : "base"
      tables[role] = try constant(gather, at: 0)
      used.insert(r)
    }
    let gathered = Set((consumers[segment] ?? []).compactMap { graph.node[$0].output.first })
    guard let knot = tables["knot"], let slope = tables["slope"], let base = tables["base"],
      gathered.contains(graph.node[output].input.first ?? ""),
      high.count == n, first.count == n, n > 0, knot.count == slope.count, knot.count == base.count,
      first.first == 0, zip(first, first.dropFirst()).allSatisfy({ $0 < $1 }), (first.last ?? 0) < knot.count
    else { throw fail(maxNode, shape) }
    let huge = Double(Float.greatestFiniteMagnitude)
    var maps: [QuantileMap?] = []
    var expectedInner: [[Double]] = []
    for i in 0..<n {
      let segments = Int(first[i])..<(i + 1 < n ? Int(first[i + 1]) : knot.count)
      if low[i] == -huge && high[i] == huge && segments.count == 1 {
        maps.append(nil)
        expectedInner.append([])
        continue
      }
      var map: QuantileMap
      if segments.count == 1 && low[i] == high[i] {
        map = QuantileMap(knots: [low[i]], scores: [base[segments.lowerBound]])
      } else {
        let last = segments.upperBound - 1
        map = QuantileMap(
          knots: Array(knot[segments]) + [high[i]],
          scores: Array(base[segments]) + [base[last] + slope[last] * (high[i] - knot[last])])
      }
      if let problem = map.problem { throw fail(maxNode, "the quantile map of numeric column \(i + 1): \(problem)") }
      expectedInner.append(Array(map.knots.dropFirst().dropLast()))
      maps.append(map)
    }
    let flat = expectedInner.flatMap { $0 }
    let agrees =
      counted.inner.map { $0 == expectedInner }
      ?? (counted.flat == flat || (flat.isEmpty && counted.flat == [.infinity]))
    guard agrees else { throw fail(maxNode, "the inner knots are not the segments' knots") }
    used.formUnion([k, m, sub, add, mul, output] + counted.nodes)
    return (maps, graph.node[output].output.first ?? "")
  }

  /// The binary search `ONNXWriter.knotsAtOrBelow` writes, read back from
  /// the `GreaterOrEqual` nodes on `clipped`: the count's tensor, each of the
  /// `n` inputs' knots (its row of the table, the +∞ padding left out) and
  /// the search's nodes. Any other shape is refused at `node` with `shape`.
  func knotSearch(from clipped: String, inputs n: Int, at node: Onnx_NodeProto, _ shape: String)
    throws(ImportError) -> (count: String, knots: [[Double]], nodes: [Int])
  {
    var producer: [String: Int] = [:]
    for (i, p) in graph.node.enumerated() { for o in p.output { producer[o] = i } }
    func only(_ tensor: String, _ op: String) -> Int? {
      let readers = consumers[tensor] ?? []
      return readers.count == 1 && graph.node[readers[0]].opType == op ? readers[0] : nil
    }
    let steps = (consumers[clipped] ?? []).filter { graph.node[$0].opType == "GreaterOrEqual" }
    if steps.isEmpty {
      // No input has an inner knot: a count of 0 as Cast(Mul(x, 0)).
      guard let mul = (consumers[clipped] ?? []).first(where: { graph.node[$0].opType == "Mul" }),
        graph.node[mul].input.count == 2, try values(graph.node[mul].input[1])?.values == [0],
        let cast = only(graph.node[mul].output.first ?? "", "Cast")
      else { throw fail(node, shape) }
      return (graph.node[cast].output.first ?? "", Array(repeating: [], count: n), [mul, cast])
    }
    guard steps.count < 31 else { throw fail(node, shape) }
    let padded = 1 << steps.count
    var nodes: [Int] = []
    var count: String?
    var table: (name: String, values: [Double])?
    for (t, goe) in steps.enumerated() {
      let step = Int64(padded >> (t + 1))
      let probe = (0..<n).map { Int64($0 * padded) + step - 1 }
      let compare = graph.node[goe]
      guard compare.input.count == 2, compare.input[0] == clipped, let gather = producer[compare.input[1]],
        graph.node[gather].opType == "Gather", graph.node[gather].input.count == 2,
        let choose = only(compare.output.first ?? "", "Where"), graph.node[choose].input.count == 3,
        integers(graph.node[choose].input[1]) == [step], integers(graph.node[choose].input[2]) == [0]
      else { throw fail(node, shape) }
      let (tableName, index) = (graph.node[gather].input[0], graph.node[gather].input[1])
      if table == nil { table = (tableName, try values(tableName, positiveInfinity: true)?.values ?? []) }
      guard tableName == table?.name, table?.values.count == n * padded else { throw fail(node, shape) }
      nodes += [goe, gather, choose]
      let grown = graph.node[choose].output.first ?? ""
      if let sum = count {
        guard let offset = producer[index], graph.node[offset].opType == "Add",
          graph.node[offset].input.first == sum, integers(graph.node[offset].input.last ?? "") == probe,
          let add = (consumers[grown] ?? []).first,
          graph.node[add].opType == "Add", graph.node[add].input == [sum, grown]
        else { throw fail(node, shape) }
        nodes += [offset, add]
        count = graph.node[add].output.first
      } else {
        guard integers(index) == probe else { throw fail(node, shape) }
        count = grown
      }
    }
    let values = table?.values ?? []
    let knots = (0..<n).map { i in Array(values[i * padded..<(i + 1) * padded].prefix { $0 != .infinity }) }
    guard
      knots.enumerated().allSatisfy({ i, k in
        values[i * padded + k.count..<(i + 1) * padded].allSatisfy { $0 == .infinity }
      })
    else { throw fail(node, shape) }
    return (count ?? "", knots, nodes)
  }

  /// BLASNet's piecewise-linear encoding (`ONNXWriter.piecewiseLinear`),
  /// read back from the `Gather` node `k` on the standardised numeric
  /// columns `x`: `Gather` (axis 1), then `Sub`, `Div`, `Max` and `Min`,
  /// each by one constant per output; each column's outputs are its value
  /// (0, 1, and ∓ the largest float) and then its ramps (the bin's low edge,
  /// its width, 0, 1).
  /// Returns each column's bin edges (nil: its value alone) and the output.
  mutating func piecewiseLinear(from x: String, gather k: Int) throws(ImportError) -> ([[Double]?], String) {
    let gather = graph.node[k]
    guard (gather.attribute.first { $0.name == "axis" }?.i ?? 0) == 1, gather.input.count == 2,
      gather.input[0] == x, let source = integers(gather.input[1]), !source.isEmpty
    else { throw fail(gather, "a Gather on the numeric columns is read only as the bins' (axis 1, constant indices)") }
    var nodes = [k]
    var operands: [[Double]] = []
    var current = gather.output.first ?? ""
    for op in ["Sub", "Div", "Max", "Min"] {
      guard let readers = consumers[current], readers.count == 1, graph.node[readers[0]].opType == op,
        graph.node[readers[0]].input.count == 2, graph.node[readers[0]].input[0] == current,
        let (_, v) = try values(graph.node[readers[0]].input[1]), v.count == source.count
      else {
        throw fail(
          graph.node[nodes.last!],
          "the bins are read only as BLASNet writes them: Gather, then Sub, Div, Max and Min, each by \(source.count) constants"
        )
      }
      nodes.append(readers[0])
      operands.append(v)
      current = graph.node[readers[0]].output.first ?? ""
    }
    let (low, width, floor, ceiling) = (operands[0], operands[1], operands[2], operands[3])
    let largest = Double(Float.greatestFiniteMagnitude)
    var edges: [[Double]?] = []
    var j = 0
    while j < source.count {
      let column = source[j]
      guard column == Int64(edges.count), low[j] == 0, width[j] == 1, floor[j] == -largest, ceiling[j] == largest
      else {
        throw fail(
          gather,
          "output \(j) should be numeric column \(edges.count)'s value (index \(edges.count); 0, 1, ∓ the largest float)"
        )
      }
      j += 1
      var e: [Double] = []
      var end = 0.0
      while j < source.count && source[j] == column {
        guard width[j] > 0, floor[j] == 0, ceiling[j] == 1, e.last.map({ low[j] > $0 }) ?? true else {
          throw fail(
            gather, "output \(j), a ramp of numeric column \(column): its bin must follow the one before (0 to 1)")
        }
        e.append(low[j])
        end = low[j] + width[j]
        j += 1
      }
      edges.append(e.isEmpty ? nil : e + [end])
    }
    used.formUnion(nodes)
    return (edges, current)
  }

  /// The encoder of the front end's columns, with the first layer's inputs
  /// put in its order (the graph's is the Concat's) and the numeric columns'
  /// Sub/Div folded in; with a piecewise-linear encoding, the Sub/Div are
  /// the standardisation before it instead (`binned`: a numeric column's
  /// inputs are its value and its ramps, kept together).
  func arrange(_ front: FrontEnd, _ node: Onnx_NodeProto, _ layer: inout Layer) throws(ImportError)
    -> (
      encoder: TabularEncoder, maps: [QuantileMap?]?,
      binned: (standardizer: Standardizer, encoding: PiecewiseLinearEncoding)?
    )
  {
    let widths = front.blocks.compactMap(\.width)
    let numericWidth = layer.w.columns - widths.reduce(0, +)
    // The first layer's inputs of each numeric column: its value, and its ramps when binned.
    let pieces = front.bins.map { $0.map { $0?.count ?? 1 } } ?? Array(repeating: 1, count: max(numericWidth, 0))
    let numeric = pieces.count
    var texts: [(column: Int, categories: [String])] = []
    var flagged: [Int] = []  // numeric columns with a missing indicator
    var textFlagged: [Int] = []  // text columns with one
    var textOthered: [Int] = []  // text columns with an input for their other categories
    for block in front.blocks {
      switch block {
      case .numbers: break
      case .flags(let columns): flagged += columns
      case .text(let column, let categories): texts.append((column, categories))
      case .textMissing(let column): textFlagged.append(column)
      case .textOther(let column): textOthered.append(column)
      }
    }
    let textColumns = texts.map(\.column)
    guard numericWidth >= 0, pieces.reduce(0, +) == numericWidth,
      numeric == 0 || front.blocks.contains(.numbers),
      front.blocks.filter({ $0 == .numbers }).count <= 1, Set(textColumns).count == textColumns.count,
      front.fills.map({ $0.count == numeric || $0.count == 1 }) ?? true,
      flagged.allSatisfy({ $0 < numeric }), Set(flagged).count == flagged.count,
      Set(textFlagged).count == textFlagged.count, Set(textFlagged).isSubset(of: Set(textColumns)),
      Set(textOthered).count == textOthered.count, Set(textOthered).isSubset(of: Set(textColumns))
    else {
      throw fail(
        node, "its \(layer.w.columns) inputs do not match the encoded columns (\(widths) one-hot or indicators)")
    }
    // Where each graph input comes from.
    enum Source: Equatable {
      case number(Int)  // numeric column i (one of its pieces)
      case flag(Int)  // numeric column i's missing indicator
      case category(column: Int, category: Int)
      case textMissing(column: Int)
      case textOther(column: Int)
    }
    var graphColumns: [Source] = []
    for block in front.blocks {
      switch block {
      case .numbers:
        for i in 0..<numeric { graphColumns += repeatElement(.number(i), count: pieces[i]) }
      case .flags(let columns): graphColumns += columns.map { .flag($0) }
      case .text(let column, let categories):
        graphColumns += (0..<categories.count).map { .category(column: column, category: $0) }
      case .textMissing(let column): graphColumns.append(.textMissing(column: column))
      case .textOther(let column): graphColumns.append(.textOther(column: column))
      }
    }
    // Sub/Div on the numeric columns: the standardisation before the bins, or folded into their weights.
    var scale: (means: [Double], deviations: [Double])?
    if front.bins != nil {
      let (s, t) = try affine(front.numericBefore, count: numeric)
      guard s.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw fail(node, "the numeric columns' Sub and Div before the bins must divide by positive constants")
      }
      scale = (zip(s, t).map { -$1 / $0 }, s.map { 1 / $0 })
    } else if !front.numericBefore.isEmpty {
      var numericLayer = layer
      let columns = graphColumns.indices.filter {
        if case .number = graphColumns[$0] { true } else { false }
      }
      numericLayer.w = layer.w.columns(at: columns)
      numericLayer.b = [Double](repeating: 0, count: layer.b.count)
      try fold(front.numericBefore, into: &numericLayer)
      for (k, j) in columns.enumerated() {
        for i in 0..<layer.w.rows { layer.w[i, j] = numericLayer.w[i, k] }
      }
      for i in 0..<layer.b.count { layer.b[i] += numericLayer.b[i] }
    }
    texts.sort { $0.column < $1.column }
    let numericNames =
      strings("numeric_columns").flatMap { $0.count == numeric ? $0 : nil }
      ?? (0..<numeric).map { "x\($0 + 1)" }
    let textNames =
      strings("categorical_columns").flatMap { $0.count == texts.count ? $0 : nil }
      ?? (0..<texts.count).map { "c\($0 + 1)" }
    let names = numericNames + textNames
    guard Set(names).count == names.count else {
      throw .malformed(path: path, detail: "the metadata names two columns alike: \(names)")
    }
    let order =
      strings("input_columns").flatMap { $0.count == names.count && Set($0) == Set(names) ? $0 : nil } ?? names
    var columns: [FeatureColumn] = []
    var inputs: [Int] = []  // graph inputs of each encoder input, in order
    var maps: [QuantileMap?] = []
    var (edges, means, deviations) = ([[Double]?](), [Double](), [Double]())
    if let m = front.maps, m.count != numeric {
      throw fail(node, "\(m.count) quantile maps for \(numeric) numeric columns")
    }
    for name in order {
      if let i = numericNames.firstIndex(of: name) {
        maps.append(front.maps?[i])
        let fill = front.fills.map { $0.count == 1 ? $0[0] : $0[i] }.flatMap { $0.isNaN ? nil : $0 }
        let indicator = flagged.contains(i)
        if indicator && fill == nil {
          throw fail(node, "numeric column \(quoted(name)) has a missing indicator but no fill in the Imputer")
        }
        columns.append(
          FeatureColumn(
            name: name, encoding: .numeric(fill: fill), allowsMissing: fill != nil, missingIndicator: indicator))
        inputs += graphColumns.indices.filter { graphColumns[$0] == .number(i) }
        edges.append(front.bins?[i])
        means.append(scale?.means[i] ?? 0)
        deviations.append(scale?.deviations[i] ?? 1)
        if indicator {
          // The indicator, 0 or 1, goes to the first layer as it is.
          inputs.append(graphColumns.firstIndex(of: .flag(i))!)
          (maps, edges, means, deviations) = (maps + [nil], edges + [nil], means + [0], deviations + [1])
        }
      } else if let j = textNames.firstIndex(of: name) {
        let block = texts[j]
        let indicator = textFlagged.contains(block.column)
        let others = textOthered.contains(block.column)
        let width = block.categories.count + (indicator ? 1 : 0) + (others ? 1 : 0)
        columns.append(
          FeatureColumn(
            name: name, encoding: .oneHot(categories: block.categories), allowsMissing: true,
            missingIndicator: indicator, otherCategory: others))
        maps += repeatElement(nil, count: width)
        edges += repeatElement(nil, count: width)
        means += repeatElement(0, count: width)
        deviations += repeatElement(1, count: width)
        inputs += (0..<block.categories.count).map { c in
          graphColumns.firstIndex(of: .category(column: block.column, category: c))!
        }
        if indicator { inputs.append(graphColumns.firstIndex(of: .textMissing(column: block.column))!) }
        if others { inputs.append(graphColumns.firstIndex(of: .textOther(column: block.column))!) }
      }
    }
    layer.w = layer.w.columns(at: inputs)
    let encoder = TabularEncoder(
      columns: columns, missing: front.fills == nil ? .error : .mean,
      missingMarkers: front.markers ?? TabularEncoder.defaultMissingMarkers)
    guard scale != nil else { return (encoder, front.maps.map { _ in maps }, nil) }
    let standardizer = Standardizer(
      means: means, standardDeviations: deviations, quantileMaps: front.maps.map { _ in maps })
    return (encoder, nil, (standardizer, PiecewiseLinearEncoding(edges: edges)))
  }

  /// A Gemm's or a MatMul's layer, its weights out × in.
  /// `inputs`: the outputs of the layer before, if there is one.
  func linear(_ node: Onnx_NodeProto, _ current: String, inputs: Int?) throws(ImportError) -> Layer {
    func attribute(_ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
    guard node.input.count >= 2, node.input[0] == current, let (shape, v) = try values(node.input[1]) else {
      throw fail(node, "its second input must be a constant weight matrix (the data is the first)")
    }
    let gemm = node.opType == "Gemm"
    let transB = gemm && (attribute("transB")?.i ?? 0) != 0
    if gemm && (attribute("transA")?.i ?? 0) != 0 { throw fail(node, "transA = 1: the data must not be transposed") }
    guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
      throw .shape(
        path: path, name: node.input[1], found: shape,
        expected: transB ? "2 dimensions, out × in" : "2 dimensions, in × out")
    }
    let alpha = gemm ? Double(attribute("alpha")?.f ?? 1) : 1
    let beta = gemm ? Double(attribute("beta")?.f ?? 1) : 1
    let (out, input) = transB ? (shape[0], shape[1]) : (shape[1], shape[0])
    if let inputs, inputs != input {
      throw .shape(
        path: path, name: node.input[1], found: shape,
        expected:
          "\(transB ? "[\(out), \(inputs)]" : "[\(inputs), \(out)]"): its inputs are the \(inputs) outputs of the layer before"
      )
    }
    var w = Matrix<Double>.zeros(out, input)
    for i in 0..<out {
      for j in 0..<input { w[i, j] = alpha * (transB ? v[i * input + j] : v[j * out + i]) }
    }
    var b = [Double](repeating: 0, count: out)
    var biasName = "(none)"
    if gemm, node.input.count >= 3, !node.input[2].isEmpty {
      guard let (bs, bv) = try values(node.input[2]) else {
        throw fail(node, "its bias \(quoted(node.input[2])) must be a constant")
      }
      guard bv.count == out || bv.count == 1, bs.count <= 2, bs.filter({ $0 != 1 }).count <= 1 else {
        throw .shape(
          path: path, name: node.input[2], found: bs, expected: "[\(out)], one per output of \(node.input[1])")
      }
      for i in 0..<out { b[i] = beta * (bv.count == 1 ? bv[0] : bv[i]) }
      biasName = node.input[2]
    }
    return Layer(w: w, b: b, weightName: node.input[1], biasName: biasName, activation: nil)
  }

  /// Applies Add, Sub, Mul or Div by `v` (one value, or one per output) to a layer's output.
  func apply(_ node: Onnx_NodeProto, _ v: [Double], to layer: inout Layer) throws(ImportError) {
    let out = layer.w.rows
    guard v.count == 1 || v.count == out else {
      throw fail(node, "a constant of \(v.count) values for a layer of \(out) outputs")
    }
    for i in 0..<out {
      let c = v.count == 1 ? v[0] : v[i]
      switch node.opType {
      case "Add": layer.b[i] += c
      case "Sub": layer.b[i] -= c
      case "Mul", "Div":
        let f = node.opType == "Mul" ? c : 1 / c
        guard f.isFinite else { throw fail(node, "a division by 0") }
        layer.b[i] *= f
        for j in 0..<layer.w.columns { layer.w[i, j] *= f }
      default: break
      }
    }
    if layer.biasName == "(none)" && (node.opType == "Add" || node.opType == "Sub") {
      layer.biasName = node.input.first { constants[$0] != nil } ?? layer.biasName
    }
  }

  /// Folds `x' = s ⊙ x + t` (the Sub/Add/Mul/Div before the first layer) into it:
  /// W·(s ⊙ x + t) + b = (W diag s)·x + (b + W·t).
  func fold(_ before: [(node: Onnx_NodeProto, values: [Double])], into layer: inout Layer) throws(ImportError) {
    guard !before.isEmpty else { return }
    let n = layer.w.columns
    let (s, t) = try affine(before, count: n)
    for i in 0..<layer.w.rows {
      for j in 0..<n {
        layer.b[i] += layer.w[i, j] * t[j]
        layer.w[i, j] *= s[j]
      }
    }
  }

  /// The Sub/Add/Mul/Div by constants on `n` columns as `x' = s ⊙ x + t`.
  func affine(_ before: [(node: Onnx_NodeProto, values: [Double])], count n: Int) throws(ImportError) -> (
    s: [Double], t: [Double]
  ) {
    var s = [Double](repeating: 1, count: n)
    var t = [Double](repeating: 0, count: n)
    for (node, v) in before {
      guard v.count == 1 || v.count == n else {
        throw fail(node, "a constant of \(v.count) values before a layer of \(n) inputs")
      }
      for j in 0..<n {
        let c = v.count == 1 ? v[0] : v[j]
        switch node.opType {
        case "Add": t[j] += c
        case "Sub": t[j] -= c
        case "Mul": (s[j], t[j]) = (s[j] * c, t[j] * c)
        default:
          guard c != 0 else { throw fail(node, "a division by 0") }
          (s[j], t[j]) = (s[j] / c, t[j] / c)
        }
      }
    }
    return (s, t)
  }

  func activation(_ node: Onnx_NodeProto) throws(ImportError) -> Activation {
    switch node.opType {
    case "Relu": return .relu
    case "Sigmoid": return .sigmoid
    case "Tanh": return .tanh
    case "Softmax":
      let axis = node.attribute.first { $0.name == "axis" }?.i
      guard axis == nil || axis == 1 || axis == -1 else {
        throw fail(node, "Softmax over axis \(axis!); the importer reads it over the features (axis 1 or −1)")
      }
      return .softmax
    default:
      let alpha = Double(node.attribute.first { $0.name == "alpha" }?.f ?? 0.01)
      guard abs(alpha - Activation.leakySlope) < 1e-6 else {
        throw fail(node, "LeakyRelu with alpha \(alpha); BLASNet's leaky ReLU has slope \(Activation.leakySlope)")
      }
      return .leakyReLU
    }
  }

  /// The output of Neg → Exp → Add(1) → Reciprocal from `node`, marking them used.
  mutating func sigmoidPattern(_ node: Onnx_NodeProto) -> String? {
    func only(_ tensor: String, _ op: String) -> Int? {
      guard let readers = consumers[tensor], readers.count == 1, graph.node[readers[0]].opType == op else { return nil }
      return readers[0]
    }
    guard let e = only(node.output.first ?? "", "Exp"), let a = only(graph.node[e].output.first ?? "", "Add"),
      let r = only(graph.node[a].output.first ?? "", "Reciprocal")
    else { return nil }
    let add = graph.node[a]
    guard let one = add.input.first(where: { constants[$0] != nil }), let (_, v) = try? values(one), v == [1] else {
      return nil
    }
    used.formUnion([e, a, r])
    return graph.node[r].output.first
  }
}
