import Foundation
import LinearAlgebra
import NeuralNetwork
import SwiftProtobuf
import Tabular

/// Why a model could not be written as ONNX.
public enum ONNXExportError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A part of the model that has no ONNX form here (named, with the reason).
  case unsupported(String)
  /// The protobuf encoder failed.
  case encoding(String)
  /// The file could not be written (what was at `path` is left as it was).
  case write(path: String, reason: String)

  public var description: String {
    switch self {
    case .unsupported(let what): return "cannot export to ONNX: \(what)"
    case .encoding(let why): return "cannot encode the ONNX model: \(why)"
    case .write(let path, let reason): return "cannot write the ONNX model to \(path): \(reason)"
    }
  }
}

/// The names of the graph's inputs and outputs, and what the metadata holds.
public enum ONNXNames {
  /// The float input `[N, n]`: the raw numeric columns, in the training
  /// table's order; a missing value is NaN.
  public static let numericInput = "input"
  /// The string input `[N, k]` of a model with categorical columns: their
  /// raw text, in the training table's order.
  public static let categoricalInput = "categories"
  /// `[N, C]` float: each class's probability, in the order of `class_names`.
  public static let probabilities = "probabilities"
  /// `[N, 1]` float, two classes only: the positive (second) class's probability.
  public static let probability = "probability"
  /// `[N, 1]` int64: the predicted class's index (two classes: probability ≥ the threshold).
  public static let classIndex = "class_index"
  /// `[N, 1]` float: a regression's value, in the label's units.
  public static let value = "value"
}

extension TabularModel {
  /// The model as an ONNX graph (ONNX opset 17, `ai.onnx.ml` opset 3), the
  /// bytes of an `.onnx` file, which ONNX Runtime and the other ONNX tools run.
  ///
  /// The graph starts from the raw columns of the training table: the
  /// numeric ones as one float input ``ONNXNames/numericInput`` (`[N, n]`,
  /// NaN for a missing value, filled as training filled it by an `Imputer`),
  /// the categorical ones, if any, as one string input
  /// ``ONNXNames/categoricalInput`` (`[N, k]`, one-hot encoded by
  /// `OneHotEncoder`, an unseen value as all zeros, a missing one, a missing
  /// marker in any case, as all zeros or, for a column with a missing
  /// indicator, as its category of its own: a second `OneHotEncoder` over
  /// the markers' spellings and a `MatMul` summing it).
  /// Standardisation is folded into the first layer (`W/σ`, `b − W·μ/σ`,
  /// computed in Double and rounded once to Float); with
  /// `foldingStandardization: false` it is `Sub` and `Div` nodes on the
  /// numeric inputs instead, BLASNet's own order of operations (both matched
  /// `blasnet predict` within 2.3·10⁻⁶ relative on the clinical table, whose
  /// columns run into the thousands). A model with a piecewise-linear
  /// encoding always has the standardisation in nodes, then the encoding's
  /// (`Gather`, `Sub`, `Div`, `Max`, `Min`). A Platt or temperature calibration
  /// and a regression's target scale go into the last layer.
  /// Outputs: ``ONNXNames/probabilities``, ``ONNXNames/probability`` (two
  /// classes), ``ONNXNames/classIndex``, or ``ONNXNames/value`` for a
  /// regression. The metadata names the classes, the threshold, the input
  /// columns, the label and the BLASNet version.
  ///
  /// - Parameter foldingStandardization: fold the standardisation into the
  ///   first layer's weights (the default) rather than computing it in nodes
  ///   of its own.
  /// - Throws: ``ONNXExportError`` for an isotonic calibration or an
  ///   activation that is not built in.
  public func onnxModel(foldingStandardization: Bool = true) throws(ONNXExportError) -> [UInt8] {
    var writer = ONNXWriter(foldStandardization: foldingStandardization)
    let graph = try writer.graph(of: self)
    var model = Onnx_ModelProto()
    model.irVersion = 8
    model.producerName = "BLASNet"
    model.producerVersion = TabularModel.blasnetVersion
    model.opsetImport = [opset("", 17), opset("ai.onnx.ml", 3)]
    model.graph = graph
    model.docString = "A dense network trained with BLASNet: \(network)"
    var metadata: [(String, String)] = [
      ("blasnet_version", TabularModel.blasnetVersion),
      ("input_columns", json(inputEncoder.columns.map(\.name))),
      ("numeric_columns", json(inputEncoder.columns.filter(\.isNumeric).map(\.name))),
      ("categorical_columns", json(inputEncoder.columns.filter { !$0.isNumeric }.map(\.name))),
      ("ignored_columns", json(inputEncoder.ignoredColumns)),
    ]
    if let labelName { metadata.append(("label", labelName)) }
    if let target {
      metadata.append(("task", "regression"))
      metadata.append(("target_mean", "\(target.mean)"))
      metadata.append(("target_standard_deviation", "\(target.standardDeviation)"))
    } else {
      metadata.append(("task", "classification"))
      metadata.append(("class_names", json(classes)))
      if network.outputSize == 1 { metadata.append(("threshold", "\(decisionThreshold)")) }
    }
    if let calibrator { metadata.append(("calibration", calibrator.method)) }
    model.metadataProps = metadata.map { key, value in
      var entry = Onnx_StringStringEntryProto()
      entry.key = key
      entry.value = value
      return entry
    }
    do {
      return try model.serializedBytes()
    } catch {
      throw .encoding("\(error)")
    }
  }

  /// Writes ``onnxModel(foldingStandardization:)`` to `path` (atomically: a failed write leaves what was there).
  public func exportONNX(to path: String) throws(ONNXExportError) {
    let bytes = try onnxModel()
    do {
      try AtomicFile.write(Data(bytes), to: path)
    } catch {
      throw .write(path: path, reason: error.reason)
    }
  }
}

func opset(_ domain: String, _ version: Int64) -> Onnx_OperatorSetIdProto {
  var set = Onnx_OperatorSetIdProto()
  set.domain = domain
  set.version = version
  return set
}

func json(_ strings: [String]) -> String {
  let data = (try? JSONSerialization.data(withJSONObject: strings)) ?? Data("[]".utf8)
  return String(decoding: data, as: UTF8.self)
}

/// Builds the graph node by node, naming each intermediate tensor.
struct ONNXWriter {
  /// Whether standardisation goes into the first layer's weights rather than
  /// into `Sub` and `Div` nodes before it.
  var foldStandardization = true
  var nodes: [Onnx_NodeProto] = []
  var initializers: [Onnx_TensorProto] = []
  var counter = 0

  mutating func fresh(_ stem: String) -> String {
    counter += 1
    return "\(stem)_\(counter)"
  }

  /// Adds a node; returns its (first) output's name.
  @discardableResult
  mutating func node(
    _ op: String, _ inputs: [String], output: String? = nil, domain: String = "",
    attributes: [Onnx_AttributeProto] = []
  ) -> String {
    var n = Onnx_NodeProto()
    n.opType = op
    n.domain = domain
    n.input = inputs
    let name = output ?? fresh(op.lowercased())
    n.output = [name]
    n.name = name
    n.attribute = attributes
    nodes.append(n)
    return name
  }

  /// A float initializer of `shape`, values row-major.
  mutating func constant(_ stem: String, _ values: [Float], shape: [Int]) -> String {
    var t = Onnx_TensorProto()
    t.name = fresh(stem)
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    t.dims = shape.map(Int64.init)
    t.floatData = values
    initializers.append(t)
    return t.name
  }

  mutating func int64Constant(_ stem: String, _ values: [Int64], shape: [Int]) -> String {
    var t = Onnx_TensorProto()
    t.name = fresh(stem)
    t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    t.dims = shape.map(Int64.init)
    t.int64Data = values
    initializers.append(t)
    return t.name
  }

  mutating func graph(of model: TabularModel) throws(ONNXExportError) -> Onnx_GraphProto {
    let encoder = model.inputEncoder
    let numeric = encoder.columns.enumerated().filter { $0.element.isNumeric }
    let categorical = encoder.columns.enumerated().filter { !$0.element.isNumeric }
    var graph = Onnx_GraphProto()
    graph.name = "blasnet"
    // The features in the graph's order: the numeric columns, then each
    // categorical column's categories; `order[k]` is the encoder input that
    // feature k of the graph is (the first layer's columns follow it).
    var order: [Int] = []
    var start: [Int] = []
    var offset = 0
    for column in encoder.columns {
      start.append(offset)
      offset += column.width
    }
    // The first layer's columns of encoder input i: its block of the piecewise-linear encoding, or itself.
    let blockStarts = model.piecewiseLinear?.blockStarts
    func columns(_ i: Int) -> [Int] {
      guard let blockStarts, let encoding = model.piecewiseLinear else { return [i] }
      return Array(blockStarts[i]..<(blockStarts[i] + (encoding.edges[i]?.count ?? 1)))
    }
    // Standardisation cannot be folded through the encoding's ramps.
    let fold = foldStandardization && model.piecewiseLinear == nil
    var pieces: [String] = []
    if !numeric.isEmpty {
      graph.input.append(valueInfo(ONNXNames.numericInput, elementType: .float, columns: numeric.count))
      var x = ONNXNames.numericInput
      let fills = numeric.map { _, column -> Float in
        if case .numeric(let fill?) = column.encoding, column.allowsMissing { return Float(fill) }
        return .nan
      }
      if fills.contains(where: { !$0.isNaN }) {
        x = node(
          "Imputer", [x], domain: "ai.onnx.ml",
          attributes: [attribute("imputed_value_floats", floats: fills), attribute("replaced_value_float", .nan)])
      }
      if let maps = model.standardizer?.quantileMaps {
        x = quantileMaps(x, numeric.map { maps[start[$0.offset]] })
      }
      if let standardizer = model.standardizer, !fold {
        // (x − μ)/σ as BLASNet computes it, before the first layer (one-hot inputs have μ 0, σ 1).
        let inputs = numeric.map { start[$0.offset] }
        let means = constant("mean", inputs.map { Float(standardizer.means[$0]) }, shape: [inputs.count])
        let divisors = standardizer.divisors
        let sds = constant("sd", inputs.map { Float(divisors[$0]) }, shape: [inputs.count])
        x = node("Div", [node("Sub", [x, means]), sds])
      }
      if let encoding = model.piecewiseLinear {
        x = piecewiseLinear(x, numeric.map { encoding.edges[start[$0.offset]] })
      }
      pieces.append(x)
      order += numeric.flatMap { columns(start[$0.offset]) }
      // Missing indicators: 1 where the raw input is NaN (read before the Imputer fills it).
      let flagged = numeric.enumerated().filter { $0.element.element.missingIndicator }
      if !flagged.isEmpty {
        let at = int64Constant("flagged", flagged.map { Int64($0.offset) }, shape: [flagged.count])
        let raw = node("Gather", [ONNXNames.numericInput, at], attributes: [attribute("axis", int: 1)])
        pieces.append(node("Cast", [node("IsNaN", [raw])], attributes: [attribute("to", int: 1)]))
        order += flagged.flatMap { columns(start[$0.element.offset] + 1) }
      }
    }
    if !categorical.isEmpty {
      graph.input.append(valueInfo(ONNXNames.categoricalInput, elementType: .string, columns: categorical.count))
      for (k, (index, column)) in categorical.enumerated() {
        guard case .oneHot(let categories) = column.encoding else { continue }
        let j = int64Constant("column", [Int64(k)], shape: [])
        let text = node("Gather", [ONNXNames.categoricalInput, j], attributes: [attribute("axis", int: 1)])
        let oneHot = node(
          "OneHotEncoder", [text], domain: "ai.onnx.ml",
          attributes: [attribute("cats_strings", strings: categories), attribute("zeros", int: 1)])
        pieces.append(oneHot)
        order += (0..<categories.count).flatMap { columns(start[index] + $0) }
        var missingInput: String?
        if column.missingIndicator || (column.otherCategory && column.allowsMissing) {
          // 1 where the text is a missing marker, in any case (BLASNet compares
          // them case-insensitively): missing as a category of its own, and
          // (input or not) not one of the other categories.
          let markers = try Self.markerSpellings(encoder.missingMarkers)
          let spelled = node(
            "OneHotEncoder", [text], domain: "ai.onnx.ml",
            attributes: [attribute("cats_strings", strings: markers), attribute("zeros", int: 1)])
          let ones = constant("ones", [Float](repeating: 1, count: markers.count), shape: [markers.count, 1])
          missingInput = node("MatMul", [spelled, ones])
          if column.missingIndicator {
            pieces.append(missingInput!)
            order += columns(start[index] + categories.count)
          }
        }
        if column.otherCategory {
          // The other categories: 1 − (a kept category) − (missing), as BLASNet encodes them.
          let ones = constant("ones", [Float](repeating: 1, count: categories.count), shape: [categories.count, 1])
          var covered = node("MatMul", [oneHot, ones])
          if let missingInput { covered = node("Add", [covered, missingInput]) }
          pieces.append(node("Sub", [constant("one", [1], shape: []), covered]))
          order += columns(start[index] + column.width - 1)
        }
      }
    }
    let input = pieces.count == 1 ? pieces[0] : node("Concat", pieces, attributes: [attribute("axis", int: 1)])
    if model.networks.count > 1, model.calibrator != nil {
      throw .unsupported(
        "a calibrated ensemble has no ONNX form here (its calibration maps the mean of its \(model.networks.count) networks' outputs); a calibrated model of one network exports"
      )
    }
    // Each network's chain from the inputs; an ensemble's outputs are averaged.
    var outputs: [String] = []
    for network in model.networks {
      outputs.append(try chain(network, from: input, order: order, fold: fold, model))
    }
    let a = outputs.count == 1 ? outputs[0] : node("Mean", outputs)
    if model.isRegression {
      graph.output.append(valueInfo(ONNXNames.value, elementType: .float, columns: 1))
      node("Identity", [a], output: ONNXNames.value)
    } else if model.network.outputSize == 1 {
      node("Identity", [a], output: ONNXNames.probability)
      let one = constant("one", [1], shape: [])
      let negative = node("Sub", [one, ONNXNames.probability])
      node(
        "Concat", [negative, ONNXNames.probability], output: ONNXNames.probabilities,
        attributes: [attribute("axis", int: 1)])
      let threshold = constant("threshold", [Float(model.decisionThreshold)], shape: [])
      let positive = node("GreaterOrEqual", [ONNXNames.probability, threshold])
      node("Cast", [positive], output: ONNXNames.classIndex, attributes: [attribute("to", int: 7)])
      graph.output += [
        valueInfo(ONNXNames.probabilities, elementType: .float, columns: 2),
        valueInfo(ONNXNames.probability, elementType: .float, columns: 1),
        valueInfo(ONNXNames.classIndex, elementType: .int64, columns: 1),
      ]
    } else {
      node("Identity", [a], output: ONNXNames.probabilities)
      node(
        "ArgMax", [a], output: ONNXNames.classIndex,
        attributes: [attribute("axis", int: 1), attribute("keepdims", int: 1)])
      graph.output += [
        valueInfo(ONNXNames.probabilities, elementType: .float, columns: model.network.outputSize),
        valueInfo(ONNXNames.classIndex, elementType: .int64, columns: 1),
      ]
    }
    graph.node = nodes
    graph.initializer = initializers
    return graph
  }

  /// Every spelling of the missing markers that BLASNet reads as missing:
  /// each with its ASCII letters in every combination of cases (`NA`, `Na`,
  /// `nA`, `na`), the empty field always among them, each once.
  static func markerSpellings(_ markers: [String]) throws(ONNXExportError) -> [String] {
    var spellings: [String] = []
    var seen = Set<String>()
    for marker in [""] + markers {
      let lower = marker.lowercased()
      let letters = lower.unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic }.count
      guard letters <= 10 else {
        throw .unsupported(
          "the missing marker \"\(marker)\" has more than 10 letters, too many spellings in every case for the graph's missing indicator"
        )
      }
      for mask in 0..<(1 << letters) {
        var k = 0
        var spelled = String.UnicodeScalarView()
        for u in lower.unicodeScalars {
          guard u.isASCII && u.properties.isAlphabetic else {
            spelled.append(u)
            continue
          }
          // After lowercased(), an ASCII letter is a–z; its capital is 32 below.
          spelled.append((mask >> k) & 1 == 1 ? Unicode.Scalar(UInt8(u.value) - 32) : u)
          k += 1
        }
        let text = String(spelled)
        if seen.insert(text).inserted { spellings.append(text) }
      }
    }
    return spellings
  }

  /// The nodes of `network`'s layers after `input` (the first layer's
  /// columns in `order`, the standardisation folded into it when `fold`;
  /// a regression's target scale or a calibration folded into the last);
  /// the name of its output.
  mutating func chain(
    _ network: Network<Float>, from input: String, order: [Int], fold: Bool, _ model: TabularModel
  ) throws(ONNXExportError) -> String {
    var a = input
    let depth = network.depth
    for (l, layer) in network.layers.enumerated() {
      var (w, b) = (
        Matrix<Double>(rows: layer.units, columns: layer.inputs) { Double(layer.weights[$0, $1]) },
        Matrix<Double>(rows: layer.units, columns: 1) { i, _ in Double(layer.bias[i, 0]) }
      )
      if l == 0 {
        if fold { self.fold(model.standardizer, into: &w, &b) }
        w = w.columns(at: order)
      }
      let activation = layer.activation
      let logitMap = l == depth - 1 ? try foldOutput(model, activation: activation, into: &w, &b) : nil
      let weights = constant("W\(l + 1)", w.rowMajorElements.map(Float.init), shape: [w.rows, w.columns])
      let bias = constant("b\(l + 1)", b.elements.map(Float.init), shape: [b.rows])
      a = node("Gemm", [a, weights, bias], attributes: [attribute("transB", int: 1)])
      if let logitMap {
        let bound = Self.logitBound
        let clipped = node("Clip", [a, constant("low", [-bound], shape: []), constant("high", [bound], shape: [])])
        let scaled = node("Mul", [clipped, constant("slope", [Float(logitMap.a)], shape: [])])
        a = node("Add", [scaled, constant("shift", [Float(logitMap.b)], shape: [])])
      }
      if l == depth - 1 && activation == .sigmoid {
        // ONNX Runtime's Sigmoid is a fast approximation, accurate to about
        // 10⁻⁷ absolute: a probability of 10⁻⁵ came out 0.2 % off. The
        // output's 1/(1 + e^(−z)) keeps its relative accuracy.
        let one = constant("one", [1], shape: [])
        a = node("Reciprocal", [node("Add", [one, node("Exp", [node("Neg", [a])])])])
      } else {
        a = try activate(a, activation)
      }
    }
    return a
  }

  /// The activation's node after `x` (none for identity).
  mutating func activate(_ x: String, _ activation: Activation) throws(ONNXExportError) -> String {
    switch activation {
    case .identity: return x
    case .relu: return node("Relu", [x])
    case .sigmoid: return node("Sigmoid", [x])
    case .tanh: return node("Tanh", [x])
    case .softmax: return node("Softmax", [x], attributes: [attribute("axis", int: 1)])
    case .leakyReLU: return node("LeakyRelu", [x], attributes: [attribute("alpha", Float(Activation.leakySlope))])
    default: throw .unsupported("the activation \(activation.rawValue) is not one of BLASNet's built-in ones")
    }
  }

  /// The piecewise-linear encoding of the standardised numeric inputs `x`
  /// (`[N, n]`, `edges` one per column): each column repeated once per
  /// output by `Gather`, then `Sub` and `Div` bring each ramp's bin to 0…1
  /// and `Max` and `Min` clamp it; a column's own value passes (0, 1, and
  /// the largest finite floats as bounds: an importer refuses ±∞ in a tensor).
  mutating func piecewiseLinear(_ x: String, _ edges: [[Double]?]) -> String {
    var source: [Int64] = []
    var (low, width, floor, ceiling): ([Float], [Float], [Float], [Float]) = ([], [], [], [])
    for (k, e) in edges.enumerated() {
      source.append(Int64(k))
      low.append(0)
      width.append(1)
      floor.append(-.greatestFiniteMagnitude)
      ceiling.append(.greatestFiniteMagnitude)
      guard let e else { continue }
      for r in 1..<e.count {
        source.append(Int64(k))
        low.append(Float(e[r - 1]))
        width.append(Float(e[r] - e[r - 1]))
        floor.append(0)
        ceiling.append(1)
      }
    }
    let n = source.count
    let repeated = node(
      "Gather", [x, int64Constant("pieces", source, shape: [n])], attributes: [attribute("axis", int: 1)])
    let ramps = node(
      "Div", [node("Sub", [repeated, constant("bin_low", low, shape: [n])]), constant("bin_width", width, shape: [n])])
    return node(
      "Min",
      [node("Max", [ramps, constant("ramp_floor", floor, shape: [n])]), constant("ramp_ceiling", ceiling, shape: [n])])
  }

  /// The numeric inputs `x` (`[N, n]`) through their quantile maps (nil:
  /// taken as they are), as `QuantileMap` computes them: each value clipped
  /// to its knots, its segment found by counting the inner knots at or below
  /// it (a binary search: ``knotsAtOrBelow(_:_:)``), then
  /// `base + slope · (x − knot)` of that segment, read with `Gather` from flat
  /// tables.
  mutating func quantileMaps(_ x: String, _ maps: [QuantileMap?]) -> String {
    let huge = Double(Float.greatestFiniteMagnitude)
    let identity = QuantileMap(knots: [-huge, huge], scores: [-huge, huge])
    let maps = maps.map { $0 ?? identity }
    var (low, high, segmentStart, base, slope) = ([Float](), [Float](), [Int64](), [Float](), [Float]())
    var inner = [[Float]](repeating: [], count: maps.count)
    for (i, map) in maps.enumerated() {
      let k = map.knots
      let v = map.scores
      low.append(Float(k[0]))
      high.append(Float(k[k.count - 1]))
      segmentStart.append(Int64(base.count))
      if k.count == 1 {
        base.append(Float(v[0]))
        slope.append(0)
        continue
      }
      for j in 0..<(k.count - 1) {
        base.append(Float(v[j]))
        slope.append(Float((v[j + 1] - v[j]) / (k[j + 1] - k[j])))
        if j > 0 { inner[i].append(Float(k[j])) }
      }
    }
    let n = maps.count
    let clipped = node(
      "Min", [node("Max", [x, constant("low", low, shape: [n])]), constant("high", high, shape: [n])])
    let segment = node(
      "Add", [knotsAtOrBelow(clipped, inner), int64Constant("first_segment", segmentStart, shape: [n])])
    // Each segment's left knot: the knots after the segments' base values, shifted per input.
    var left = [Float](repeating: 0, count: base.count)
    for (i, map) in maps.enumerated() {
      for j in 0..<Swift.max(1, map.knots.count - 1) { left[Int(segmentStart[i]) + j] = Float(map.knots[j]) }
    }
    let segments = [base.count]
    let knot = node("Gather", [constant("segment_knot", left, shape: segments), segment])
    let intercept = node("Gather", [constant("segment_base", base, shape: segments), segment])
    let gradient = node("Gather", [constant("segment_slope", slope, shape: segments), segment])
    return node("Add", [intercept, node("Mul", [gradient, node("Sub", [clipped, knot])])])
  }

  /// For each column i of `x` (`[N, n]`, no NaN), how many of the sorted
  /// `knots[i]` are at or below its value (int64 `[N, n]`), by binary
  /// search: each input's knots in a flat table, padded with +∞ to P, the
  /// least power of two above the most knots; then for s = P/2, P/4, …, 1 a
  /// count c grows by s where `x ≥ table[i·P + c + s − 1]` (`Gather`,
  /// `GreaterOrEqual`, `Where`, `Add`): log₂ P steps over `[N, n]`, where
  /// comparing with every knot took `[N, Σ knots]`.
  mutating func knotsAtOrBelow(_ x: String, _ knots: [[Float]]) -> String {
    let n = knots.count
    var padded = 1
    while padded <= knots.map(\.count).max() ?? 0 { padded *= 2 }
    if padded == 1 {
      // No input has a knot: a count of 0 in x's shape.
      return node(
        "Cast", [node("Mul", [x, constant("zero", [0], shape: [])])],
        attributes: [attribute("to", int: Int64(Onnx_TensorProto.DataType.int64.rawValue))])
    }
    var table = [Float](repeating: .infinity, count: n * padded)
    for (i, k) in knots.enumerated() { table.replaceSubrange(i * padded..<i * padded + k.count, with: k) }
    let flat = constant("knot_table", table, shape: [n * padded])
    let zero = int64Constant("zero", [0], shape: [])
    var count: String?
    var step = padded / 2
    while step >= 1 {
      // Where each input's next probe sits in the table, before adding the count so far.
      let probe = (0..<n).map { Int64($0 * padded + step - 1) }
      let index: String
      if let count {
        index = node("Add", [count, int64Constant("probe", probe, shape: [n])])
      } else {
        index = int64Constant("probe", probe, shape: [n])
      }
      let reached = node("GreaterOrEqual", [x, node("Gather", [flat, index])])
      let grown = node("Where", [reached, int64Constant("step", [Int64(step)], shape: []), zero])
      count = count.map { node("Add", [$0, grown]) } ?? grown
      step /= 2
    }
    return count!
  }

  /// `W·((x − μ)/σ) + b = (W/σ)·x + (b − W·(μ/σ))`, σ the standardizer's
  /// divisors (a constant feature's is 1).
  func fold(_ standardizer: Standardizer?, into w: inout Matrix<Double>, _ b: inout Matrix<Double>) {
    guard let standardizer else { return }
    let divisors = standardizer.divisors
    for j in 0..<w.columns {
      let sd = divisors[j]
      let mean = standardizer.means[j]
      for i in 0..<w.rows {
        w[i, j] /= sd
        b[i, 0] -= w[i, j] * mean
      }
    }
  }

  /// Folds a regression's target scale or a softmax's temperature into the
  /// last layer; returns the map `z ↦ a·z + b` of a sigmoid's calibrated
  /// log-odds (Platt, or temperature with `a = 1/T`), which stays a node of
  /// its own after the clamp BLASNet applies (see ``logitBound``).
  func foldOutput(
    _ model: TabularModel, activation: Activation, into w: inout Matrix<Double>, _ b: inout Matrix<Double>
  )
    throws(ONNXExportError) -> (a: Double, b: Double)?
  {
    if let target = model.target {
      for i in 0..<w.rows {
        for j in 0..<w.columns { w[i, j] *= target.standardDeviation }
        b[i, 0] = b[i, 0] * target.standardDeviation + target.mean
      }
      return nil
    }
    switch model.calibrator {
    case nil: return nil
    case .platt(let a, let shift)?:
      guard activation == .sigmoid else { throw .unsupported("Platt calibration of a \(activation.rawValue) output") }
      return (a, shift)
    case .temperature(let t)?:
      if activation == .sigmoid { return (1 / t, 0) }
      for i in 0..<w.rows {
        for j in 0..<w.columns { w[i, j] /= t }
        b[i, 0] /= t
      }
      return nil
    case .isotonic?:
      throw .unsupported(
        "an isotonic calibration (a piecewise-linear map) has no ONNX form here; export a model calibrated with platt or temperature, or none"
      )
    }
  }

  /// BLASNet's calibrators read a probability's log-odds with p kept within
  /// [10⁻⁷, 1 − 10⁻⁷]: |z| ≤ log((1 − 10⁻⁷)/10⁻⁷).
  static let logitBound = Float(Foundation.log((1 - 1e-7) / 1e-7))
}

func valueInfo(_ name: String, elementType: Onnx_TensorProto.DataType, columns: Int) -> Onnx_ValueInfoProto {
  var rows = Onnx_TensorShapeProto.Dimension()
  rows.dimParam = "N"
  var width = Onnx_TensorShapeProto.Dimension()
  width.dimValue = Int64(columns)
  var tensor = Onnx_TypeProto.Tensor()
  tensor.elemType = Int32(elementType.rawValue)
  tensor.shape.dim = [rows, width]
  var info = Onnx_ValueInfoProto()
  info.name = name
  info.type.tensorType = tensor
  return info
}

func attribute(_ name: String, int value: Int64) -> Onnx_AttributeProto {
  var a = Onnx_AttributeProto()
  a.name = name
  a.type = .int
  a.i = value
  return a
}

func attribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
  var a = Onnx_AttributeProto()
  a.name = name
  a.type = .float
  a.f = value
  return a
}

func attribute(_ name: String, floats: [Float]) -> Onnx_AttributeProto {
  var a = Onnx_AttributeProto()
  a.name = name
  a.type = .floats
  a.floats = floats
  return a
}

func attribute(_ name: String, strings: [String]) -> Onnx_AttributeProto {
  var a = Onnx_AttributeProto()
  a.name = name
  a.type = .strings
  a.strings = strings.map { Data($0.utf8) }
  return a
}
