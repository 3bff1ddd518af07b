import Foundation
import LinearAlgebra
import NeuralNetwork

/// A trained network with everything needed to use it on raw data: the
/// encoding of the raw columns (missing values, text categories, ignored
/// columns), the standardisation fitted on the training set, the feature
/// names, the label's name and class names, and the decision threshold.
///
/// ## File format (version 2)
/// One JSON object, UTF-8:
///
///     {
///       "format": "blasnet-model",
///       "version": 2,
///       "sizes": [30, 16, 8, 1],
///       "activations": ["relu", "relu", "sigmoid"],      // layers 1...L
///       "parameters": [                                   // W1, b1, ..., WL, bL
///         {"name": "W1", "rows": 16, "columns": 30, "values": [...]},  // column-major
///         ...
///       ],
///       "standardizer": {"means": [...], "standardDeviations": [...],  // optional
///                        "quantileMaps": [{"knots": [...], "scores": [...]}, null, ...]},  // optional (version 4)
///       "piecewiseLinear": {"edges": [[-1.6, -0.2, 0.4, 2.9], null, ...]},  // optional (version 6)
///       "featureNames": ["mean_radius", ...],      // optional: the network's inputs
///       "encoder": {                               // optional: raw columns → inputs
///         "missing": "median", "missingMarkers": ["", "NA", ...], "ignoredColumns": ["id"],
///         "columns": [
///           {"name": "age", "kind": "numeric", "fill": 54, "allowsMissing": true},
///           {"name": "sex", "kind": "one-hot", "categories": ["F", "M"], "allowsMissing": true}
///         ]
///       },
///       "labelName": "diagnosis",                  // optional
///       "classNames": ["B", "M"],                  // optional: [negative, positive] when binary
///       "threshold": 0.31,                         // optional: binary decision threshold
///       "calibration": {"method": "platt", "a": 0.8, "b": -0.1},  // optional (version 3)
///       "target": {"mean": 152.1, "standardDeviation": 77.1}     // a regression (version 3)
///     }
///
/// `calibration` maps the network's probabilities to calibrated ones before
/// the threshold: `{"method": "platt", "a", "b"}`, `{"method": "isotonic",
/// "x": [...], "y": [...]}` or `{"method": "temperature", "temperature"}`
/// (`Calibrator`). A file with one is written as version 3, so that a
/// build that would ignore it refuses it instead; files without one are
/// still written as version 2. A regression model (`target`, no classes)
/// is version 3 too: its single linear output is the standardised target.
/// A model whose numeric inputs are mapped by quantiles before they are
/// standardised (`quantileMaps`: one per input, `null` for a category's;
/// `QuantileMap`) is version 4. A model with a numeric column's missing
/// indicator (`"missingIndicator": true` on the column: a second input, 1
/// where the value was missing) is version 5. A model whose standardised
/// inputs are encoded piecewise-linearly before the network
/// (`piecewiseLinear`: bin edges per input, `null` for an input passed
/// through; `PiecewiseLinearEncoding`) is version 6: its network has the
/// encoding's outputs as inputs, the standardizer and the encoder the
/// encoding's inputs. An ensemble (``networks``: several networks whose
/// outputs are averaged) is version 7: `sizes`, `activations` and
/// `parameters` are its first network's, and `"ensemble": [[...], ...]`
/// lists the parameters of the others, each as `parameters` does. A
/// model with a text column's missing indicator (`"missingIndicator": true`
/// on a one-hot column: an input after its categories, 1 where the value was
/// missing, so missing is a category of its own) is version 8. A model
/// with a text column's input for its other categories (`"otherCategory":
/// true` on a one-hot column: its last input, 1 for a value that is none of
/// its categories, which are the most frequent of its training values) is
/// version 9.
///
/// Version 1 files (no encoder, numeric `classLabels` instead of
/// `classNames`, no threshold) still load: their inputs are plain numeric
/// columns and their threshold is 0.5.
///
/// Values are written in Swift's shortest round-trip form, so `Float`
/// parameters load back bit for bit. Saving is atomic: the file is written
/// under a temporary name in the same folder, flushed to disk, then renamed
/// over the target, so a crash never leaves a half-written model and an
/// existing model is replaced only by a complete one.
public struct TabularModel: Equatable, Sendable {
  /// The newest format version this library writes and reads (9: a text
  /// column's input for its other categories; 8: a text column's missing
  /// indicator; 7: an ensemble; 6: a piecewise-linear
  /// encoding; 5: missing indicators; 4: numeric inputs mapped by quantiles;
  /// 3: a calibrated model or a regression; others are written as version 2).
  public static let currentVersion = 9
  /// The versions this library reads.
  public static let readableVersions = 1...9
  static let formatName = "blasnet-model"

  /// The networks whose outputs the model averages: one, or the members
  /// of an ensemble (``FitOptions/ensembleSize``), all of the same sizes
  /// and activations.
  public var networks: [Network<Float>] {
    didSet { Self.checkMembers(networks) }
  }
  /// The first of ``networks`` (the only one unless the model is an ensemble).
  public var network: Network<Float> {
    get { networks[0] }
    set { networks[0] = newValue }
  }
  /// How the raw columns become the network's inputs; nil: the inputs are
  /// the columns ``featureNames`` as plain numbers.
  public var encoder: TabularEncoder?
  public var standardizer: Standardizer?
  /// Encodes the standardised inputs piecewise-linearly before the network,
  /// when the model was fitted with bins (``FitOptions/piecewiseLinearBins``).
  public var piecewiseLinear: PiecewiseLinearEncoding?
  /// The names of the encoder's inputs (the standardised inputs).
  public var featureNames: [String]?
  public var labelName: String?
  /// The classes the outputs stand for (output unit k ↔ classNames[k]; for a
  /// binary network, [negative, positive]).
  public var classNames: [String]?
  /// A binary model's decision threshold: an output ≥ it predicts the
  /// positive class. nil means 0.5.
  public var threshold: Double?
  /// Maps the network's probabilities to calibrated ones (before the
  /// threshold), when the model was calibrated.
  public var calibrator: Calibrator?
  /// A regression model's target scale: the network predicts
  /// (value − mean) / standardDeviation of the training split's label.
  public var target: TargetScale?

  public init(
    network: Network<Float>, encoder: TabularEncoder? = nil, standardizer: Standardizer? = nil,
    featureNames: [String]? = nil, labelName: String? = nil, classNames: [String]? = nil, threshold: Double? = nil,
    calibrator: Calibrator? = nil, target: TargetScale? = nil, piecewiseLinear: PiecewiseLinearEncoding? = nil
  ) {
    if let piecewiseLinear, piecewiseLinear.outputCount != network.inputSize {
      shapeFailure(
        "TabularModel: the piecewise-linear encoding makes \(piecewiseLinear.outputCount) inputs for a network of \(network.inputSize)"
      )
    }
    self.networks = [network]
    self.encoder = encoder
    self.standardizer = standardizer
    self.piecewiseLinear = piecewiseLinear
    self.featureNames = featureNames ?? encoder?.featureNames
    self.labelName = labelName
    self.classNames = classNames
    self.threshold = threshold
    self.calibrator = calibrator
    self.target = target
  }

  /// Traps unless `members` is one network or more of the same sizes and activations.
  static func checkMembers(_ members: [Network<Float>]) {
    guard let first = members.first else { shapeFailure("TabularModel: an ensemble needs at least one network") }
    for (k, member) in members.enumerated().dropFirst()
    where member.sizes != first.sizes || member.layers.map(\.activation) != first.layers.map(\.activation) {
      shapeFailure(
        "TabularModel: the ensemble's network \(k + 1), \(member), differs from its first, \(first) (members share sizes and activations)"
      )
    }
  }

  /// Whether the model predicts a number (a regression) rather than a class.
  public var isRegression: Bool { target != nil }

  /// The inputs a row is encoded into and standardised as (n_x): the
  /// network's, or the piecewise-linear encoding's before it.
  public var inputWidth: Int { piecewiseLinear?.inputCount ?? network.inputSize }

  /// The model's probabilities for standardised inputs `x` (n_x × m): the
  /// network's outputs (after the ``piecewiseLinear`` encoding, if any),
  /// calibrated when the model has a ``calibrator``.
  public func probabilities(standardizedInputs x: Matrix<Float>) -> Matrix<Float> {
    // Ordered products whatever the width: a row's probabilities are the same in any batch.
    let inputs = piecewiseLinear.map { $0.encode(x) } ?? x
    if networks.count == 1, let calibrator, calibrator.mapsLogOdds, networks[0].outputActivation == .sigmoid {
      // A calibration of the log-odds, from the log-odds (exact near 0 and 1).
      var z = Predictor(networks[0].replacingOutputActivation(.identity), products: .ordered).predict(inputs)
      calibrator.apply(logOdds: &z)
      return z
    }
    var p = Predictor(networks[0], products: .ordered).predict(inputs)
    if networks.count > 1 {
      // The members' mean, summed in member order: the same for a row in any batch.
      for member in networks.dropFirst() { p += Predictor(member, products: .ordered).predict(inputs) }
      let count = Float(networks.count)
      p.apply { $0 / count }
    }
    calibrator?.apply(&p)
    return p
  }

  /// A model whose classes are numbers (as version 1 files have them).
  public init(
    network: Network<Float>, standardizer: Standardizer? = nil, featureNames: [String]? = nil,
    labelName: String? = nil, classLabels: [Double]?
  ) {
    self.init(
      network: network, standardizer: standardizer, featureNames: featureNames, labelName: labelName,
      classNames: classLabels?.map(TabularModel.className))
  }

  /// The classes as numbers, when every class name is one (nil otherwise).
  public var classLabels: [Double]? {
    guard let classNames else { return nil }
    let values = classNames.compactMap(Double.init)
    return values.count == classNames.count ? values : nil
  }

  /// BLASNet's version, which exported files (ONNX metadata) name.
  public static let blasnetVersion = "0.10.0"

  /// The threshold in force: ``threshold``, or 0.5.
  public var decisionThreshold: Double { threshold ?? 0.5 }

  /// The encoder in force: ``encoder``, or plain numeric columns named by
  /// ``featureNames`` (`x1`, `x2`, … when the file names none).
  public var inputEncoder: TabularEncoder {
    encoder ?? TabularEncoder(numericColumns: featureNames ?? (1...network.inputSize).map { "x\($0)" })
  }

  /// How a numeric class is named: `1` for 1.0, `2.5` for 2.5.
  public static func className(_ value: Double) -> String {
    value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : String(value)
  }
}

/// Why a model file could not be written or read. Every case names the file.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
  case cannotRead(path: String, reason: String)
  case cannotWrite(path: String, reason: String)
  /// Not JSON at all, or cut short (a truncated file lands here).
  case notJSON(path: String, detail: String)
  /// JSON, but not a BLASNet model (no `"format": "blasnet-model"`).
  case notAModel(path: String)
  case unsupportedVersion(path: String, found: Int, supported: Int)
  /// A field is missing or has the wrong type or count.
  case malformed(path: String, detail: String)
  /// The parameters do not make a valid network (missing, wrong shape, non-finite).
  case invalidNetwork(path: String, NetworkError)

  public var description: String {
    switch self {
    case .cannotRead(let p, let r): return "\(p): cannot read the model file: \(r)"
    case .cannotWrite(let p, let r): return "\(p): cannot write the model file: \(r)"
    case .notJSON(let p, let d): return "\(p): not a valid model file (truncated or not JSON): \(d)"
    case .notAModel(let p): return "\(p): this JSON file is not a BLASNet model (no \"format\": \"blasnet-model\")"
    case .unsupportedVersion(let p, let f, let s):
      return "\(p): model file version \(f) is not supported; this build reads versions 1 to \(s)"
    case .malformed(let p, let d): return "\(p): malformed model file: \(d)"
    case .invalidNetwork(let p, let e): return "\(p): invalid model: \(e)"
    }
  }
}

struct ModelRecord: Codable {
  struct Parameter: Codable {
    var name: String
    var rows: Int
    var columns: Int
    var values: [Float]

    enum CodingKeys: String, CodingKey { case name, rows, columns, values }

    init(name: String, rows: Int, columns: Int, values: [Float]) {
      self.name = name
      self.rows = rows
      self.columns = columns
      self.values = values
    }

    // Values are written as Float (shortest round-trip text) but read as
    // Double and then rounded to Float: Foundation rejects an out-of-range
    // Float as "not valid JSON" with no location, while this way 1e39 becomes
    // +∞ and is reported as a non-finite value of a named parameter. Shortest
    // Float text read as Double and rounded back gives the same Float (checked
    // on 20 million random bit patterns, and in the tests).
    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      name = try c.decode(String.self, forKey: .name)
      rows = try c.decode(Int.self, forKey: .rows)
      columns = try c.decode(Int.self, forKey: .columns)
      values = try c.decode([Double].self, forKey: .values).map { Float($0) }
    }
  }
  var format: String
  var version: Int
  var sizes: [Int]
  var activations: [String]
  var parameters: [Parameter]
  var standardizer: Standardizer?
  var featureNames: [String]?
  var encoder: EncoderRecord?
  var labelName: String?
  /// Version 1's numeric classes.
  var classLabels: [Double]?
  var classNames: [String]?
  var threshold: Double?
  var calibration: CalibrationRecord?
  var target: TargetScale?
  var piecewiseLinear: PiecewiseLinearEncoding?
  /// The parameters of an ensemble's networks after the first (version 7).
  var ensemble: [[Parameter]]?
}

extension ModelRecord {
  /// The record of `model`, as ``TabularModel/encoded()`` writes it.
  /// The oldest format version that holds everything `model` has.
  static func version(of model: TabularModel) -> Int {
    let columns = model.inputEncoder.columns
    if columns.contains(where: \.otherCategory) { return 9 }
    if columns.contains(where: { $0.missingIndicator && !$0.isNumeric }) { return 8 }
    if model.networks.count > 1 { return 7 }
    if model.piecewiseLinear != nil { return 6 }
    if columns.contains(where: \.missingIndicator) { return 5 }
    if model.standardizer?.quantileMaps != nil { return 4 }
    return model.calibrator == nil && model.target == nil ? 2 : 3
  }

  init(_ model: TabularModel) {
    let network = model.network
    func parameters(_ network: Network<Float>) -> [Parameter] {
      network.parameterNames.map { name in
        let l = Int(name.dropFirst())!
        let m = name.hasPrefix("W") ? network.weights(l) : network.bias(l)
        return .init(name: name, rows: m.rows, columns: m.columns, values: m.elements)
      }
    }
    self.init(
      format: TabularModel.formatName,
      version: Self.version(of: model),
      sizes: network.sizes, activations: network.layers.map(\.activation.rawValue),
      parameters: parameters(network),
      standardizer: model.standardizer, featureNames: model.featureNames,
      encoder: model.encoder.map(EncoderRecord.init),
      labelName: model.labelName, classLabels: nil, classNames: model.classNames, threshold: model.threshold,
      calibration: model.calibrator.map(CalibrationRecord.init), target: model.target,
      piecewiseLinear: model.piecewiseLinear,
      ensemble: model.networks.count > 1 ? model.networks.dropFirst().map(parameters) : nil)
  }
}

/// How a regression's target was standardised for training.
public struct TargetScale: Codable, Equatable, Sendable {
  public var mean: Double
  public var standardDeviation: Double

  public init(mean: Double, standardDeviation: Double) {
    (self.mean, self.standardDeviation) = (mean, standardDeviation)
  }

  /// The value in the target's own units of a network output.
  public func value(_ output: Float) -> Double { Double(output) * standardDeviation + mean }
}

/// A `Calibrator` in the model file.
struct CalibrationRecord: Codable {
  var method: String
  var a: Double?
  var b: Double?
  var x: [Double]?
  var y: [Double]?
  var temperature: Double?

  init(_ c: Calibrator) {
    method = c.method
    switch c {
    case .platt(let a, let b): (self.a, self.b) = (a, b)
    case .isotonic(let x, let y): (self.x, self.y) = (x, y)
    case .temperature(let t): temperature = t
    }
  }

  func calibrator(path: String) throws(ModelFileError) -> Calibrator {
    func need<T>(_ v: T?, _ name: String) throws(ModelFileError) -> T {
      guard let v else { throw .malformed(path: path, detail: "the \(method) calibration has no \"\(name)\"") }
      return v
    }
    switch method {
    case "platt": return .platt(a: try need(a, "a"), b: try need(b, "b"))
    case "isotonic": return .isotonic(x: try need(x, "x"), y: try need(y, "y"))
    case "temperature": return .temperature(try need(temperature, "temperature"))
    default:
      throw .malformed(
        path: path, detail: "calibration method \"\(method)\" is not one of platt, isotonic, temperature")
    }
  }
}

struct EncoderRecord: Codable {
  struct Column: Codable {
    var name: String
    /// "numeric" or "one-hot".
    var kind: String
    var fill: Double?
    var categories: [String]?
    var allowsMissing: Bool
    /// The column's missing indicator (a numeric column's: version 5; a
    /// one-hot column's: version 8); absent: none.
    var missingIndicator: Bool?
    /// A one-hot column's input for its other categories (version 9); absent: none.
    var otherCategory: Bool?
  }
  var missing: String
  var missingMarkers: [String]
  var ignoredColumns: [String]
  var columns: [Column]

  init(_ e: TabularEncoder) {
    missing = e.missing.rawValue
    missingMarkers = e.missingMarkers
    ignoredColumns = e.ignoredColumns
    columns = e.columns.map { c in
      switch c.encoding {
      case .numeric(let fill):
        return Column(
          name: c.name, kind: "numeric", fill: fill, categories: nil, allowsMissing: c.allowsMissing,
          missingIndicator: c.missingIndicator ? true : nil)
      case .oneHot(let categories):
        return Column(
          name: c.name, kind: "one-hot", fill: nil, categories: categories, allowsMissing: c.allowsMissing,
          missingIndicator: c.missingIndicator ? true : nil, otherCategory: c.otherCategory ? true : nil)
      }
    }
  }

  func encoder(path: String) throws(ModelFileError) -> TabularEncoder {
    guard let strategy = MissingValueStrategy(rawValue: missing) else {
      throw .malformed(path: path, detail: "encoder: unknown missing-value strategy \"\(missing)\"")
    }
    var result: [FeatureColumn] = []
    var names = Set<String>()
    for (k, c) in columns.enumerated() {
      let place = "encoder column \(k + 1) (\(c.name))"
      guard names.insert(c.name).inserted else { throw .malformed(path: path, detail: "\(place) appears twice") }
      switch c.kind {
      case "numeric":
        if let fill = c.fill, !fill.isFinite || !Float(fill).isFinite {
          throw .malformed(path: path, detail: "\(place) has a non-finite fill value")
        }
        if c.allowsMissing && c.fill == nil {
          throw .malformed(path: path, detail: "\(place) allows missing values but has no fill value")
        }
        if c.missingIndicator == true && !c.allowsMissing {
          throw .malformed(path: path, detail: "\(place) has a missing indicator but allows no missing value")
        }
        if c.otherCategory == true {
          throw .malformed(path: path, detail: "\(place) is numeric but has an input for other categories")
        }
        result.append(
          FeatureColumn(
            name: c.name, encoding: .numeric(fill: c.fill), allowsMissing: c.allowsMissing,
            missingIndicator: c.missingIndicator ?? false))
      case "one-hot":
        if c.missingIndicator == true && !c.allowsMissing {
          throw .malformed(path: path, detail: "\(place) has a missing indicator but allows no missing value")
        }
        guard let categories = c.categories, !categories.isEmpty, Set(categories).count == categories.count else {
          throw .malformed(path: path, detail: "\(place) needs a list of distinct categories")
        }
        result.append(
          FeatureColumn(
            name: c.name, encoding: .oneHot(categories: categories), allowsMissing: c.allowsMissing,
            missingIndicator: c.missingIndicator ?? false, otherCategory: c.otherCategory ?? false))
      default:
        throw .malformed(path: path, detail: "\(place) has an unknown kind \"\(c.kind)\"")
      }
    }
    return TabularEncoder(
      columns: result, missing: strategy, missingMarkers: missingMarkers, ignoredColumns: ignoredColumns)
  }
}

/// Only the header fields, read first so that a wrong format or version is
/// reported as such rather than as a missing field.
struct ModelHeader: Decodable {
  var format: String?
  var version: Int?
}

extension TabularModel {
  /// The model as the JSON bytes of the format above.
  public func encoded() throws(ModelFileError) -> Data {
    if let problem = Self.outputProblem(network, regression: isRegression) {
      throw .cannotWrite(path: "<memory>", reason: problem)
    }
    let record = ModelRecord(self)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      return try encoder.encode(record)
    } catch {
      throw .cannotWrite(path: "<memory>", reason: "\(error)")
    }
  }

  /// A model from the JSON bytes of a model file; `path` is only used in errors.
  public static func decode(_ data: Data, path: String = "<memory>") throws(ModelFileError) -> TabularModel {
    let decoder = JSONDecoder()
    let header: ModelHeader
    do {
      header = try decoder.decode(ModelHeader.self, from: data)
    } catch let DecodingError.dataCorrupted(context) {
      throw .notJSON(path: path, detail: Self.underlying(context))
    } catch {
      throw .notAModel(path: path)
    }
    guard header.format == formatName else { throw .notAModel(path: path) }
    guard let version = header.version else { throw .malformed(path: path, detail: "the \"version\" field is missing") }
    guard readableVersions.contains(version) else {
      throw .unsupportedVersion(path: path, found: version, supported: currentVersion)
    }
    let record: ModelRecord
    do {
      record = try decoder.decode(ModelRecord.self, from: data)
    } catch let DecodingError.keyNotFound(key, context) {
      throw .malformed(path: path, detail: "field \"\(Self.codingPath(context.codingPath + [key]))\" is missing")
    } catch let DecodingError.typeMismatch(_, context) {
      throw .malformed(path: path, detail: "field \"\(Self.codingPath(context.codingPath))\" has the wrong type")
    } catch let DecodingError.valueNotFound(_, context) {
      throw .malformed(path: path, detail: "field \"\(Self.codingPath(context.codingPath))\" is null")
    } catch let DecodingError.dataCorrupted(context) {
      throw .malformed(
        path: path, detail: "field \"\(Self.codingPath(context.codingPath))\": \(Self.underlying(context))")
    } catch {
      throw .malformed(path: path, detail: "\(error)")
    }
    return try model(from: record, path: path)
  }

  /// Checks this model as ``load(from:)`` would check the file ``save(to:)``
  /// writes of it, with the same rules (an importer runs this before
  /// anything is written, so that no file is saved that would not load).
  ///
  /// - Throws: the ``ModelFileError`` loading the saved model would throw.
  public func checkLoadable(path: String = "<memory>") throws(ModelFileError) {
    _ = try Self.model(from: ModelRecord(self), path: path)
  }

  /// The model of a decoded record, every field checked against the others:
  /// the loader's rules, in one place.
  static func model(from record: ModelRecord, path: String) throws(ModelFileError) -> TabularModel {
    let version = record.version
    var activations: [Activation] = []
    for (i, name) in record.activations.enumerated() {
      guard let a = Activation(rawValue: name) else {
        throw .malformed(path: path, detail: "layer \(i + 1) has an unknown activation \"\(name)\"")
      }
      activations.append(a)
    }
    if record.sizes.count != activations.count + 1 {
      throw .malformed(
        path: path,
        detail: "\(record.sizes.count) sizes need \(record.sizes.count - 1) activations, found \(activations.count)")
    }
    // The network of `records` (the first's, or network `member` of the ensemble).
    func member(_ records: [ModelRecord.Parameter], member: Int?) throws(ModelFileError) -> Network<Float> {
      let whose = member.map { "the ensemble's network \($0): " } ?? ""
      var parameters: [String: Matrix<Float>] = [:]
      for p in records {
        if parameters[p.name] != nil {
          throw .malformed(path: path, detail: "\(whose)parameter \(p.name) appears twice")
        }
        do {
          parameters[p.name] = try Matrix(rows: p.rows, columns: p.columns, columnMajor: p.values)
        } catch {
          throw .malformed(path: path, detail: "\(whose)parameter \(p.name): \(error)")
        }
      }
      let network: Network<Float>
      do {
        network = try Network(parameters: parameters, activations: activations)
      } catch {
        guard member != nil else { throw .invalidNetwork(path: path, error) }
        throw .malformed(path: path, detail: "\(whose)\(error)")
      }
      if network.sizes != record.sizes {
        throw .malformed(
          path: path, detail: "\(whose)\"sizes\" says \(record.sizes) but the parameters make \(network.sizes)")
      }
      return network
    }
    let network = try member(record.parameters, member: nil)
    var members = [network]
    if let ensemble = record.ensemble {
      if version < 7 {
        throw .malformed(path: path, detail: "an ensemble needs format version 7, the file says \(version)")
      }
      if ensemble.isEmpty { throw .malformed(path: path, detail: "\"ensemble\" lists no network") }
      for (k, parameters) in ensemble.enumerated() { members.append(try member(parameters, member: k + 2)) }
    }
    // The inputs of the standardizer and the encoder: the network's, or those of the encoding before it.
    let inputs = record.piecewiseLinear?.inputCount ?? network.inputSize
    if let encoding = record.piecewiseLinear {
      if version < 6 {
        throw .malformed(
          path: path, detail: "a piecewise-linear encoding needs format version 6, the file says \(version)")
      }
      if let problem = encoding.problem {
        throw .malformed(path: path, detail: "the piecewise-linear encoding: \(problem)")
      }
      if encoding.outputCount != network.inputSize {
        throw .malformed(
          path: path,
          detail: "the piecewise-linear encoding makes \(encoding.outputCount) inputs for \(network.inputSize)")
      }
    }
    if let s = record.standardizer,
      s.means.count != inputs || s.standardDeviations.count != inputs
    {
      throw .malformed(
        path: path, detail: "the standardizer has \(s.means.count) means for \(inputs) inputs")
    }
    if let s = record.standardizer, !(s.means + s.standardDeviations).allSatisfy(\.isFinite) {
      throw .malformed(path: path, detail: "the standardizer has a non-finite value")
    }
    if let maps = record.standardizer?.quantileMaps {
      if version < 4 {
        throw .malformed(path: path, detail: "quantile maps need format version 4, the file says \(version)")
      }
      if maps.count != inputs {
        throw .malformed(
          path: path, detail: "the standardizer has \(maps.count) quantile maps for \(inputs) inputs")
      }
      for (i, map) in maps.enumerated() {
        if let problem = map?.problem {
          throw .malformed(path: path, detail: "the quantile map of input \(i + 1): \(problem)")
        }
      }
    }
    if let f = record.featureNames, f.count != inputs {
      throw .malformed(path: path, detail: "\(f.count) feature names for \(inputs) inputs")
    }
    let encoder = try record.encoder.map { e throws(ModelFileError) in try e.encoder(path: path) }
    if let encoder, encoder.columns.contains(where: \.missingIndicator), version < 5 {
      throw .malformed(path: path, detail: "missing indicators need format version 5, the file says \(version)")
    }
    if let encoder, encoder.columns.contains(where: { $0.missingIndicator && !$0.isNumeric }), version < 8 {
      throw .malformed(
        path: path, detail: "a text column's missing indicator needs format version 8, the file says \(version)")
    }
    if let encoder, encoder.columns.contains(where: \.otherCategory), version < 9 {
      throw .malformed(
        path: path,
        detail: "a text column's input for other categories needs format version 9, the file says \(version)")
    }
    if let encoder, encoder.width != inputs {
      throw .malformed(path: path, detail: "the encoder makes \(encoder.width) inputs for \(inputs)")
    }
    if let encoder, let edges = record.piecewiseLinear?.edges {
      let measured = encoder.measuredInputs
      if let i = edges.indices.first(where: { edges[$0] != nil && !measured[$0] }) {
        throw .malformed(
          path: path, detail: "input \(i + 1) is a category's or a missing indicator, but has piecewise-linear bins")
      }
    }
    if let encoder, let maps = record.standardizer?.quantileMaps {
      let measured = encoder.measuredInputs
      if let i = maps.indices.first(where: { maps[$0] != nil && !measured[$0] }) {
        throw .malformed(
          path: path, detail: "input \(i + 1) is a category's or a missing indicator, but has a quantile map")
      }
    }
    if let encoder, let f = record.featureNames, f != encoder.featureNames {
      throw .malformed(path: path, detail: "the feature names are not those the encoder makes")
    }
    let classNames = record.classNames ?? record.classLabels?.map(className)
    if let c = classNames, c.count != Swift.max(2, network.outputSize) || Set(c).count != c.count {
      throw .malformed(
        path: path, detail: "\(c.count) class names for \(network.outputSize) outputs (they must be distinct)")
    }
    if let t = record.threshold, !(t > 0 && t <= 1) || network.outputSize != 1 {
      throw .malformed(path: path, detail: "a threshold (\(t)) must lie in (0, 1] and belongs to a binary model")
    }
    if let problem = Self.outputProblem(network, regression: record.target != nil) {
      throw .malformed(path: path, detail: problem)
    }
    if let t = record.target {
      if !(t.mean.isFinite && t.standardDeviation.isFinite && t.standardDeviation > 0) {
        throw .malformed(
          path: path, detail: "the target's mean and standard deviation must be finite, the deviation above 0")
      }
      if version < 3 || classNames != nil || record.threshold != nil || record.calibration != nil {
        throw .malformed(
          path: path,
          detail: "a regression model (with a target) is version 3 and has no classes, threshold or calibration")
      }
    }
    let calibrator = try record.calibration.map { c throws(ModelFileError) in try c.calibrator(path: path) }
    if let problem = calibrator?.problem(outputs: network.outputSize) {
      throw .malformed(path: path, detail: problem)
    }
    if calibrator != nil && version < 3 {
      throw .malformed(path: path, detail: "a calibration needs format version 3, the file says \(version)")
    }
    var model = TabularModel(
      network: network, encoder: encoder, standardizer: record.standardizer, featureNames: record.featureNames,
      labelName: record.labelName, classNames: classNames, threshold: record.threshold, calibrator: calibrator,
      target: record.target, piecewiseLinear: record.piecewiseLinear)
    model.networks = members
    return model
  }

  /// Why `network` cannot be a classifier's network, or nil: its outputs are
  /// read as probabilities, so a single output must be a sigmoid and several
  /// a softmax (a ReLU or tanh output would print "probabilities" of 11.5 or −0.7).
  static func outputProblem(_ network: Network<Float>, regression: Bool = false) -> String? {
    let output = network.outputActivation
    if regression {
      return network.outputSize == 1 && output == .identity
        ? nil
        : "a regression model needs 1 output unit with a linear (identity) activation; this one has \(network.outputSize) with \(output.displayName)"
    }
    if network.outputSize == 1 && output != .sigmoid {
      return
        "the output layer has 1 unit with a \(output.displayName) activation; a two-class model's output must be a sigmoid, a probability"
    }
    if network.outputSize > 1 && output != .softmax {
      return
        "the output layer has \(network.outputSize) units with a \(output.displayName) activation; a model of several classes needs a softmax, probabilities that sum to 1"
    }
    return nil
  }

  /// Writes the model to `path` atomically (temporary file, fsync, rename).
  public func save(to path: String) throws(ModelFileError) {
    if let problem = Self.outputProblem(network, regression: isRegression) {
      throw .cannotWrite(path: path, reason: problem)
    }
    let data = try encoded()
    do {
      try AtomicFile.write(data, to: path)
    } catch {
      throw .cannotWrite(path: path, reason: error.reason)
    }
  }

  /// Reads and validates the model at `path`.
  public static func load(from path: String) throws(ModelFileError) -> TabularModel {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
      throw .cannotRead(path: path, reason: reason)
    }
    if data.isEmpty { throw .notJSON(path: path, detail: "the file is empty") }
    return try decode(data, path: path)
  }

  static func codingPath(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
  }

  static func underlying(_ context: DecodingError.Context) -> String {
    if let e = context.underlyingError as NSError?, let d = e.userInfo[NSDebugDescriptionErrorKey] as? String {
      return d
    }
    return context.debugDescription
  }
}

extension TabularEncoder {
  /// The encoder as the JSON object a model file keeps it in (to store it
  /// beside a data cache, say); ``init(json:path:)`` reads it back.
  public func json() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try! encoder.encode(EncoderRecord(self))
  }

  /// An encoder from ``json()``'s object; `path` names the file in errors.
  public init(json: Data, path: String) throws(ModelFileError) {
    let record: EncoderRecord
    do {
      record = try JSONDecoder().decode(EncoderRecord.self, from: json)
    } catch {
      throw .malformed(path: path, detail: "encoder: \(error)")
    }
    self = try record.encoder(path: path)
  }
}
