import Foundation
import LinearAlgebra
import NeuralNetwork

#if canImport(Glibc)
  import Glibc
#endif

/// A model's answer for one example.
public struct TabularPrediction: Equatable, Sendable {
  /// The predicted class: for two classes, the positive one when its
  /// probability reaches the model's threshold; otherwise the most probable.
  public var classIndex: Int
  /// Its name, as the training labels had it.
  public var className: String
  /// The probability of each class, in the order of ``TabularModel/classNames``
  /// (for two classes, [1 − p, p] with p the network's output).
  public var probabilities: [Float]

  /// A regression model's prediction, in the label's units (nil for a classifier).
  public var value: Double?

  /// What the record needed besides plain encoding, in the order of the
  /// model's columns (a filled value, an unseen category, a number far
  /// outside the training data); empty for a clean record, and for
  /// predictions of inputs already encoded.
  public var notes: [PredictionNote]

  /// The probability of the predicted class (NaN for a regression).
  public var probability: Float { probabilities.isEmpty ? .nan : probabilities[classIndex] }

  public init(
    classIndex: Int, className: String, probabilities: [Float], value: Double? = nil, notes: [PredictionNote] = []
  ) {
    (self.classIndex, self.className, self.probabilities, self.value) = (classIndex, className, probabilities, value)
    self.notes = notes
  }
}

/// Something one record needed besides plain encoding: what `blasnet
/// predict` reports for a whole file (`filled …`, `category … was not seen
/// in training`, `… are extrapolations`), for the record it happened to.
public enum PredictionNote: Equatable, Sendable, CustomStringConvertible {
  /// A missing value, filled in as training said: a numeric column's
  /// training fill `value`; a text column's (nil) as its missing category,
  /// or as no category when training had no gaps there.
  case filled(column: String, value: Double?)
  /// A category training never saw, encoded as no category (all zeros;
  /// with ``TabularModel/UnseenCategories/encodeAsNone``).
  case unseenCategory(column: String, value: String)
  /// A number far outside the training data: more than 10 standard
  /// deviations from the training mean, or with a quantile map (the
  /// default scaling) more than 10 sixths of the training range outside
  /// it. The prediction is an extrapolation.
  case farFromTraining(column: String, value: Double)

  /// The column the note is about.
  public var column: String {
    switch self {
    case .filled(let c, _), .unseenCategory(let c, _), .farFromTraining(let c, _): return c
    }
  }

  public var description: String {
    switch self {
    case .filled(let c, let v?): return "\(quoted(c)): missing, filled with \(v)"
    case .filled(let c, nil): return "\(quoted(c)): missing, encoded as missing"
    case .unseenCategory(let c, let v):
      return "\(quoted(c)): category \(quoted(v)) was not seen in training; encoded as no category"
    case .farFromTraining(let c, let v):
      return "\(quoted(c)): \(v) is far outside the training data; the prediction is an extrapolation"
    }
  }
}

/// Why a raw record cannot be predicted: each case names the record (its
/// index in the batch, from 0), the column and the value.
public enum RecordError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The record has no field for a column the model reads.
  case missingColumn(record: Int, column: String)
  /// The record has a field the model does not know (neither an input, nor
  /// the label, nor a column left out in training).
  case unknownColumn(record: Int, column: String, expected: [String])
  /// A missing value (empty, or a missing marker) where training had none to fill in.
  case missingValue(record: Int, column: String, value: String)
  /// Text in a numeric column.
  case notANumber(record: Int, column: String, value: String)
  /// A number that is not finite in `Float`, or not once standardised.
  case notFinite(record: Int, column: String, value: String)
  /// A category that training never saw.
  case unseenCategory(record: Int, column: String, value: String, known: [String])
  /// The network's output is not finite (inputs far outside the training data).
  case outputNotFinite(record: Int)

  /// The record the error is about.
  public var record: Int {
    switch self {
    case .missingColumn(let r, _), .unknownColumn(let r, _, _), .missingValue(let r, _, _), .notANumber(let r, _, _),
      .notFinite(let r, _, _), .unseenCategory(let r, _, _, _), .outputNotFinite(let r):
      return r
    }
  }

  public var description: String {
    switch self {
    case .missingColumn(let r, let c): return "record \(r): no field \(quoted(c)), which the model reads"
    case .unknownColumn(let r, let c, let expected):
      return "record \(r): field \(quoted(c)) is not one of the model's columns \(list(expected))"
    case .missingValue(let r, let c, let v):
      return
        "record \(r), \(quoted(c)): a missing value (\(v.isEmpty ? "an empty field" : quoted(v))); the model was trained with missing values as errors, so it has none to fill in"
    case .notANumber(let r, let c, let v):
      return "record \(r), \(quoted(c)): expected a number, found \(quoted(v)) (the column was numeric in training)"
    case .notFinite(let r, let c, let v):
      return "record \(r), \(quoted(c)): \(quoted(v)) is not a finite number on the training scale"
    case .unseenCategory(let r, let c, let v, let known):
      return
        "record \(r), \(quoted(c)): category \(quoted(v)) was not seen in training; the categories are \(list(known))"
    case .outputNotFinite(let r):
      return "record \(r): the network's output is not finite (are the inputs on the training scale?)"
    }
  }
}

/// One field of a record given as a value (`TabularModel.predict(_:unseenCategories:)`
/// on `[[String: TabularValue]]`) rather than as the text a CSV file would
/// hold: a number is used as it is (not printed and parsed again), text is
/// read as a CSV field is (a category; or, in a numeric column, a number
/// written out, or a missing marker), and missing (or a NaN number) is
/// missing whatever the model's markers are.
///
/// Literals make records short: `["age": 61, "sex": "F", "bmi": nil]`.
public enum TabularValue: Equatable, Sendable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByStringLiteral, ExpressibleByNilLiteral
{
  case number(Double)
  case text(String)
  case missing

  public init(floatLiteral value: Double) { self = .number(value) }
  public init(integerLiteral value: Int) { self = .number(Double(value)) }
  public init(stringLiteral value: String) { self = .text(value) }
  public init(nilLiteral: ()) { self = .missing }

  /// The value as a CSV file would hold it (a number in Swift's shortest
  /// round-trip form; missing as an empty field), for messages.
  public var field: String {
    switch self {
    case .number(let v): return "\(v)"
    case .text(let t): return t
    case .missing: return ""
    }
  }
}

/// Records as a ``RawTable``: the fields of the model's raw columns, parsed
/// as a CSV file's fields are (`strtod`, surrounding blanks ignored).
struct RecordTable: RawTable {
  /// `columns[k][r]`: the field of record r for encoder column k.
  var columns: [[String]]
  var rowCount: Int

  func number(row: Int, column: Int) -> Double? { Self.number(columns[column][row]) }

  func text(row: Int, column: Int) -> String { columns[column][row] }

  /// A record's text field as a number, read as a CSV field is; nil when it is not one.
  static func number(_ text: String) -> Double? {
    var field = text
    let read = field.withUTF8 { u -> Double?? in
      // Spaces and tabs trimmed here; a field that starts or ends with
      // another byte that is not ASCII goes to Foundation's trimming (other
      // Unicode blanks).
      var (a, b) = (0, u.count)
      while a < b && (u[a] == 0x20 || u[a] == 0x09) { a += 1 }
      while b > a && (u[b - 1] == 0x20 || u[b - 1] == 0x09) { b -= 1 }
      if a == b { return .some(nil) }
      if u[a] >= 0x80 || u[b - 1] >= 0x80 { return nil }
      return .some(DecimalNumber.parse(UnsafeBufferPointer(rebasing: u[a..<b])))
    }
    if let read { return read }
    let trimmed = field.trimmingCharacters(in: .whitespaces)
    return trimmed.isEmpty ? nil : DecimalNumber.parse(trimmed[...])
  }
}

/// Records of ``TabularValue``s as a ``RawTable``.
struct ValueTable: RawTable {
  /// `columns[k][r]`: the value of record r for encoder column k.
  var columns: [[TabularValue]]
  var rowCount: Int

  func number(row: Int, column: Int) -> Double? {
    switch columns[column][row] {
    case .number(let v): return v
    case .text(let t): return RecordTable.number(t)
    case .missing: return nil
    }
  }

  func text(row: Int, column: Int) -> String { columns[column][row].field }

  func isMissing(row: Int, column: Int) -> Bool {
    switch columns[column][row] {
    case .missing: return true
    case .number(let v): return v.isNaN
    case .text: return false
    }
  }
}

extension TabularModel {
  /// The names of the classes in output order (`0`, `1`, … for a model file that names none).
  public var classes: [String] { ClassLabels(model: self).names }

  /// What to do with a category that training never saw.
  public enum UnseenCategories: Sendable {
    /// Throw ``RecordError/unseenCategory(record:column:value:known:)``.
    case error
    /// Encode it as no category (all zeros), as `blasnet predict` does with a warning.
    case encodeAsNone
  }

  /// Predicts each record: a dictionary from column name to the field as it
  /// would stand in a CSV file (`"17.9"`, `"F"`, `""` or `"NA"` for missing).
  ///
  /// Every column the model reads must be there; the label column and the
  /// columns left out in training may be and are skipped; any other key is
  /// an error (a misspelt column name would otherwise go unnoticed).
  /// Missing values are filled as in training where training allowed them.
  /// Safe to call from many tasks at once on one model (a model is a value).
  /// A batch of 2,048 records or more is split over the cores (a record's
  /// prediction is the same in any batch).
  ///
  /// - Throws: ``RecordError`` for the first record that cannot be
  ///   predicted, naming the record, the column and the value.
  public func predict(_ records: [[String: String]], unseenCategories: UnseenCategories = .error) throws(RecordError)
    -> [TabularPrediction]
  {
    try inParts(records) { (part) throws(RecordError) in
      try predict(inputsAndNotes(for: part, unseenCategories: unseenCategories))
    }
  }

  /// The records a part of ``recordsPerPart`` or more.
  static let recordsPerPart = 1024

  /// `predict(records)` on parts of `records` on every core, when there are
  /// at least two parts of ``recordsPerPart`` records: the same predictions
  /// (a record's do not depend on its batch). After an error in any part,
  /// the whole batch again in one call, so the error is the one it gives.
  func inParts<Field>(
    _ records: [[String: Field]], _ predict: ([[String: Field]]) throws(RecordError) -> [TabularPrediction]
  ) throws(RecordError) -> [TabularPrediction] {
    if records.isEmpty { return [] }
    if records.count < 2 * Self.recordsPerPart { return try predict(records) }
    let parts = Swift.min(activeCores, records.count / Self.recordsPerPart)
    if parts < 2 { return try predict(records) }
    let results = Parallel.results(parts, inParallel: true) { (k) throws(RecordError) in
      try predict(Array(records[k * records.count / parts..<(k + 1) * records.count / parts]))
    }
    var predictions: [TabularPrediction] = []
    predictions.reserveCapacity(records.count)
    for result in results {
      guard case .success(let part) = result else { return try predict(records) }
      predictions += part
    }
    return predictions
  }

  /// Predicts each record of typed values: as the same records as text would be,
  /// with numbers as numbers (`["age": 61, "sex": "F", "bmi": nil]`), so
  /// nothing is printed to be parsed again. The same records as text
  /// predict the same, bit for bit.
  public func predict(_ records: [[String: TabularValue]], unseenCategories: UnseenCategories = .error)
    throws(RecordError) -> [TabularPrediction]
  {
    try inParts(records) { (part) throws(RecordError) in
      try predict(inputsAndNotes(for: part, unseenCategories: unseenCategories))
    }
  }

  /// The predictions of ``inputsAndNotes(for:unseenCategories:)-([[String:String]],_)``'s
  /// result, each with its record's notes.
  public func predict(_ encoded: (inputs: Matrix<Float>, notes: [[PredictionNote]])) throws(RecordError)
    -> [TabularPrediction]
  {
    var predictions = try predict(inputs: encoded.inputs)
    for (k, notes) in encoded.notes.enumerated() where !notes.isEmpty { predictions[k].notes = notes }
    return predictions
  }

  /// The network's inputs for records of typed values, as for the same records as text.
  public func inputs(for records: [[String: TabularValue]], unseenCategories: UnseenCategories = .error)
    throws(RecordError) -> Matrix<Float>
  {
    try inputsAndNotes(for: records, unseenCategories: unseenCategories).inputs
  }

  /// ``inputs(for:unseenCategories:)-([[String:TabularValue]],_)`` and each record's notes.
  public func inputsAndNotes(for records: [[String: TabularValue]], unseenCategories: UnseenCategories = .error)
    throws(RecordError) -> (inputs: Matrix<Float>, notes: [[PredictionNote]])
  {
    try inputs(
      records, unseenCategories: unseenCategories, field: \.field,
      table: { ValueTable(columns: $0, rowCount: records.count) })
  }

  /// The network's inputs for `records` (n_x × records, encoded and
  /// standardised), checked as `predict(_:unseenCategories:)` checks them:
  /// the first half of a prediction, for a service that checks each request
  /// on its own and predicts many requests in one pass
  /// (``predict(inputs:)``, on the inputs' columns side by side).
  public func inputs(for records: [[String: String]], unseenCategories: UnseenCategories = .error)
    throws(RecordError) -> Matrix<Float>
  {
    try inputsAndNotes(for: records, unseenCategories: unseenCategories).inputs
  }

  /// ``inputs(for:unseenCategories:)-([[String:String]],_)`` and each
  /// record's notes (``TabularPrediction/notes``), for a service that
  /// predicts the inputs of many requests in one pass and answers each with
  /// its records' notes.
  public func inputsAndNotes(for records: [[String: String]], unseenCategories: UnseenCategories = .error)
    throws(RecordError) -> (inputs: Matrix<Float>, notes: [[PredictionNote]])
  {
    try inputs(
      records, unseenCategories: unseenCategories, field: { $0 },
      table: { RecordTable(columns: $0, rowCount: records.count) })
  }

  /// The inputs of `records` whose fields are `Field`s and their notes:
  /// gathered into the model's columns, read through `table` (the columns
  /// as a ``RawTable``), each field shown in messages as `field` gives it.
  func inputs<Field, Table: RawTable>(
    _ records: [[String: Field]], unseenCategories: UnseenCategories, field shown: (Field) -> String,
    table makeTable: ([[Field]]) -> Table
  ) throws(RecordError) -> (inputs: Matrix<Float>, notes: [[PredictionNote]]) {
    let encoder = inputEncoder
    let names = encoder.columns.map(\.name)
    // The label and the columns left out in training (a few names: no Set is built a call).
    var skipped: [String] = []
    for name in encoder.ignoredColumns + (labelName.map { [$0] } ?? []) where !names.contains(name) {
      if !skipped.contains(name) { skipped.append(name) }
    }
    var columns = [[Field]](repeating: [], count: names.count)
    for k in columns.indices { columns[k].reserveCapacity(records.count) }
    for (r, record) in records.enumerated() {
      for (k, name) in names.enumerated() {
        guard let field = record[name] else { throw .missingColumn(record: r, column: name) }
        columns[k].append(field)
      }
      // Every name was found: a record with no more keys than those and the
      // skipped ones it holds has no unknown key, and needs no sorting.
      if record.count > names.count && record.count > names.count + skipped.count(where: { record[$0] != nil }),
        let extra = record.keys.sorted().first(where: { !names.contains($0) && !skipped.contains($0) })
      {
        throw .unknownColumn(record: r, column: extra, expected: names)
      }
    }
    let table = makeTable(columns)
    let encoded: (x: Matrix<Float>, notes: TabularEncoder.Notes)
    do {
      encoded = try encoder.encode(table, columns: Array(names.indices))
    } catch {
      switch error {
      case .missingValue(let r, let c, let v): throw .missingValue(record: r, column: names[c], value: v)
      case .notANumber(let r, let c, let v): throw .notANumber(record: r, column: names[c], value: v)
      case .notFinite(let r, let c, let v): throw .notFinite(record: r, column: names[c], value: v)
      case .tooManyCategories, .noTrainingValues: fatalError("TabularEncoder.encode does not fit: \(error)")
      }
    }
    if unseenCategories == .error, let u = encoded.notes.unseen.min(by: { $0.firstRow < $1.firstRow }) {
      guard case .oneHot(let categories) = encoder.columns[u.column].encoding else { fatalError("unseen numbers") }
      throw .unseenCategory(record: u.firstRow, column: names[u.column], value: u.firstValue, known: categories)
    }
    var x = encoded.x
    if let standardizer {
      do {
        x = try standardizer.checkedTransform(x)
      } catch {
        let k = encoder.sourceColumns[error.feature]
        throw .notFinite(record: error.example, column: names[k], value: shown(columns[k][error.example]))
      }
    }
    // The notes with their records and columns, then each record's in the columns' order.
    var found: [(record: Int, column: Int, note: PredictionNote)] = []
    if !encoded.notes.filled.isEmpty || !encoded.notes.unseen.isEmpty {
      found = encoder.rowNotes(table, encoded.notes, names: names)
    }
    if let standardizer {
      for far in standardizer.outliers(in: x, raw: encoded.x, beyond: Dataset.outlierDeviations) {
        let k = encoder.sourceColumns[far.feature]
        let value = Double(encoded.x[far.feature, far.example])
        found.append((far.example, k, .farFromTraining(column: names[k], value: value)))
      }
    }
    var notes = [[PredictionNote]](repeating: [], count: records.count)
    for f in found.sorted(by: { ($0.record, $0.column) < ($1.record, $1.column) }) { notes[f.record].append(f.note) }
    return (x, notes)
  }

  /// The predictions for inputs made by ``inputs(for:unseenCategories:)-([[String:String]],_)``
  /// (n_x × m): one blocked pass through the network.
  ///
  /// - Throws: ``RecordError/outputNotFinite(record:)`` for the first
  ///   example whose output is not finite.
  public func predict(inputs x: Matrix<Float>) throws(RecordError) -> [TabularPrediction] {
    if x.rows != inputWidth {
      shapeFailure(
        "TabularModel.predict(inputs:): x must be n_x×m = \(inputWidth)×m (examples as columns); x is \(x.rows)×\(x.columns)"
      )
    }
    if x.columns == 0 { return [] }
    let p = probabilities(standardizedInputs: x)
    if let k = p.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
      throw .outputNotFinite(record: k / p.rows)
    }
    return predictions(fromOutputs: p)
  }

  /// ``predict(_:unseenCategories:)-([[String:String]],_)`` for one record.
  public func predict(_ record: [String: String], unseenCategories: UnseenCategories = .error) throws(RecordError)
    -> TabularPrediction
  {
    try predict([record], unseenCategories: unseenCategories)[0]
  }

  /// Predicts one record of typed values.
  public func predict(_ record: [String: TabularValue], unseenCategories: UnseenCategories = .error)
    throws(RecordError) -> TabularPrediction
  {
    try predict([record], unseenCategories: unseenCategories)[0]
  }

  /// Predicts the examples of `x`, the encoded inputs (n_x × m, examples as
  /// columns, in the order of ``featureNames``, not yet standardised: the
  /// model standardises them). Traps unless `x` has the network's n_x rows.
  public func predict(encoded x: Matrix<Float>) -> [TabularPrediction] {
    if x.rows != inputWidth {
      shapeFailure(
        "TabularModel.predict(encoded:): x must be n_x×m = \(inputWidth)×m (examples as columns); x is \(x.rows)×\(x.columns)"
          + (x.columns == inputWidth ? " — it looks transposed" : ""))
    }
    if x.columns == 0 { return [] }
    return predictions(fromOutputs: probabilities(standardizedInputs: standardizer?.transform(x) ?? x))
  }

  /// The class and probabilities of each column of the network's outputs.
  func predictions(fromOutputs p: Matrix<Float>) -> [TabularPrediction] {
    if let problem = Self.outputProblem(network, regression: isRegression) {
      shapeFailure("TabularModel.predict: \(problem)")
    }
    if let target {
      return (0..<p.columns).map { j in
        let v = target.value(p[0, j])
        return TabularPrediction(classIndex: 0, className: "\(v)", probabilities: [], value: v)
      }
    }
    let names = classes
    if p.rows == 1 {
      let threshold = Float(decisionThreshold)
      return (0..<p.columns).map { j in
        let positive = p[0, j]
        let k = positive >= threshold ? 1 : 0
        return TabularPrediction(classIndex: k, className: names[k], probabilities: [1 - positive, positive])
      }
    }
    let best = p.argmaxOfEachColumn()
    return (0..<p.columns).map { j in
      TabularPrediction(
        classIndex: best[j], className: names[best[j]], probabilities: (0..<p.rows).map { p[$0, j] })
    }
  }
}

/// The predictions of a model for the rows of a CSV file.
public struct TablePredictions: Sendable {
  /// One prediction per row, in file order.
  public var predictions: [TabularPrediction]
  /// The columns asked to be kept (an id, say): their names and, per column, the field of each row.
  public var keptColumns: [(name: String, fields: [String])]
  /// What a user should know about the data, in the order it was found.
  public var notes: [DataNote]
}

/// A line about the data read for a model.
public struct DataNote: Equatable, Sendable {
  /// A warning (a category never seen in training, encoded as no category;
  /// inputs far outside the training data), or information (missing values filled).
  public var isWarning: Bool
  public var text: String

  public init(isWarning: Bool, text: String) {
    self.isWarning = isWarning
    self.text = text
  }
}

/// The metrics of a model on a labelled CSV file.
public struct TableEvaluation: Sendable {
  public var metrics: TabularModel.SplitMetrics
  /// As in ``TablePredictions``.
  public var notes: [DataNote]
}

extension TabularModel {
  /// Predicts every row of the CSV file at `path`, whose columns are matched
  /// to the model's by name (in any order; the label column and the columns
  /// left out in training may be there and are skipped; any other extra or
  /// missing column is an error that lists them). Fields are encoded as in
  /// training; a category never seen there encodes as no category, with a
  /// warning.
  ///
  /// - Throws: ``TableError`` naming the file, line and column of the first
  ///   field that cannot be read or encoded.
  public func predict(csvFile path: String, keep: [String] = []) throws(TableError) -> TablePredictions {
    let data = try Dataset.forModel(path: path, model: self, requireLabel: false, keep: keep)
    let p = try data.predictions(of: self)
    return TablePredictions(
      predictions: predictions(fromOutputs: p), keptColumns: data.kept,
      notes: data.notesAfterPredicting(self))
  }

  /// The metrics of the model on the labelled CSV file at `path` (read as
  /// ``predict(csvFile:keep:)`` reads it, with the label column required, a
  /// chunk at a time: only the outputs and the labels' classes are kept),
  /// named by the file's name, with 95 % intervals from `bootstrap`
  /// resamples seeded by `seed` (0: none).
  public func evaluate(csvFile path: String, bootstrap: Int = 0, seed: UInt64 = 0) throws(TableError)
    -> TableEvaluation
  {
    let evaluation = Evaluation(model: self)
    var outputs: [Float] = []
    var classes: [Int] = []
    var values: [Double] = []
    let notes = try streamChunks(path, requireLabel: true, keep: [], chunkBytes: 8 << 20) {
      (_, data, p, _) throws(TableError) in
      outputs += p.elements
      if isRegression {
        // Parsed once: targetValues() is the regression's label check.
        values += try data.targetValues()
      } else {
        try evaluation.checkLabels(data)
        classes += evaluation.classes.indices(data.labels!)
      }
    }
    if let target {
      let metrics = SplitMetrics(
        name: URL(fileURLWithPath: path).lastPathComponent, predicted: outputs.map(target.value), actual: values,
        bootstrap: bootstrap, seed: seed)
      return TableEvaluation(metrics: metrics, notes: notes)
    }
    // Every chunk added n_L outputs and one class per row.
    let p = try! Matrix<Float>(rows: network.outputSize, columns: classes.count, columnMajor: outputs)
    let metrics = SplitMetrics(
      name: URL(fileURLWithPath: path).lastPathComponent, outputs: p, classes: classes,
      threshold: evaluation.threshold, bootstrap: bootstrap, seed: seed)
    return TableEvaluation(metrics: metrics, notes: notes)
  }
}

/// The predictions of one chunk of a CSV file read in a stream.
public struct PredictionChunk: Sendable {
  /// The file line of each row.
  public var lines: [Int]
  /// One prediction per row, in file order.
  public var predictions: [TabularPrediction]
  /// The model's outputs for these rows (n_L × rows; a regression's values
  /// in the label's units, 1 × rows): what `--format npy` writes.
  public var outputs: Matrix<Float>
  /// The columns asked to be kept: their names and these rows' fields.
  public var keptColumns: [(name: String, fields: [String])]
  /// The share of the file's bytes read so far (for a progress bar).
  public var fractionRead: Double
}

extension TabularModel {
  /// Predicts every row of the CSV file at `path`, of any size, about
  /// `chunkBytes` at a time (in smaller chunks encoded and predicted on
  /// every core while `body` takes the ones before): each chunk's
  /// predictions go to `body` in file order, so memory does not grow with
  /// the file. Columns are
  /// matched and fields encoded as ``predict(csvFile:keep:)`` does; the
  /// notes (unseen categories, fills, inputs far outside the training
  /// data) come back at the end, summed over the chunks.
  ///
  /// - Throws: ``TableError`` naming the file, line and column of the first
  ///   field that cannot be read; the rows before it have all gone to `body`
  ///   first (a bad row in the middle of a chunk does not lose its chunk's
  ///   earlier rows), and ``TableError/line`` says where it stopped. An
  ///   error that `body` throws stops the reading and is rethrown.
  public func predict(
    csvFile path: String, keep: [String] = [], chunkBytes: Int = 8 << 20,
    each body: (PredictionChunk) throws(TableError) -> Void
  ) throws(TableError) -> [DataNote] {
    try streamChunks(path, requireLabel: false, keep: keep, chunkBytes: chunkBytes) {
      (chunk, data, outputs, fraction) throws(TableError) in
      let predictions = predictions(fromOutputs: outputs)
      try body(
        PredictionChunk(
          lines: chunk.records.map(\.line), predictions: predictions,
          outputs: isRegression ? Matrix(row: predictions.map { Float($0.value!) }) : outputs,
          keptColumns: data.kept, fractionRead: fraction))
    }
  }

  /// The loop of a file read for the model a chunk at a time: each chunk
  /// encoded (`requireLabel`: its labels read too) and predicted, then
  /// handed to `body` with its outputs; a bad row hands on its chunk's rows
  /// before it first. Returns the notes, summed over the chunks.
  ///
  /// A pipeline over the cores: this thread reads a batch of chunks (as
  /// many as there are cores, each `chunkBytes` over the cores, at least
  /// 1 MiB or `chunkBytes`) and hands the batch before it to `body`, in file
  /// order, while other threads encode and predict the batch's chunks (with
  /// OpenBLAS on one thread). At most two batches are held at a time. The
  /// first error in file order is the one thrown, after every row before it.
  func streamChunks(
    _ path: String, requireLabel: Bool, keep: [String], chunkBytes: Int,
    _ body: (CSVFile, Dataset, Matrix<Float>, Double) throws(TableError) -> Void
  ) throws(TableError) -> [DataNote] {
    let cores = Swift.max(1, Swift.min(activeCores, 16))
    var reader = try CSVChunkReader(
      path: path, chunkBytes: Swift.max(chunkBytes / cores, Swift.min(chunkBytes, 1 << 20)))
    defer { reader.close() }
    var columns: ModelColumns?
    var notes = PredictionNotes()
    var far: (text: String, count: Int)?
    var handed = 0  // chunks handed to `body`
    var rows = 0
    let model = self
    let work = { (chunk: CSVFile, columns: ModelColumns) throws(TableError) -> EncodedChunk in
      let (data, found) = try Dataset.forModel(chunk, columns: columns, model: model)
      let scaled = try data.inputs(for: model)
      let outputs = try Dataset.checkedOutputs(model, scaled, data, 0)
      return EncodedChunk(data: data, found: found, outputs: outputs, far: data.farValues(for: model, scaled: scaled))
    }
    func hand(_ done: EncodedChunk, _ chunk: CSVFile, _ fraction: Double) throws(TableError) {
      if let warning = done.far { far = far.map { ($0.text, $0.count + warning.count) } ?? warning }
      notes.add(done.found)
      try body(chunk, done.data, done.outputs, fraction)
    }
    /// Waits for `batch`'s chunks and hands them to `body` in order.
    func finish(_ batch: ChunkBatch) throws(TableError) {
      batch.group.wait()
      for (k, (chunk, fraction)) in batch.chunks.enumerated() {
        do throws(TableError) {
          try hand(try batch.result(k), chunk, fraction)
          handed += 1
        } catch {
          // The rows before the bad one, then the error.
          guard let line = error.line, let r = chunk.records.firstIndex(where: { $0.line == line }), r > 0 else {
            throw error
          }
          let end = chunk.fields[chunk.records[r].firstField].start
          let before = try CSVFile(
            path: path, bytes: Array(chunk.bytes[..<end]),
            continuing: handed == 0 ? nil : .init(header: chunk.header, line: chunk.records[0].line))
          if before.records.count == r { try hand(try work(before, columns!), before, fraction) }
          throw error
        }
      }
    }
    try BLAS.singleThreaded { () throws(TableError) in
      var inFlight: ChunkBatch?
      // On an error, the threads still at work finish before the reader closes.
      defer { inFlight?.group.wait() }
      var readError: TableError?
      while readError == nil {
        var chunks: [(chunk: CSVFile, fraction: Double)] = []
        do throws(TableError) {
          while chunks.count < cores, let chunk = try reader.next() {
            rows += chunk.records.count
            if columns == nil {
              // (A small chunk may hold the header alone: rows are counted at the end.)
              try Dataset.checkHeader(chunk, requireRows: false)
              columns = try ModelColumns(chunk, model: self, requireLabel: requireLabel, keep: keep)
            }
            chunks.append((chunk, reader.fractionRead))
          }
        } catch {
          // The chunks read before the bad one go to `body` first.
          readError = error
        }
        let next = chunks.isEmpty ? nil : ChunkBatch(chunks, columns: columns!, work: work)
        if let batch = inFlight { try finish(batch) }
        inFlight = next
        if next == nil { break }
      }
      if let batch = inFlight {
        inFlight = nil
        try finish(batch)
      }
      if let readError { throw readError }
    }
    if rows == 0 { throw TableError("\(path): the file has a header but no data rows") }
    var result = notes.dataNotes(columns!, model: self)
    if let far { result.append(DataNote(isWarning: true, text: Dataset.farWarning(far.text, count: far.count))) }
    return result
  }
}

/// A chunk encoded and predicted: what `body` and the notes of
/// `TabularModel.streamChunks` need.
struct EncodedChunk {
  var data: Dataset
  var found: PredictionNotes
  var outputs: Matrix<Float>
  var far: (text: String, count: Int)?
}

/// Chunks of a file being encoded and predicted on the global queue, one
/// task each; ``group`` is done when all are.
final class ChunkBatch: @unchecked Sendable {
  let chunks: [(chunk: CSVFile, fraction: Double)]
  let columns: ModelColumns
  let work: (CSVFile, ModelColumns) throws(TableError) -> EncodedChunk
  let group = DispatchGroup()
  // Each task writes its own result, under the lock; read after `group` is done.
  private let lock = NSLock()
  private var results: [Result<EncodedChunk, TableError>?]

  init(
    _ chunks: [(chunk: CSVFile, fraction: Double)], columns: ModelColumns,
    work: @escaping (CSVFile, ModelColumns) throws(TableError) -> EncodedChunk
  ) {
    (self.chunks, self.columns, self.work) = (chunks, columns, work)
    results = Array(repeating: nil, count: chunks.count)
    for k in chunks.indices {
      DispatchQueue.global().async(group: group) { [self] in
        let result = Result { () throws(TableError) in try self.work(self.chunks[k].chunk, self.columns) }
        lock.withLock { results[k] = result }
      }
    }
  }

  /// Chunk `k`'s encoding and outputs, or its error (once ``group`` is done).
  func result(_ k: Int) throws(TableError) -> EncodedChunk {
    try lock.withLock { results[k]! }.get()
  }
}
