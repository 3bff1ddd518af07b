import Foundation
import LinearAlgebra

/// A trained network with what is needed to use it on raw data: the
/// standardisation fitted on the training set, the feature names (CSV header)
/// and the label's name and classes.
///
/// ## File format (version 1)
/// One JSON object, UTF-8:
///
///     {
///       "format": "blasnet-model",
///       "version": 1,
///       "sizes": [30, 16, 8, 1],
///       "activations": ["relu", "relu", "sigmoid"],      // layers 1...L
///       "parameters": [                                   // W1, b1, ..., WL, bL
///         {"name": "W1", "rows": 16, "columns": 30, "values": [...]},  // column-major
///         ...
///       ],
///       "standardizer": {"means": [...], "standardDeviations": [...]},  // optional
///       "featureNames": ["mean_radius", ...],                           // optional
///       "labelName": "malignant",                                       // optional
///       "classLabels": [0, 1]                                           // optional
///     }
///
/// Values are written in Swift's shortest round-trip form, so `Float`
/// parameters load back bit for bit. Saving is atomic: the file is written
/// under a temporary name in the same folder, flushed to disk, then renamed
/// over the target, so a crash never leaves a half-written model and an
/// existing model is replaced only by a complete one.
public struct SavedModel: Equatable, Sendable {
  /// The format version this library writes and reads.
  public static let currentVersion = 1
  static let formatName = "blasnet-model"

  public var network: Network<Float>
  public var standardizer: Standardizer?
  public var featureNames: [String]?
  public var labelName: String?
  /// The label values the output classes stand for (output unit k ↔ classLabels[k];
  /// for a binary network, [negative, positive]).
  public var classLabels: [Double]?

  public init(
    network: Network<Float>, standardizer: Standardizer? = nil, featureNames: [String]? = nil,
    labelName: String? = nil, classLabels: [Double]? = nil
  ) {
    self.network = network
    self.standardizer = standardizer
    self.featureNames = featureNames
    self.labelName = labelName
    self.classLabels = classLabels
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
      return "\(p): model file version \(f) is not supported; this build reads version \(s)"
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
  var labelName: String?
  var classLabels: [Double]?
}

/// Only the header fields, read first so that a wrong format or version is
/// reported as such rather than as a missing field.
struct ModelHeader: Decodable {
  var format: String?
  var version: Int?
}

extension SavedModel {
  /// The model as the JSON bytes of the format above.
  public func encoded() throws(ModelFileError) -> Data {
    let record = ModelRecord(
      format: Self.formatName, version: Self.currentVersion, sizes: network.sizes,
      activations: network.layers.map(\.activation.rawValue),
      parameters: network.parameterNames.map { name in
        let l = Int(name.dropFirst())!
        let m = name.hasPrefix("W") ? network.weights(l) : network.bias(l)
        return .init(name: name, rows: m.rows, columns: m.columns, values: m.elements)
      },
      standardizer: standardizer, featureNames: featureNames, labelName: labelName, classLabels: classLabels)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      return try encoder.encode(record)
    } catch {
      throw .cannotWrite(path: "<memory>", reason: "\(error)")
    }
  }

  /// A model from the JSON bytes of a model file; `path` is only used in errors.
  public static func decode(_ data: Data, path: String = "<memory>") throws(ModelFileError) -> SavedModel {
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
    guard version == currentVersion else {
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
    var parameters: [String: Matrix<Float>] = [:]
    for p in record.parameters {
      if parameters[p.name] != nil { throw .malformed(path: path, detail: "parameter \(p.name) appears twice") }
      do {
        parameters[p.name] = try Matrix(rows: p.rows, columns: p.columns, columnMajor: p.values)
      } catch {
        throw .malformed(path: path, detail: "parameter \(p.name): \(error)")
      }
    }
    let network: Network<Float>
    do {
      network = try Network(parameters: parameters, activations: activations)
    } catch {
      throw .invalidNetwork(path: path, error)
    }
    if network.sizes != record.sizes {
      throw .malformed(path: path, detail: "\"sizes\" says \(record.sizes) but the parameters make \(network.sizes)")
    }
    if let s = record.standardizer,
      s.means.count != network.inputSize || s.standardDeviations.count != network.inputSize
    {
      throw .malformed(
        path: path, detail: "the standardizer has \(s.means.count) means for \(network.inputSize) inputs")
    }
    if let s = record.standardizer, !(s.means + s.standardDeviations).allSatisfy(\.isFinite) {
      throw .malformed(path: path, detail: "the standardizer has a non-finite value")
    }
    if let f = record.featureNames, f.count != network.inputSize {
      throw .malformed(path: path, detail: "\(f.count) feature names for \(network.inputSize) inputs")
    }
    return SavedModel(
      network: network, standardizer: record.standardizer, featureNames: record.featureNames,
      labelName: record.labelName, classLabels: record.classLabels)
  }

  /// Writes the model to `path` atomically (temporary file, fsync, rename).
  public func save(to path: String) throws(ModelFileError) {
    let data = try encoded()
    do {
      try AtomicFile.write(data, to: path)
    } catch {
      throw .cannotWrite(path: path, reason: error.reason)
    }
  }

  /// Reads and validates the model at `path`.
  public static func load(from path: String) throws(ModelFileError) -> SavedModel {
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
