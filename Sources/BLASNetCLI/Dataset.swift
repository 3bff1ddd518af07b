import LinearAlgebra
import NeuralNetwork

/// A numeric CSV table split into features (n_x × m, examples as columns) and
/// an optional label column.
struct Dataset {
  var file: String
  var featureNames: [String]
  var labelName: String?
  /// n_x × m.
  var x: Matrix<Float>
  /// One label per example, when the table has the label column.
  var labels: [Double]?
  /// The file line of each example, for messages.
  var lines: [Int]
  /// The file column (1-based) of each feature, for messages.
  var columns: [Int]

  var count: Int { x.columns }

  /// Reads a table for training: every column is a number; the label is the
  /// column named `label`, or the last one when `label` is nil.
  static func forTraining(path: String, label: String?) throws(CLIError) -> Dataset {
    let csv = try CSVFile(path: path)
    try checkHeader(csv)
    let labelIndex: Int
    if let label {
      guard let k = csv.header.firstIndex(of: label) else {
        throw CLIError("\(path): label column \"\(label)\" does not exist; the columns are \(list(csv.header))")
      }
      labelIndex = k
    } else {
      labelIndex = csv.header.count - 1
    }
    if csv.header.count < 2 {
      throw CLIError(
        "\(path): needs at least one feature column and a label column; the header has \(list(csv.header))")
    }
    let featureColumns = csv.header.indices.filter { $0 != labelIndex }
    return try read(csv, featureColumns: featureColumns, labelColumn: labelIndex)
  }

  /// Reads a table for a trained model: its columns are matched to the
  /// model's feature names by name (any order); the label column may be
  /// absent unless `requireLabel`, and is only read when it is required. Extra or missing columns are an error that
  /// lists them.
  static func forModel(path: String, model: SavedModel, requireLabel: Bool) throws(CLIError) -> Dataset {
    let csv = try CSVFile(path: path)
    try checkHeader(csv)
    let expected = model.featureNames ?? (1...model.network.inputSize).map { "x\($0)" }
    let labelName = model.labelName
    let labelIndex = labelName.flatMap { csv.header.firstIndex(of: $0) }
    if requireLabel && labelIndex == nil {
      throw CLIError(
        "\(path): the label column \(quoted(labelName ?? "?")) the model was trained on is missing; the columns are \(list(csv.header))"
      )
    }
    let present = Set(csv.header)
    let missing = expected.filter { !present.contains($0) }
    let known = Set(expected + (labelName.map { [$0] } ?? []))
    let extra = csv.header.filter { !known.contains($0) }
    if !missing.isEmpty || !extra.isEmpty {
      var parts: [String] = []
      if !missing.isEmpty { parts.append("missing \(list(missing))") }
      if !extra.isEmpty { parts.append("unexpected \(list(extra))") }
      throw CLIError(
        "\(path): the columns do not match the model's \(expected.count) features: " + parts.joined(separator: "; "))
    }
    // One hash lookup per feature: matching 10⁶ columns stays linear.
    let position = Dictionary(csv.header.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    let featureColumns = expected.map { position[$0]! }
    // Without `requireLabel` (predict) a label column that is there is skipped, not read.
    return try read(csv, featureColumns: featureColumns, labelColumn: requireLabel ? labelIndex : nil)
  }

  static func checkHeader(_ csv: CSVFile) throws(CLIError) {
    var seen: [String: Int] = [:]
    for (k, name) in csv.header.enumerated() {
      if name.isEmpty { throw CLIError.at(csv.path, line: 1, column: k + 1, "the header has an empty column name") }
      if let first = seen[name] {
        throw CLIError.at(
          csv.path, line: 1, column: k + 1, "column name \(quoted(name)) appears twice (also column \(first + 1))")
      }
      seen[name] = k
    }
    if csv.records.isEmpty { throw CLIError("\(csv.path): the file has a header but no data rows") }
  }

  static func read(_ csv: CSVFile, featureColumns: [Int], labelColumn: Int?) throws(CLIError) -> Dataset {
    let m = csv.records.count
    let width = csv.header.count
    var values = [Float](repeating: 0, count: featureColumns.count * m)
    var labels: [Double]? = labelColumn == nil ? nil : []
    labels?.reserveCapacity(m)
    for r in 0..<m {
      let record = csv.records[r]
      if record.count != width {
        throw CLIError.at(
          csv.path, line: record.line, "this row has \(record.count) fields, expected \(width) (as the header has)")
      }
      for (i, k) in featureColumns.enumerated() {
        values[r * featureColumns.count + i] = Float(try number(csv, r, k, what: "a number"))
      }
      if let labelColumn { labels!.append(try number(csv, r, labelColumn, what: "a numeric label")) }
    }
    let x = try! Matrix<Float>(rows: featureColumns.count, columns: m, columnMajor: values)
    return Dataset(
      file: csv.path, featureNames: featureColumns.map { csv.header[$0] },
      labelName: labelColumn.map { csv.header[$0] }, x: x, labels: labels, lines: csv.records.map(\.line),
      columns: featureColumns.map { $0 + 1 })
  }

  static func number(_ csv: CSVFile, _ r: Int, _ k: Int, what: String) throws(CLIError) -> Double {
    let line = csv.records[r].line
    guard let v = csv.number(record: r, field: k) else {
      let found = csv.text(record: r, field: k)
      throw CLIError.at(
        csv.path, line: line, column: k + 1, name: csv.header[k],
        found.isEmpty ? "expected \(what), found an empty field" : "expected \(what), found \(quoted(found))")
    }
    guard v.isFinite, Float(v).isFinite else {
      throw CLIError.at(
        csv.path, line: line, column: k + 1, name: csv.header[k],
        "expected a finite \(what.replacingOccurrences(of: "a ", with: "")), found \(quoted(csv.text(record: r, field: k)))"
      )
    }
    return v
  }

  /// The features as the model's network takes them: standardised with the
  /// model's statistics. A value that is finite in the file but not once
  /// standardised (1e38 in a column of small spread) is an error naming its
  /// line and column; values more than 10 standard deviations from the
  /// training mean get one warning line on standard error.
  func inputs(for model: SavedModel, warnFarValues: Bool = true) throws(CLIError) -> Matrix<Float> {
    guard let scaler = model.standardizer else { return x }
    let scaled: Matrix<Float>
    do {
      scaled = try scaler.checkedTransform(x)
    } catch {
      let i = error.feature
      throw CLIError.at(
        file, line: lines[error.example], column: columns[i], name: featureNames[i],
        "\(Float(error.value)) is \(Float(error.standardized)) once standardised with the training mean \(format(scaler.means[i], 4)) and standard deviation \(format(scaler.standardDeviations[i], 4)): the network cannot take it"
      )
    }
    let far = warnFarValues ? scaler.outliers(in: scaled, beyond: Dataset.outlierDeviations) : []
    if let first = far.first {
      let i = first.feature
      let more = far.count > 1 ? " (and \(far.count - 1) more values)" : ""
      let place = "\(file):\(lines[first.example]): column \(columns[i]) (\(featureNames[i]))"
      warn(
        "\(place): \(x[i, first.example]) lies \(format(Swift.abs(Double(scaled[i, first.example])), 1)) standard deviations from the training mean\(more); predictions this far outside the training data are extrapolations"
      )
    }
    return scaled
  }

  /// The model's output for every example (a column each): a non-finite
  /// output is an error naming the example's line, never a printed NaN.
  func predictions(of model: SavedModel, warnFarValues: Bool = true) throws(CLIError) -> Matrix<Float> {
    let p = model.network.predict(try inputs(for: model, warnFarValues: warnFarValues))
    let bad = p.withUnsafeBufferPointer { b in b.firstIndex { !$0.isFinite } }
    if let k = bad {
      throw CLIError.at(
        file, line: lines[k / p.rows],
        "the network's output for this row is \(p[k % p.rows, k / p.rows]), not a probability (an overflow inside the network: are the inputs on the training scale?)"
      )
    }
    return p
  }

  /// Standard deviations from the training mean past which an input is
  /// reported as far outside the training data.
  static let outlierDeviations = 10.0

  /// The columns `indices` of this data set.
  func subset(_ indices: [Int]) -> Dataset {
    Dataset(
      file: file, featureNames: featureNames, labelName: labelName, x: DataSplit.columns(x, indices),
      labels: labels.map { l in indices.map { l[$0] } }, lines: indices.map { lines[$0] }, columns: columns)
  }
}

/// `"a", "b", "c"` (at most 12 names, then how many more).
func list(_ names: [String]) -> String {
  let shown = names.prefix(12).map { quoted($0) }.joined(separator: ", ")
  return names.count > 12 ? shown + " and \(names.count - 12) more" : shown
}
