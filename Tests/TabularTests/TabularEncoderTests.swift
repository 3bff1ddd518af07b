import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 10: missing values, text features and the model file that carries them.
@Suite struct TabularEncoderTests {
  /// age (numeric with a missing value), sex (text), bmi (numeric, complete).
  let table = TextTable(columns: [
    ["61", "NA", "47", "", "30", "52"],
    ["F", "M", "F", "M", "X", "null"],
    ["22.5", "31", "27", "24", "19.5", "26"],
  ])
  let names = ["age", "sex", "bmi"]
  /// Rows 0...3 train; rows 4 and 5 are "new" data.
  let training = [0, 1, 2, 3]

  func fitted(_ missing: MissingValueStrategy) throws -> TabularEncoder {
    try TabularEncoder(fitting: table, columns: [0, 1, 2], names: names, trainingRows: training, missing: missing)
  }

  @Test func fillsComeFromTheTrainingRowsOnly() throws {
    // Training ages are 61 and 47 (rows 1 and 3 are missing; row 4's 30 is not training data).
    let expected: [MissingValueStrategy: Double] = [.mean: 54, .median: 54, .zero: 0]
    for (strategy, fill) in expected {
      let encoder = try fitted(strategy)
      #expect(encoder.columns[0].encoding == .numeric(fill: fill), "\(strategy)")
      #expect(encoder.columns[0].allowsMissing)
      let (x, notes) = try encoder.encode(table, columns: [0, 1, 2])
      #expect(x.rows == 4 && x.columns == 6)
      #expect((0..<6).map { x[0, $0] } == [61, Float(fill), 47, Float(fill), 30, 52], "\(strategy)")
      // age's two gaps filled; sex's one ("null", row 5) encoded as no category.
      #expect(
        notes.filled == [
          TabularEncoder.FilledValues(column: 0, count: 2), TabularEncoder.FilledValues(column: 1, count: 1),
        ])
    }
    // A median differs from the mean on skewed values: 1, 2, 10 → median 2, mean 13/3.
    let skewed = TextTable(columns: [["1", "2", "10", "?"]])
    let median = try TabularEncoder(
      fitting: skewed, columns: [0], names: ["v"], trainingRows: [0, 1, 2, 3], missing: .median)
    let mean = try TabularEncoder(
      fitting: skewed, columns: [0], names: ["v"], trainingRows: [0, 1, 2, 3], missing: .mean)
    #expect(median.columns[0].encoding == .numeric(fill: 2))
    #expect(mean.columns[0].encoding == .numeric(fill: 13.0 / 3))
    // An even count takes the middle two: 1, 2, 10, 20 → 6.
    let even = TextTable(columns: [["20", "1", "10", "2", ""]])
    #expect(
      try TabularEncoder(fitting: even, columns: [0], names: ["v"], trainingRows: [0, 1, 2, 3, 4], missing: .median)
        .columns[0].encoding == .numeric(fill: 6))
  }

  /// With missing indicators, age (missing in training rows 1 and 3) gets
  /// a second input, 1 where it was filled; bmi, complete in training,
  /// gets none, so a gap in new data is only filled. The standardizer
  /// leaves the indicator 0/1 and maps no quantiles onto it; fitting while
  /// encoding gives the same inputs, and the streamed fit the same encoder.
  @Test func aNumericColumnMissingInTrainingGetsAnIndicator() throws {
    var rows = table
    rows.columns[2][5] = "NA"
    let encoder = try TabularEncoder(
      fitting: rows, columns: [0, 1, 2], names: names, trainingRows: training, missing: .median,
      missingIndicators: true)
    #expect(encoder.columns[0].missingIndicator && !encoder.columns[2].missingIndicator)
    #expect(encoder.featureNames == ["age", "age missing", "sex=F", "sex=M", "bmi"])
    #expect(encoder.measuredInputs == [true, false, false, false, true])
    let (x, _) = try encoder.encode(rows, columns: [0, 1, 2])
    #expect((0..<6).map { x[0, $0] } == [61, 54, 47, 54, 30, 52])
    #expect((0..<6).map { x[1, $0] } == [0, 1, 0, 1, 0, 0])
    // bmi's training median of 22.5, 24, 27, 31 fills row 5.
    #expect(x[4, 5] == 25.5)
    let together = try TabularEncoder.fitAndEncode(
      rows, columns: [0, 1, 2], names: names, trainingRows: training, missing: .median, missingIndicators: true)
    #expect(together.encoder == encoder && together.x == x)
    var streamed = TabularEncoder.StreamingFit(
      columns: [0, 1, 2], names: names, missing: .median, missingIndicators: true)
    try streamed.add(rows, firstRow: 0, isTraining: [true, true, true, true, false, false])
    #expect(try streamed.finish() == encoder)
    let scaler = encoder.standardizer(fitting: x)
    #expect(scaler.means[1] == 0 && scaler.standardDeviations[1] == 1)
    // Off by default: the library's encoder is what it was.
    #expect(try fitted(.median).width == 4)
  }

  /// With missing indicators, a text column missing in training rows (any
  /// marker, in any case) gets an input after its categories, 1 where the
  /// value is missing: missing is a category of its own, in new rows too.
  /// The streamed fit finds the same encoder; without indicators, or when
  /// only rows outside training miss a value, a missing value is no
  /// category (all zeros). The `Missing:` summary says which.
  @Test func aTextColumnMissingInTrainingIsACategoryOfItsOwn() throws {
    let gaps = TextTable(columns: [["F", "na", "M", "", "F", "NULL"], ["1", "2", "3", "4", "5", "6"]])
    let encoder = try TabularEncoder(
      fitting: gaps, columns: [0, 1], names: ["sex", "n"], trainingRows: training, missing: .median,
      missingIndicators: true)
    #expect(encoder.columns[0].encoding == .oneHot(categories: ["F", "M"]) && encoder.columns[0].missingIndicator)
    #expect(encoder.featureNames == ["sex=F", "sex=M", "sex missing", "n"])
    #expect(encoder.measuredInputs == [false, false, false, true])
    let (x, notes) = try encoder.encode(gaps, columns: [0, 1])
    #expect((0..<6).map { x[0, $0] } == [1, 0, 0, 0, 1, 0])
    #expect((0..<6).map { x[1, $0] } == [0, 0, 1, 0, 0, 0])
    #expect((0..<6).map { x[2, $0] } == [0, 1, 0, 1, 0, 1])
    #expect(notes.filled == [TabularEncoder.FilledValues(column: 0, count: 3)])
    #expect(
      Dataset.filledSummary(notes, encoder: encoder)
        == "3 missing text values (sex: 3) encoded as a category of their own")
    let together = try TabularEncoder.fitAndEncode(
      gaps, columns: [0, 1], names: ["sex", "n"], trainingRows: training, missing: .median, missingIndicators: true)
    #expect(together.encoder == encoder && together.x == x)
    var streamed = TabularEncoder.StreamingFit(
      columns: [0, 1], names: ["sex", "n"], missing: .median, missingIndicators: true)
    try streamed.add(gaps, firstRow: 0, isTraining: [true, true, true, true, false, false])
    #expect(try streamed.finish() == encoder)
    let scaler = encoder.standardizer(fitting: x)
    #expect(scaler.means[2] == 0 && scaler.standardDeviations[2] == 1)
    // Without indicators: no category.
    let plain = try TabularEncoder(
      fitting: gaps, columns: [0, 1], names: ["sex", "n"], trainingRows: training, missing: .median)
    #expect(plain.featureNames == ["sex=F", "sex=M", "n"])
    let (y, plainNotes) = try plain.encode(gaps, columns: [0, 1])
    #expect((0..<6).map { y[0, $0] + y[1, $0] } == [1, 0, 1, 0, 1, 0])
    #expect(
      Dataset.filledSummary(plainNotes, encoder: plain) == "3 missing text values (sex: 3) encoded as no category")
    // The first table's sex misses a value only in row 5, outside training: no indicator.
    let late = try TabularEncoder(
      fitting: table, columns: [0, 1, 2], names: names, trainingRows: training, missing: .median,
      missingIndicators: true)
    #expect(late.featureNames == ["age", "age missing", "sex=F", "sex=M", "bmi"])
    // Missing values an error: no indicator, whatever the option says.
    #expect(throws: TabularError.missingValue(row: 1, column: 0, found: "na")) {
      try TabularEncoder(
        fitting: gaps, columns: [0, 1], names: ["sex", "n"], trainingRows: training, missing: .error,
        missingIndicators: true)
    }
  }

  @Test func textColumnsAreOneHotWithCategoriesFromTraining() throws {
    let encoder = try fitted(.median)
    // "X" (row 4) is not a training row, so it is no category; "null" is missing.
    #expect(encoder.columns[1].encoding == .oneHot(categories: ["F", "M"]))
    #expect(encoder.featureNames == ["age", "sex=F", "sex=M", "bmi"])
    #expect(encoder.width == 4)
    let (x, notes) = try encoder.encode(table, columns: [0, 1, 2])
    #expect((0..<6).map { x[1, $0] } == [1, 0, 1, 0, 0, 0])
    #expect((0..<6).map { x[2, $0] } == [0, 1, 0, 1, 0, 0])
    #expect((0..<6).map { x[3, $0] } == [22.5, 31, 27, 24, 19.5, 26])
    #expect(notes.unseen == [TabularEncoder.UnseenCategories(column: 1, count: 1, firstRow: 4, firstValue: "X")])
    // The columns of the table to encode may come in another order.
    let shuffled = TextTable(columns: [table.columns[2], table.columns[0], table.columns[1]])
    #expect(try encoder.encode(shuffled, columns: [1, 2, 0]).x == x)
  }

  @Test func fittingWhileEncodingGivesWhatFittingThenEncodingGives() throws {
    for strategy in [MissingValueStrategy.mean, .median, .zero] {
      let encoder = try fitted(strategy)
      let (x, notes) = try encoder.encode(table, columns: [0, 1, 2])
      let both = try TabularEncoder.fitAndEncode(
        table, columns: [0, 1, 2], names: names, trainingRows: training, missing: strategy)
      #expect(both.encoder == encoder && both.x == x && both.notes.filled == notes.filled)
      // Both meet row 4's "X", which the training rows never had.
      #expect(both.notes.unseen == notes.unseen)
    }
    #expect(throws: TabularError.missingValue(row: 1, column: 0, found: "NA")) {
      try TabularEncoder.fitAndEncode(table, columns: [0, 1, 2], names: names, trainingRows: training)
    }
  }

  @Test func theStandardizerLeavesOneHotInputsAsTheyAre() throws {
    let encoder = try fitted(.median)
    let (x, _) = try encoder.encode(table, columns: [0, 1, 2])
    let s = encoder.standardizer(fitting: DataSplit.columns(x, training))
    #expect(s.means[1] == 0 && s.standardDeviations[1] == 1 && s.means[2] == 0 && s.standardDeviations[2] == 1)
    // bmi over the training rows: 22.5, 31, 27, 24 → mean 26.125.
    #expect(Swift.abs(s.means[3] - 26.125) < 1e-12)
    let deviations: [Double] = [22.5 - 26.125, 31 - 26.125, 27 - 26.125, 24 - 26.125]
    let variance = deviations.map { $0 * $0 }.reduce(0, +) / 4
    #expect(Swift.abs(s.standardDeviations[3] - variance.squareRoot()) < 1e-12)
    let scaled = s.transform(x)
    #expect((0..<6).map { scaled[1, $0] } == [1, 0, 1, 0, 0, 0])
  }

  @Test func errorsNameTheRowAndColumn() throws {
    #expect(throws: TabularError.missingValue(row: 1, column: 0, found: "NA")) { try fitted(.error) }
    let mixed = TextTable(columns: [["1", "2", "abc", "4"]])
    #expect(throws: TabularError.notANumber(row: 2, column: 0, found: "abc")) {
      try TabularEncoder(fitting: mixed, columns: [0], names: ["v"], trainingRows: [0, 1])
    }
    // Text first, then a number: still the text is the odd one out.
    let textFirst = TextTable(columns: [["n/a?", "2"]])
    #expect(throws: TabularError.notANumber(row: 0, column: 0, found: "n/a?")) {
      try TabularEncoder(fitting: textFirst, columns: [0], names: ["v"], trainingRows: [0, 1])
    }
    let huge = TextTable(columns: [["1", "1e39"]])
    #expect(throws: TabularError.notFinite(row: 1, column: 0, found: "1e39")) {
      try TabularEncoder(fitting: huge, columns: [0], names: ["v"], trainingRows: [0, 1])
    }
    // More categories than allowed: the most frequent are kept (ties by name), in name order.
    let ids = TextTable(columns: [["p4", "p2", "p3", "p1", "p4"]])
    let kept = try TabularEncoder(
      fitting: ids, columns: [0], names: ["id"], trainingRows: [0, 1, 2, 3, 4], maxCategories: 3)
    #expect(kept.columns[0].encoding == .oneHot(categories: ["p1", "p2", "p4"]))
    let empty = TextTable(columns: [["", "NA", "5"]])
    #expect(throws: TabularError.noTrainingValues(column: 0)) {
      try TabularEncoder(fitting: empty, columns: [0], names: ["v"], trainingRows: [0, 1], missing: .mean)
    }
    // Text only outside the training rows: no category to learn.
    let late = TextTable(columns: [["", "NA", "x"]])
    #expect(throws: TabularError.noTrainingValues(column: 0)) {
      try TabularEncoder(fitting: late, columns: [0], names: ["v"], trainingRows: [0, 1], missing: .zero)
    }
    // NaN is a missing marker by default; without it, it is text, never a NaN input.
    let nan = TextTable(columns: [["1", "NaN"]])
    #expect(throws: TabularError.notANumber(row: 1, column: 0, found: "NaN")) {
      try TabularEncoder(fitting: nan, columns: [0], names: ["v"], trainingRows: [0, 1], missingMarkers: [""])
    }
    // An encoder fitted without missing values refuses one later.
    let complete = try TabularEncoder(fitting: table, columns: [2], names: ["bmi"], trainingRows: training)
    let later = TextTable(columns: [["1", ""]])
    #expect(throws: TabularError.missingValue(row: 1, column: 0, found: "")) {
      try complete.encode(later, columns: [0])
    }
  }

  @Test func markersAreCaseInsensitiveAndConfigurable() throws {
    let t = TextTable(columns: [["1", "na", " N/A ", "NULL", "-", "3"]])
    let byDefault = TabularEncoder(numericColumns: ["v"])
    #expect(["", "na", " N/A ", "NULL", "nan", "?"].allSatisfy(byDefault.isMissing))
    #expect(!byDefault.isMissing("-") && !byDefault.isMissing("0"))
    let dash = try TabularEncoder(
      fitting: t, columns: [0], names: ["v"], trainingRows: [0, 5], missing: .zero,
      missingMarkers: ["", "na", "n/a", "null", "-"])
    #expect(try dash.encode(t, columns: [0]).notes.filled == [TabularEncoder.FilledValues(column: 0, count: 4)])
  }

  @Test func theModelFileCarriesThePipelineAndVersion1StillLoads() throws {
    let encoder = try TabularEncoder(
      fitting: table, columns: [0, 1, 2], names: names, trainingRows: training, missing: .median,
      ignoredColumns: ["id"])
    let (x, _) = try encoder.encode(table, columns: [0, 1, 2])
    let model = TabularModel(
      network: Network<Float>(sizes: [4, 3, 1], seed: 5), encoder: encoder,
      standardizer: encoder.standardizer(fitting: x), labelName: "diagnosis", classNames: ["B", "M"],
      threshold: 0.3125)
    let back = try TabularModel.decode(try model.encoded())
    #expect(back == model)
    #expect(back.featureNames == ["age", "sex=F", "sex=M", "bmi"])
    #expect(back.encoder?.ignoredColumns == ["id"] && back.decisionThreshold == 0.3125)
    #expect(back.classLabels == nil)

    // A file written by the version-1 build (blasnet train, before this change).
    let v1 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("BLASNetCLITests/Fixtures/model-v1.json")
    let old = try TabularModel.load(from: v1.path)
    #expect(old.encoder == nil && old.threshold == nil && old.decisionThreshold == 0.5)
    #expect(old.classNames == ["0", "1"] && old.classLabels == [0, 1])
    #expect(old.inputEncoder == TabularEncoder(numericColumns: ["a", "b"]))
    #expect(old.network.sizes == [2, 3, 1])
  }

  @Test func aBadEncoderInAModelFileIsAnError() throws {
    let encoder = TabularEncoder(columns: [
      FeatureColumn(name: "sex", encoding: .oneHot(categories: ["F", "M"]), allowsMissing: false)
    ])
    let model = TabularModel(
      network: Network<Float>(sizes: [2, 1], seed: 1), encoder: encoder, classNames: ["a", "b"])
    let text = String(decoding: try model.encoded(), as: UTF8.self)
    func decode(_ s: String) throws { _ = try TabularModel.decode(Data(s.utf8), path: "m.json") }
    #expect(
      throws: ModelFileError.malformed(path: "m.json", detail: "encoder column 1 (sex) has an unknown kind \"magic\"")
    ) {
      try decode(text.replacingOccurrences(of: "\"one-hot\"", with: "\"magic\""))
    }
    #expect(throws: ModelFileError.malformed(path: "m.json", detail: "the encoder makes 3 inputs for 2")) {
      try decode(text.replacingOccurrences(of: #"["F","M"]"#, with: #"["F","M","X"]"#))
    }
    #expect(
      throws: ModelFileError.malformed(
        path: "m.json", detail: "encoder column 1 (sex) needs a list of distinct categories")
    ) {
      try decode(text.replacingOccurrences(of: #"["F","M"]"#, with: #"["F","F"]"#))
    }
    #expect(
      throws: ModelFileError.malformed(
        path: "m.json", detail: "a threshold (1.5) must lie in (0, 1] and belongs to a binary model")
    ) {
      try decode(text.replacingOccurrences(of: #""sizes""#, with: #""threshold":1.5,"sizes""#))
    }
  }

  /// Many categories: the most frequent one-hot, the rest noted; identifiers found; streamed alike.
  @Test func manyCategoriesKeepTheMostFrequentAndIdentifiersAreFound() throws {
    // "state": a 5, b 3, c 2, d 1, e 1 in the training rows (0...11); row 12 is not training data.
    let state = ["a", "a", "b", "a", "c", "b", "a", "d", "e", "b", "a", "c", "z"]
    let id = (0..<13).map { "id\($0)" }
    let code = ["x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x"]
    let table = TextTable(columns: [state, id, code])
    let rows = Array(0..<12)
    let (encoder, x, notes) = try TabularEncoder.fitAndEncode(
      table, columns: [0, 1, 2], names: ["state", "id", "code"], trainingRows: rows, maxCategories: 3)
    #expect(encoder.columns[0].encoding == .oneHot(categories: ["a", "b", "c"]))
    // The encoder alone groups an identifier too (id0, id1, id10 kept: ties go by name); a fit leaves it out.
    #expect(
      notes.grouped == [
        TabularEncoder.GroupedCategories(column: 0, kept: 3, distinct: 5, rows: 2),
        TabularEncoder.GroupedCategories(column: 1, kept: 3, distinct: 12, rows: 9),
      ])
    #expect(encoder.columns[1].encoding == .oneHot(categories: ["id0", "id1", "id10"]))
    // d (row 7), e (row 8) and z (row 12, unseen in training) are the other
    // categories: no kept category, their own input after them (no note).
    #expect(encoder.columns[0].otherCategory && encoder.columns[1].otherCategory && !encoder.columns[2].otherCategory)
    #expect(encoder.columns[0].width == 4 && encoder.columns[0].featureNames.last == "state=(other)")
    #expect((0..<3).map { i in x[i, 7] + x[i, 8] + x[i, 12] } == [0, 0, 0])
    #expect([7, 8, 12].map { x[3, $0] } == [1, 1, 1])
    #expect((0..<13).filter { x[3, $0] == 1 } == [7, 8, 12] && (0..<4).map { x[$0, 0] } == [1, 0, 0, 0])
    #expect(notes.unseen.isEmpty)
    // id: 12 distinct values in 12 rows; state: 5 in 12 (not half); code: 2 (not more than 3).
    let found = TabularEncoder.identifierColumns(
      table, columns: [0, 1, 2], names: ["state", "id", "code"], trainingRows: rows, maxCategories: 3)
    #expect(found.map(\.column) == [1])
    #expect(found.first?.identifier == TabularEncoder.IdentifierColumn(name: "id", distinct: 12, values: 12))
    // A numeric column is never an identifier; nor is text at or under the limit.
    let numbers = TextTable(columns: [(0..<12).map { "\($0)" }])
    #expect(
      TabularEncoder.identifierColumns(numbers, columns: [0], names: ["n"], trainingRows: rows, maxCategories: 3)
        .isEmpty)
    // Streamed: the same categories kept; the identifier refused (its columns are fixed by then).
    var streamed = TabularEncoder.StreamingFit(columns: [0, 2], names: ["state", "code"], maxCategories: 3)
    let isTraining = (0..<13).map { $0 < 12 }
    for range in [0..<6, 6..<13] {
      let chunk = TextTable(columns: [Array(state[range]), Array(id[range]), Array(code[range])])
      try streamed.add(chunk, firstRow: range.lowerBound, isTraining: isTraining)
    }
    #expect(try streamed.finish().columns == [encoder.columns[0], encoder.columns[2]])
    var ids = TabularEncoder.StreamingFit(columns: [0], names: ["id"], maxCategories: 3)
    try ids.add(TextTable(columns: [id]), firstRow: 0, isTraining: isTraining)
    #expect(throws: TabularError.tooManyCategories(column: 0, count: 12, limit: 3)) { try ids.finish() }
  }
}
