import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

@Suite struct ModelFileTests {
  func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  func sampleModel() -> TabularModel {
    var net = Network<Float>(sizes: [3, 5, 2], outputActivation: .softmax, initializer: .orthogonal, seed: 11)
    net.setBias(1, Matrix.randomNormal(5, 1, seed: 2))
    return TabularModel(
      network: net, standardizer: Standardizer(means: [1, 2, 3], standardDeviations: [0.5, 1, 2]),
      featureNames: ["a", "b", "c"], labelName: "class", classLabels: [3, 7])
  }

  @Test func roundTripIsBitExact() throws {
    let folder = try temporaryFolder()
    let path = folder.appendingPathComponent("model.json").path
    let model = sampleModel()
    try model.save(to: path)
    let loaded = try TabularModel.load(from: path)
    #expect(loaded == model)
    // Bit for bit, including values with long decimal expansions and subnormals.
    var net = Network<Float>(sizes: [2, 2, 1], seed: 1)
    net.setWeights(1, try Matrix([[Float.leastNonzeroMagnitude, 1 / 3], [.pi, -Float.greatestFiniteMagnitude]]))
    let tricky = TabularModel(network: net)
    #expect(
      try TabularModel.decode(try tricky.encoded()).network.weights(1).elements.map(\.bitPattern)
        == net.weights(1).elements.map(\.bitPattern))
    // And 100 000 random bit patterns (finite ones) in one layer.
    var g = Xoshiro256StarStar(seed: 3)
    var values: [Float] = []
    while values.count < 100_000 {
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: g.next()))
      if f.isFinite { values.append(f) }
    }
    let wide = try Network<Float>(
      parameters: ["W1": Matrix(rows: 1, columns: 100_000, columnMajor: values), "b1": .zeros(1, 1)],
      activations: [.sigmoid])
    let back = try TabularModel.decode(try TabularModel(network: wide).encoded()).network.weights(1).elements
    #expect(back.map(\.bitPattern) == values.map(\.bitPattern))
  }

  @Test func savingReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
    let folder = try temporaryFolder()
    let path = folder.appendingPathComponent("model.json").path
    try sampleModel().save(to: path)
    var other = sampleModel()
    other.labelName = "second"
    try other.save(to: path)
    #expect(try TabularModel.load(from: path).labelName == "second")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.json"])
  }

  @Test func aFailedSaveLeavesTheOldFileIntact() throws {
    let folder = try temporaryFolder()
    let path = folder.appendingPathComponent("model.json").path
    try sampleModel().save(to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    // A folder without write permission (as root, permissions do not stop us, so
    // use a path whose folder does not exist for the failing case instead).
    #expect(throws: ModelFileError.self) { try sampleModel().save(to: folder.path + "/missing/model.json") }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
  }

  func write(_ text: String) throws -> String {
    let path = try temporaryFolder().appendingPathComponent("m.json").path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return path
  }

  func validJSON() throws -> String { String(decoding: try sampleModel().encoded(), as: UTF8.self) }

  @Test func missingFile() {
    #expect(throws: ModelFileError.cannotRead(path: "/nonexistent/model.json", reason: "no such file")) {
      try TabularModel.load(from: "/nonexistent/model.json")
    }
  }

  @Test func truncatedFile() throws {
    let json = try validJSON()
    let path = try write(String(json.prefix(json.count / 2)))
    #expect {
      try TabularModel.load(from: path)
    } throws: { error in
      guard case .notJSON(let p, _) = error as? ModelFileError else { return false }
      return p == path && "\(error)".contains("truncated")
    }
    let empty = try write("")
    #expect(throws: ModelFileError.notJSON(path: empty, detail: "the file is empty")) {
      try TabularModel.load(from: empty)
    }
  }

  @Test func notAModel() throws {
    let path = try write(#"{"hello": "world"}"#)
    #expect(throws: ModelFileError.notAModel(path: path)) { try TabularModel.load(from: path) }
  }

  @Test func wrongVersion() throws {
    let path = try write(try validJSON().replacingOccurrences(of: #""version":2"#, with: #""version":99"#))
    #expect(throws: ModelFileError.unsupportedVersion(path: path, found: 99, supported: TabularModel.currentVersion)) {
      try TabularModel.load(from: path)
    }
  }

  /// A model with a missing indicator is version 5; one that says 4, or
  /// that puts an indicator on a column of categories, is refused.
  @Test func missingIndicatorsAreVersion5AndChecked() throws {
    let rows: [[String]] = (0..<40).map { r in
      let x = r % 4 == 0 ? "NA" : String(r)
      return [x, r % 2 == 0 ? "a" : "b", r % 3 == 0 ? "yes" : "no"]
    }
    var o = TabularModel.FitOptions()
    o.label = "y"
    o.epochs = 2
    o.piecewiseLinearBins = 0  // bins would make it version 6
    o.ensembleSize = 1  // an ensemble would make it version 7
    let model = try TabularModel.fit(.rows(header: ["x", "c", "y"], rows: rows, name: "t.csv"), options: o).model
    #expect(model.inputEncoder.featureNames == ["x", "x missing", "c=a", "c=b"])
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    #expect(json.contains(#""version":5"#) && json.contains(#""missingIndicator":true"#))
    #expect(try TabularModel.decode(try model.encoded()) == model)
    let older = json.replacingOccurrences(of: #""version":5"#, with: #""version":4"#)
    #expect {
      try TabularModel.decode(Data(older.utf8))
    } throws: { "\($0)".contains("missing indicators need format version 5, the file says 4") }
    let onText = json.replacingOccurrences(
      of: #""allowsMissing":true,"categories""#, with: #""allowsMissing":true,"missingIndicator":true,"categories""#)
    #expect(onText != json)
    #expect {
      try TabularModel.decode(Data(onText.utf8))
    } throws: { "\($0)".contains("a text column's missing indicator needs format version 8, the file says 5") }
  }

  /// A text column missing in training rows gets a missing indicator (a
  /// category of its own): the file is version 8, comes back equal, and
  /// predicts a record with the value missing as the fitted encoder does;
  /// a file that says 7, or an indicator on a column that allows no
  /// missing value, is refused.
  @Test func aTextColumnsMissingIndicatorIsVersion8() throws {
    let rows: [[String]] = (0..<40).map { r in
      [String(r), r % 5 == 0 ? "" : r % 2 == 0 ? "a" : "b", r % 3 == 0 ? "yes" : "no"]
    }
    var o = TabularModel.FitOptions()
    o.label = "y"
    o.epochs = 2
    let model = try TabularModel.fit(.rows(header: ["x", "c", "y"], rows: rows, name: "t.csv"), options: o).model
    #expect(model.inputEncoder.columns[1].missingIndicator)
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    #expect(json.contains(#""version":8"#))
    let back = try TabularModel.decode(try model.encoded())
    #expect(back == model)
    let missing = try back.inputs(for: [["x": "3", "c": "NA"], ["x": "3", "c": "a"]])
    let flag = try #require(back.inputEncoder.featureNames.firstIndex(of: "c missing"))
    #expect(missing.rows == model.inputWidth && missing.columns == 2)
    #expect(missing[flag, 0] == 1 && missing[flag, 1] == 0)
    let older = json.replacingOccurrences(of: #""version":8"#, with: #""version":7"#)
    #expect {
      try TabularModel.decode(Data(older.utf8))
    } throws: { "\($0)".contains("a text column's missing indicator needs format version 8, the file says 7") }
    let strict = json.replacingOccurrences(
      of: #""allowsMissing":true,"categories""#, with: #""allowsMissing":false,"categories""#)
    #expect(strict != json)
    #expect {
      try TabularModel.decode(Data(strict.utf8))
    } throws: { "\($0)".contains("(c) has a missing indicator but allows no missing value") }
  }

  /// A text column with more categories than `maxCategories` keeps the most
  /// frequent and gets an input for the others: the file is version 9 and
  /// comes back equal; a grouped category and one never seen both set that
  /// input (and no kept one); a file that says 8 is refused, and so is the
  /// input on a numeric column.
  @Test func aTextColumnsOtherCategoriesAreVersion9() throws {
    // c: a 20 rows, b 12, d 8 (the rarest: grouped with maxCategories 2).
    let rows: [[String]] = (0..<40).map { r in
      [String(r % 7), r % 2 == 0 ? "a" : r % 5 == 0 ? "d" : r % 3 == 0 ? "d" : "b", r % 3 == 0 ? "yes" : "no"]
    }
    var o = TabularModel.FitOptions()
    o.label = "y"
    o.epochs = 2
    o.maxCategories = 2
    let model = try TabularModel.fit(.rows(header: ["x", "c", "y"], rows: rows, name: "t.csv"), options: o).model
    let column = model.inputEncoder.columns[1]
    #expect(column.encoding == .oneHot(categories: ["a", "b"]) && column.otherCategory)
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    #expect(json.contains(#""version":9"#) && json.contains(#""otherCategory":true"#))
    let back = try TabularModel.decode(try model.encoded())
    #expect(back == model)
    let x = try back.inputs(for: [["x": "3", "c": "d"], ["x": "3", "c": "never"], ["x": "3", "c": "a"]])
    let names = back.inputEncoder.featureNames
    let (a, b, other) = try (
      #require(names.firstIndex(of: "c=a")), #require(names.firstIndex(of: "c=b")),
      #require(names.firstIndex(of: "c=(other)"))
    )
    #expect((0..<3).map { x[other, $0] } == [1, 1, 0] && (0..<3).map { x[a, $0] + x[b, $0] } == [0, 0, 1])
    let older = json.replacingOccurrences(of: #""version":9"#, with: #""version":8"#)
    #expect {
      try TabularModel.decode(Data(older.utf8))
    } throws: { "\($0)".contains("a text column's input for other categories needs format version 9, the file says 8") }
    let onNumbers = json.replacingOccurrences(of: #""kind":"numeric""#, with: #""kind":"numeric","otherCategory":true"#)
    #expect(onNumbers != json)
    #expect {
      try TabularModel.decode(Data(onNumbers.utf8))
    } throws: { "\($0)".contains("(x) is numeric but has an input for other categories") }
  }

  /// A model with quantile maps (the default scaling) is version 4, comes
  /// back equal, and its maps are checked like every other field.
  @Test func quantileMapsAreVersion4AndChecked() throws {
    let rows = (0..<40).map { r in ["\(Double(r * r) / 7)", ["a", "b"][r % 2], r % 3 == 0 ? "yes" : "no"] }
    var o = TabularModel.FitOptions()
    o.label = "y"
    o.epochs = 2
    o.piecewiseLinearBins = 0  // bins would make it version 6
    o.ensembleSize = 1  // an ensemble would make it version 7
    let model = try TabularModel.fit(.rows(header: ["x", "c", "y"], rows: rows, name: "t.csv"), options: o).model
    let maps = try #require(model.standardizer?.quantileMaps)
    #expect(maps.count == 3 && maps[0] != nil && maps[1] == nil && maps[2] == nil)
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    #expect(json.contains(#""version":4"#))
    #expect(try TabularModel.decode(try model.encoded()) == model)
    let older = json.replacingOccurrences(of: #""version":4"#, with: #""version":3"#)
    #expect(throws: ModelFileError.self) { try TabularModel.decode(Data(older.utf8)) }
    do {
      _ = try TabularModel.decode(Data(older.utf8))
    } catch {
      #expect("\(error)".contains("quantile maps need format version 4, the file says 3"), "\(error)")
    }
    var damaged = model
    damaged.standardizer!.quantileMaps![0] = QuantileMap(knots: [2, 1], scores: [0, 1])
    #expect(
      throws: ModelFileError.malformed(
        path: "<memory>", detail: "the quantile map of input 1: the knots do not increase")
    ) {
      try damaged.checkLoadable()
    }
    var misplaced = model
    misplaced.standardizer!.quantileMaps![1] = QuantileMap(knots: [0, 1], scores: [0, 1])
    #expect(
      throws: ModelFileError.malformed(
        path: "<memory>", detail: "input 2 is a category's or a missing indicator, but has a quantile map")
    ) {
      try misplaced.checkLoadable()
    }
    // Standard scaling writes no maps, and the version of before.
    o.scaling = .standard
    let plain = try TabularModel.fit(.rows(header: ["x", "c", "y"], rows: rows, name: "t.csv"), options: o).model
    #expect(plain.standardizer?.quantileMaps == nil)
    #expect(String(decoding: try plain.encoded(), as: UTF8.self).contains(#""version":2"#))
  }

  @Test func missingParameter() throws {
    var object = try JSONSerialization.jsonObject(with: try sampleModel().encoded()) as! [String: Any]
    object["parameters"] = (object["parameters"] as! [[String: Any]]).filter { $0["name"] as? String != "b2" }
    let path = try write(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    #expect(throws: ModelFileError.invalidNetwork(path: path, .missingParameter("b2"))) {
      try TabularModel.load(from: path)
    }
  }

  @Test func wrongShape() throws {
    var object = try JSONSerialization.jsonObject(with: try sampleModel().encoded()) as! [String: Any]
    object["parameters"] = (object["parameters"] as! [[String: Any]]).map { p -> [String: Any] in
      guard p["name"] as? String == "W2" else { return p }
      var q = p
      q["rows"] = 5
      q["columns"] = 2  // 10 values either way, but W2 must be 2×5
      return q
    }
    let path = try write(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    #expect(
      throws: ModelFileError.invalidNetwork(
        path: path, .wrongShape(name: "W2", expected: Shape(5, 5), found: Shape(5, 2)))
    ) {
      try TabularModel.load(from: path)
    }
  }

  @Test func valueCountDoesNotFillTheShape() throws {
    var object = try JSONSerialization.jsonObject(with: try sampleModel().encoded()) as! [String: Any]
    object["parameters"] = (object["parameters"] as! [[String: Any]]).map { p -> [String: Any] in
      guard p["name"] as? String == "b1" else { return p }
      var q = p
      q["values"] = [1.0, 2.0]
      return q
    }
    let path = try write(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    #expect(
      throws: ModelFileError.malformed(path: path, detail: "parameter b1: 2 elements cannot fill 5×1 (it needs 5)")
    ) {
      try TabularModel.load(from: path)
    }
  }

  @Test func nonFiniteNumber() throws {
    // JSON has no NaN; a number too large for Float reads as infinity and is refused.
    let net = sampleModel().network
    let first = net.weights(1).elements[0]
    let json = try validJSON().replacingOccurrences(of: "[\(first),", with: "[1e39,")
    #expect(json != (try validJSON()))
    let path = try write(json)
    #expect(throws: ModelFileError.invalidNetwork(path: path, .nonFinite(name: "W1", row: 0, column: 0))) {
      try TabularModel.load(from: path)
    }
  }

  /// A model whose output cannot be read as probabilities (a file edited
  /// by hand, a network built so in code) is refused on load and on save,
  /// naming the output layer: no "probability" of 11.5 ever comes out.
  @Test func anOutputThatIsNotAProbabilityIsRefused() throws {
    let model = TabularModel(network: Network<Float>(sizes: [2, 3, 1], seed: 1), classNames: ["no", "yes"])
    let json = String(decoding: try model.encoded(), as: UTF8.self)
    #expect(json.contains("\"sigmoid\""))
    for edited in ["relu", "tanh", "identity"] {
      let bytes = Data(json.replacingOccurrences(of: "\"sigmoid\"", with: "\"\(edited)\"").utf8)
      #expect(throws: ModelFileError.self) { try TabularModel.decode(bytes, path: "edited.json") }
      do {
        _ = try TabularModel.decode(bytes, path: "edited.json")
      } catch {
        #expect(error.description.contains("edited.json: malformed model file: the output layer has 1 unit with a"))
        #expect(error.description.contains("must be a sigmoid"))
      }
    }
    let threeClasses = TabularModel(
      network: Network<Float>(sizes: [2, 3], outputActivation: .sigmoid, seed: 1), classNames: ["a", "b", "c"])
    #expect(
      throws: ModelFileError.cannotWrite(
        path: "m.json",
        reason:
          "the output layer has 3 units with a sigmoid activation; a model of several classes needs a softmax, probabilities that sum to 1"
      )
    ) { try threeClasses.save(to: "m.json") }
  }
}

extension ModelFileTests {
  /// checkLoadable runs the loader's rules on a model in memory: a model
  /// that saves but would not load (a one-hot column listing a category
  /// twice) fails it with the very error loading its file gives.
  @Test func checkLoadableRefusesWhatLoadWouldRefuse() throws {
    let network = try Network<Float>(
      parameters: [
        "W1": try Matrix(rows: 1, columns: 3, columnMajor: [0.5, 1, -1]),
        "b1": try Matrix(rows: 1, columns: 1, columnMajor: [-0.25]),
      ], activations: [.sigmoid])
    func model(_ categories: [String]) -> TabularModel {
      TabularModel(
        network: network,
        encoder: TabularEncoder(
          columns: [
            FeatureColumn(name: "a", encoding: .numeric(fill: nil), allowsMissing: false),
            FeatureColumn(name: "c", encoding: .oneHot(categories: categories), allowsMissing: false),
          ], missing: .mean, missingMarkers: TabularEncoder.defaultMissingMarkers, ignoredColumns: []),
        classNames: ["no", "yes"])
    }
    try model(["x", "y"]).checkLoadable(path: "m.json")
    let twice = model(["x", "x"])
    let expected = ModelFileError.malformed(
      path: "m.json", detail: "encoder column 2 (c) needs a list of distinct categories")
    #expect(throws: expected) { try twice.checkLoadable(path: "m.json") }
    #expect(throws: expected) { try TabularModel.decode(try twice.encoded(), path: "m.json") }
  }
}

@Suite struct ParameterNameTests {
  @Test func onlyCanonicalLayerNamesAreAccepted() throws {
    let w = Matrix<Float>.ones(1, 1)
    let b = Matrix<Float>.zeros(1, 1)
    let ok = try Network<Float>(parameters: ["W1": w, "b1": b, "W2": w, "b2": b], activations: [.relu, .sigmoid])
    #expect(ok.depth == 2)
    for bad in ["W0", "W3", "W01", "W+1", "x1", "W", "Wone", "B1"] {
      #expect(throws: NetworkError.unexpectedParameter(bad)) {
        try Network<Float>(
          parameters: ["W1": w, "b1": b, "W2": w, "b2": b, bad: w], activations: [.relu, .sigmoid])
      }
    }
  }
}
