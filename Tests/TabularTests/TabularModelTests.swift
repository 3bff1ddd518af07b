import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// The clinical example of the repository: text labels (B/M), an id column,
/// a text column and missing values.
let clinical = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Examples/clinical")

/// A header and rows of a small CSV file, as strings.
func readRows(_ url: URL) throws -> (header: [String], rows: [[String]]) {
  let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
    $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
  }
  return (lines[0], Array(lines.dropFirst()))
}

/// The clinical options of the README: label, id left out, median fills.
func clinicalOptions(epochs: Int = 40) -> TabularModel.FitOptions {
  var options = TabularModel.FitOptions()
  options.label = "diagnosis"
  options.ignoredColumns = ["patient_id"]
  options.missing = .median
  options.epochs = epochs
  return options
}

@Suite struct TabularModelTests {
  /// A one-layer model built by hand: inputs [a, c=x, c=y], a filled with 3
  /// when missing, standardised with means [1, 0, 0] and deviations [2, 1, 1];
  /// z = 0.5·a' + c=x − c=y − 0.25, p = σ(z).
  func handModel() throws -> TabularModel {
    let network = try Network<Float>(
      parameters: [
        "W1": try Matrix(rows: 1, columns: 3, columnMajor: [0.5, 1, -1]),
        "b1": try Matrix(rows: 1, columns: 1, columnMajor: [-0.25]),
      ], activations: [.sigmoid])
    let encoder = TabularEncoder(
      columns: [
        FeatureColumn(name: "a", encoding: .numeric(fill: 3), allowsMissing: true),
        FeatureColumn(name: "c", encoding: .oneHot(categories: ["x", "y"]), allowsMissing: false),
      ], missing: .mean, missingMarkers: TabularEncoder.defaultMissingMarkers, ignoredColumns: ["id"])
    return TabularModel(
      network: network, encoder: encoder,
      standardizer: Standardizer(means: [1, 0, 0], standardDeviations: [2, 1, 1]), labelName: "label",
      classNames: ["no", "yes"], threshold: 0.5)
  }

  @Test func recordsArePredictedAsComputedByHand() throws {
    let model = try handModel()
    func sigmoid(_ z: Double) -> Float { Float(1 / (1 + exp(-z))) }
    // z = 0.5·(5 − 1)/2 + 0 − 1 − 0.25 = −0.25; with a missing: a = 3, z = 0.5 + 1 − 0.25 = 1.25.
    let p = try model.predict([
      ["a": "5", "c": "y"], ["a": "NA", "c": "x", "id": "P7", "label": "yes"], ["a": " 1e0 ", "c": "x"],
    ])
    #expect(p.map(\.className) == ["no", "yes", "yes"])
    #expect(Swift.abs(p[0].probabilities[1] - sigmoid(-0.25)) < 1e-6)
    #expect(Swift.abs(p[0].probability - (1 - sigmoid(-0.25))) < 1e-6)
    #expect(Swift.abs(p[1].probabilities[1] - sigmoid(1.25)) < 1e-6)
    // a = 1: z = 0 + 1 − 0.25 = 0.75.
    #expect(Swift.abs(p[2].probabilities[1] - sigmoid(0.75)) < 1e-6)
    // The matrix form: encoded, unscaled inputs as columns (the fill of the
    // second already in it, so no note).
    let x = try Matrix<Float>(rows: 3, columns: 2, columnMajor: [5, 0, 1, 3, 1, 0])
    var filled = Array(p[0...1])
    #expect(filled[1].notes == [.filled(column: "a", value: 3)])
    filled[1].notes = []
    #expect(model.predict(encoded: x) == filled)
    #expect(try model.predict([] as [[String: String]]).isEmpty && model.predict(encoded: .zeros(3, 0)).isEmpty)
  }

  /// Records of typed values predict as the same records written as text,
  /// bit for bit: a number is used as it is, text is read as a CSV field
  /// (a number written out, a missing marker), nil and NaN are missing
  /// (filled, as "NA" is), whatever the model's markers; errors name the
  /// record, the column and the value as a CSV field would show it.
  @Test func typedRecordsPredictAsTheSameRecordsAsText() throws {
    let model = try handModel()
    let typed: [[String: TabularValue]] = [
      ["a": 5, "c": "y"], ["a": nil, "c": "x", "id": "P7", "label": "yes"], ["a": " 1e0 ", "c": "x"],
      ["a": .number(.nan), "c": "x"], ["a": 2.5, "c": "x"], ["a": "NA", "c": "y"],
    ]
    let text: [[String: String]] = [
      ["a": "5", "c": "y"], ["a": "NA", "c": "x", "id": "P7", "label": "yes"], ["a": " 1e0 ", "c": "x"],
      ["a": "", "c": "x"], ["a": "2.5", "c": "x"], ["a": "NA", "c": "y"],
    ]
    let p = try model.predict(typed)
    #expect(p == (try model.predict(text)))
    #expect(try model.inputs(for: typed) == model.inputs(for: text))
    // a = 2.5: z = 0.5·(2.5 − 1)/2 + 1 − 0.25 = 1.125.
    #expect(Swift.abs(p[4].probabilities[1] - Float(1 / (1 + exp(-1.125)))) < 1e-6)
    #expect(try model.predict(["a": 5, "c": "y"] as [String: TabularValue]) == p[0])
    #expect(try model.predict([] as [[String: TabularValue]]).isEmpty)
    #expect(throws: RecordError.notANumber(record: 1, column: "a", value: "tall")) {
      try model.predict([["a": 1, "c": "x"], ["a": "tall", "c": "x"]] as [[String: TabularValue]])
    }
    #expect(throws: RecordError.notFinite(record: 0, column: "a", value: "1e+39")) {
      try model.predict(["a": 1e39, "c": "x"] as [String: TabularValue])
    }
    #expect(throws: RecordError.missingValue(record: 0, column: "c", value: "")) {
      try model.predict(["a": 1, "c": nil] as [String: TabularValue])
    }
    #expect(throws: RecordError.unseenCategory(record: 0, column: "c", value: "3.0", known: ["x", "y"])) {
      try model.predict(["a": 1, "c": 3] as [String: TabularValue])
    }
    // Markers without the empty field: "" is text (not a number), nil is still missing.
    var strict = model
    let encoder = model.inputEncoder
    strict.encoder = TabularEncoder(
      columns: encoder.columns, missing: encoder.missing, missingMarkers: ["?"], ignoredColumns: encoder.ignoredColumns)
    #expect(throws: RecordError.notANumber(record: 0, column: "a", value: "")) {
      try strict.predict(["a": "", "c": "x"])
    }
    #expect(try strict.predict(["a": nil, "c": "x"] as [String: TabularValue]) == p[1])
  }

  /// Each prediction carries what its record needed: a filled value (with
  /// the fill), an unseen category encoded as none, a number more than 10
  /// standard deviations from the training mean ("a": mean 1, deviation 2,
  /// so beyond 21 or below −19), in the columns' order; a clean record none.
  /// The probabilities are those of the inputs without notes.
  @Test func eachPredictionCarriesItsRecordsNotes() throws {
    let model = try handModel()
    let records: [[String: String]] = [
      ["a": "5", "c": "y"], ["a": "NA", "c": "x"], ["a": "25", "c": "z"], ["a": "-30", "c": "x"],
      ["a": "21", "c": "x"],
    ]
    let p = try model.predict(records, unseenCategories: .encodeAsNone)
    #expect(
      p.map(\.notes) == [
        [], [.filled(column: "a", value: 3)],
        [.farFromTraining(column: "a", value: 25), .unseenCategory(column: "c", value: "z")],
        [.farFromTraining(column: "a", value: -30)], [],
      ])
    let plain = try model.predict(inputs: try model.inputs(for: records, unseenCategories: .encodeAsNone))
    #expect(plain.allSatisfy { $0.notes.isEmpty })
    #expect(p.map(\.probabilities) == plain.map(\.probabilities))
    // A record alone, and typed values, carry the same notes.
    #expect(try model.predict(records[2], unseenCategories: .encodeAsNone).notes == p[2].notes)
    let typed = try model.predict([["a": nil, "c": "x"], ["a": -30, "c": "x"]] as [[String: TabularValue]])
    #expect(typed.map(\.notes) == [p[1].notes, p[3].notes])
    #expect(p[1].notes[0].description == #""a": missing, filled with 3.0"#)
    #expect(
      p[2].notes.map(\.description) == [
        #""a": 25.0 is far outside the training data; the prediction is an extrapolation"#,
        #""c": category "z" was not seen in training; encoded as no category"#,
      ])
  }

  @Test func badRecordsAreTypedErrorsThatNameColumnAndValue() throws {
    let model = try handModel()
    #expect(throws: RecordError.unseenCategory(record: 1, column: "c", value: "z", known: ["x", "y"])) {
      try model.predict([["a": "1", "c": "x"], ["a": "1", "c": "z"]])
    }
    #expect(throws: RecordError.missingColumn(record: 0, column: "c")) { try model.predict(["a": "1"]) }
    #expect(throws: RecordError.notANumber(record: 0, column: "a", value: "tall")) {
      try model.predict(["a": "tall", "c": "x"])
    }
    #expect(throws: RecordError.notFinite(record: 0, column: "a", value: "1e39")) {
      try model.predict(["a": "1e39", "c": "x"])
    }
    #expect(throws: RecordError.unknownColumn(record: 0, column: "b", expected: ["a", "c"])) {
      try model.predict(["a": "1", "c": "x", "b": "2"])
    }
    // The label and the ignored "id" may come along; anything else beside them may not.
    #expect(try model.predict(["a": "1", "c": "x", "label": "1", "id": "7"]) == model.predict(["a": "1", "c": "x"]))
    #expect(throws: RecordError.unknownColumn(record: 1, column: "b", expected: ["a", "c"])) {
      try model.predict([["a": "1", "c": "x", "id": "7"], ["a": "1", "c": "x", "label": "0", "b": "2"]])
    }
    #expect(throws: RecordError.missingValue(record: 0, column: "c", value: "")) {
      try model.predict(["a": "1", "c": ""])
    }
    // Unseen categories as all zeros, as blasnet predict does: z = 0.5·0 − 0.25.
    let p = try model.predict(["a": "1", "c": "z"], unseenCategories: .encodeAsNone)
    #expect(Swift.abs(p.probabilities[1] - Float(1 / (1 + exp(0.25)))) < 1e-6)
    let error = RecordError.unseenCategory(record: 1, column: "c", value: "z", known: ["x", "y"])
    #expect(
      error.description == "record 1, \"c\": category \"z\" was not seen in training; the categories are \"x\", \"y\"")
  }

  /// A batch large enough to be split over the cores (3,001 records: two
  /// parts or more on any machine with two cores) predicts as each record
  /// alone does, notes included; a batch with a bad record in a later part
  /// and another kind of bad record in an earlier one throws what one call
  /// over the whole batch throws (the check by kind comes first: a missing
  /// column anywhere before a number that is not one).
  @Test func aLargeBatchPredictsAsEachRecordAloneAndFailsAsOneCall() throws {
    let model = try handModel()
    let records: [[String: String]] = (0..<3001).map { r in
      ["a": r % 7 == 0 ? "NA" : "\(Double(r % 13) - 6)", "c": r % 2 == 0 ? "x" : "y"]
    }
    let batch = try model.predict(records)
    #expect(batch.count == records.count)
    #expect(batch == records.map { try! model.predict($0) })
    #expect(batch[7].notes == [.filled(column: "a", value: 3)])
    var bad = records
    bad[100]["a"] = "tall"
    bad[2900] = ["a": "1"]
    #expect(throws: RecordError.missingColumn(record: 2900, column: "c")) { try model.predict(bad) }
    bad[2900] = ["a": "1", "c": "x"]
    #expect(throws: RecordError.notANumber(record: 100, column: "a", value: "tall")) { try model.predict(bad) }
  }

  @Test func fitOnAFileOnItsBytesAndOnRowsGivesOneModel() throws {
    let file = clinical.appendingPathComponent("breast-masses.csv")
    let options = clinicalOptions()
    var prepared: TabularModel.Preparation?
    let fromFile = try TabularModel.fit(.csvFile(file.path), options: options, prepared: { prepared = $0 })
    let fromData = try TabularModel.fit(
      .csvData(try Data(contentsOf: file), name: "masses.csv"), options: options)
    let (header, rows) = try readRows(file)
    let fromRows = try TabularModel.fit(.rows(header: header, rows: rows, name: "masses"), options: options)
    #expect(fromFile.model == fromData.model && fromFile.model == fromRows.model)
    #expect(fromFile.model.classes == ["B", "M"] && fromFile.model.encoder?.ignoredColumns == ["patient_id"])
    #expect(prepared?.exampleCount == 569 && prepared?.trainCount == 364 && prepared?.testCount == 114)
    #expect(prepared?.notes.filled.map(\.count) == [17, 15])
    #expect(fromFile.metrics.map(\.name) == ["train", "validation", "test"])
    let test = try #require(fromFile.metrics.last?.binary)
    #expect(test.confusion.truePositives + test.confusion.falseNegatives == 42)
    #expect(test.accuracy > 0.9)
    #expect(fromFile.history.epochsRun == 40)
    // Bad tables in memory are errors that say where, never traps.
    #expect(throws: TableError("empty: the file has a header but no data rows")) {
      try TabularModel.fit(.rows(header: ["a", "label"], rows: [], name: "empty"))
    }
    #expect(throws: TableError("ragged:3: this row has more than 2 fields, expected 2 (as the header has)")) {
      try TabularModel.fit(.rows(header: ["a", "label"], rows: [["1", "x"], ["2", "y", "z"]], name: "ragged"))
    }
  }

  @Test func recordsPredictAsTheFileDoesAndAfterSavingAndLoading() throws {
    let report = try TabularModel.fit(
      .csvFile(clinical.appendingPathComponent("breast-masses.csv").path), options: clinicalOptions())
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tabular-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("model.json").path
    try report.model.save(to: path)
    let model = try TabularModel.load(from: path)
    #expect(model == report.model)
    // The new patients read as a CSV file by the CLI's path...
    let file = clinical.appendingPathComponent("new-patients.csv")
    let data = try Dataset.forModel(path: file.path, model: model, requireLabel: false)
    let expected = try data.predictions(of: model)
    // ...and as records built in code: the same numbers.
    let (header, rows) = try readRows(file)
    let records = rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    #expect(throws: RecordError.self) { try model.predict(records) }  // "very large" was never seen
    let p = try model.predict(records, unseenCategories: .encodeAsNone)
    #expect(p.map { $0.probabilities[1] } == (0..<expected.columns).map { expected[0, $0] })
    #expect(p.map(\.className) == (0..<expected.columns).map { expected[0, $0] >= 0.5 ? "M" : "B" })
  }

  @Test func aVersion1ModelFilePredictsItsRecordedNumbers() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("BLASNetCLITests/Fixtures")
    let model = try TabularModel.load(from: fixtures.appendingPathComponent("model-v1.json").path)
    let (header, rows) = try readRows(fixtures.appendingPathComponent("small.csv"))
    let p = try model.predict(rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
    let (_, recorded) = try readRows(fixtures.appendingPathComponent("pred-v1.csv"))
    #expect(p.map { $0.probabilities[1] } == recorded.map { Float($0[0])! })
    #expect(p.map(\.className) == recorded.map { $0[1] })
  }

  /// A model file of the release before this library predicts, through the
  /// library, the numbers that release's `blasnet predict` printed.
  @Test func aModelFileOfThePreviousReleasePredictsItsRecordedNumbers() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    let model = try TabularModel.load(from: fixtures.appendingPathComponent("model-v2-clinical.json").path)
    #expect(model.classes == ["B", "M"] && model.encoder?.ignoredColumns == ["patient_id"])
    let table = try model.predict(
      csvFile: clinical.appendingPathComponent("new-patients.csv").path, keep: ["patient_id"])
    let (_, recorded) = try readRows(fixtures.appendingPathComponent("pred-v2-clinical.csv"))
    #expect(table.keptColumns.first?.fields == recorded.map { $0[0] })
    #expect(table.predictions.map { $0.probabilities[1] } == recorded.map { Float($0[1])! })
    #expect(table.predictions.map(\.className) == recorded.map { $0[2] })
    #expect(table.notes.map(\.isWarning) == [true, false])  // the unseen category, then the fill
  }

  /// `.npy` arrays with no examples or no features are errors that say so, not traps.
  @Test func arraysWithNoExamplesOrNoFeaturesAreRefused() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tabular-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    try Matrix<Float>.zeros(3, 0).write(npyFile: path("x0.npy"))
    try Matrix<Float>.zeros(0, 4).write(npyFile: path("xf.npy"))
    try Matrix<Float>.zeros(1, 0).write(npyFile: path("y0.npy"))
    try Matrix<Float>(row: [0, 1, 0, 1]).write(npyFile: path("y4.npy"))
    #expect(
      throws: TableError(
        "\(path("x0.npy")): X has shape 3×0, which holds no examples (m = 0 columns); training needs examples")
    ) { try TabularModel.fit(.npy(x: path("x0.npy"), y: path("y0.npy"), examplesAsRows: false)) }
    #expect(
      throws: TableError(
        "\(path("xf.npy")): X has shape 0×4, which holds no features (n_x = 0 rows); the network needs at least one input"
      )
    ) { try TabularModel.fit(.npy(x: path("xf.npy"), y: path("y4.npy"), examplesAsRows: false)) }
  }

  /// A row's probabilities do not depend on the rows predicted with it: alone,
  /// in batches of 7 or 32 (the one-thread path), or all 569 at once (blocks
  /// over the cores), from records or from the file, bit for bit.
  @Test(arguments: [0, 4])
  func aRowsPredictionIsTheSameAloneAndInAnyBatch(bins: Int) throws {
    let file = clinical.appendingPathComponent("breast-masses.csv").path
    var options = clinicalOptions(epochs: 5)
    options.piecewiseLinearBins = bins
    let model = try TabularModel.fit(.csvFile(file), options: options).model
    let (header, rows) = try readRows(clinical.appendingPathComponent("breast-masses.csv"))
    let records = rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    let all = try model.predict(records).map(\.probabilities)
    #expect(all.count == 569)
    let bits = all.map { $0.map(\.bitPattern) }
    // Rows whose bits differ from the whole batch's (a count, not the arrays, in a failure).
    func differing(_ other: [[UInt32]]) -> Int { zip(other, bits).filter { $0 != $1 }.count }
    let alone = try records.prefix(40).map { try model.predict($0).probabilities.map(\.bitPattern) }
    #expect(differing(alone) == 0)
    for size in [7, 32] {
      var batched: [[UInt32]] = []
      for start in stride(from: 0, to: records.count, by: size) {
        let batch = Array(records[start..<min(start + size, records.count)])
        batched += try model.predict(batch).map { $0.probabilities.map(\.bitPattern) }
      }
      #expect(batched.count == 569 && differing(batched) == 0, "batches of \(size)")
    }
    let fromFile = try model.predict(csvFile: file).predictions.map { $0.probabilities.map(\.bitPattern) }
    #expect(fromFile.count == 569 && differing(fromFile) == 0)
  }

  @Test func concurrentPredictionsOnOneModelAgreeWithSequentialOnes() async throws {
    let report = try TabularModel.fit(
      .csvFile(clinical.appendingPathComponent("breast-masses.csv").path), options: clinicalOptions(epochs: 5))
    let model = report.model
    let (header, rows) = try readRows(clinical.appendingPathComponent("breast-masses.csv"))
    let records = rows.prefix(64).map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    let sequential = try records.map { try model.predict($0) }
    let results = try await withThrowingTaskGroup(of: (Int, [TabularPrediction]).self) { group in
      for task in 0..<16 {
        group.addTask {
          // Each task predicts every record one at a time, starting at its own offset.
          var mine = [TabularPrediction?](repeating: nil, count: records.count)
          for i in 0..<records.count {
            let k = (i + task * 4) % records.count
            mine[k] = try model.predict(records[k])
          }
          return (task, mine.map { $0! })
        }
      }
      var all: [[TabularPrediction]] = []
      for try await (_, predictions) in group { all.append(predictions) }
      return all
    }
    #expect(results.count == 16)
    #expect(results.allSatisfy { $0 == sequential })
  }
}
