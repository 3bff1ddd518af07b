import Foundation
import LinearAlgebra
import NeuralNetwork

/// A CSV file's rows as the raw table that the encoder reads.
extension CSVFile: RawTable {
  package var rowCount: Int { records.count }
  package func number(row: Int, column: Int) -> Double? { number(record: row, field: column) }
  package func text(row: Int, column: Int) -> String { text(record: row, field: column) }
}

/// A CSV table as the network sees it: the encoded inputs (n_x × m,
/// examples as columns, not yet standardised) and the label column's text.
package struct Dataset {
  package var file: String
  /// The network's inputs (`age`, `sex=F`, `sex=M`, …).
  package var featureNames: [String]
  package var labelName: String?
  /// n_x × m, encoded (missing values filled, text one-hot), unscaled.
  package var x: Matrix<Float>
  /// The label of each example as it stands in the file, when the table has
  /// the label column (in memory; ``labels`` also for mapped rows).
  package var textLabels: [String]?
  /// The file line of each example, for messages (in memory; ``line(_:)`` also for mapped rows).
  package var lines: [Int]
  /// The file column (1-based) of each input, for messages.
  package var columns: [Int]
  /// Lines about the data for its user (an unseen category, say), and notes
  /// (missing values filled), made while reading it.
  package var notes: [DataNote] = []
  /// Columns copied through as text (`predict --keep`): their names and, per column, a field per row.
  package var kept: [(name: String, fields: [String])] = []
  /// For data larger than memory: the examples are columns `rows` of a
  /// mapped `.npy` file (encoded, unscaled), and `x` is empty.
  package var mapped: MappedRows?

  /// Rows `rows` of a mapped table, with the whole table's labels and lines.
  package struct MappedRows {
    package var examples: NPYExamples<Float>
    /// The table's rows in this data set (nil: all of them, in order).
    package var rows: [Int]?
    package var labels: LabelColumn
    package var lines: [Int32]
    package var count: Int { rows?.count ?? labels.count }
    package func row(_ k: Int) -> Int { rows?[k] ?? k }
    package init(examples: NPYExamples<Float>, rows: [Int]?, labels: LabelColumn, lines: [Int32]) {
      (self.examples, self.rows, self.labels, self.lines) = (examples, rows, labels, lines)
    }
    package var source: ExampleSubset<NPYExamples<Float>> { ExampleSubset(examples, indices: rows ?? Array(0..<count)) }
  }

  package init(
    file: String, featureNames: [String], labelName: String?, x: Matrix<Float>, textLabels: [String]?, lines: [Int],
    columns: [Int], kept: [(name: String, fields: [String])] = [], mapped: MappedRows? = nil
  ) {
    (self.file, self.featureNames, self.labelName, self.x, self.textLabels) = (
      file, featureNames, labelName, x, textLabels
    )
    (self.lines, self.columns, self.kept, self.mapped) = (lines, columns, kept, mapped)
  }

  package var count: Int { mapped?.count ?? x.columns }

  /// The label of each example (made from the codes for mapped rows).
  package var labels: [String]? {
    guard let mapped else { return textLabels }
    return (0..<mapped.count).map { mapped.labels[mapped.row($0)] }
  }

  /// A regression's label values, parsed from the label column (an error
  /// names the line of the first that is not a finite number).
  package func targetValues() throws(TableError) -> [Double] {
    guard let labels else { return [] }
    var values: [Double] = []
    values.reserveCapacity(labels.count)
    for (k, text) in labels.enumerated() {
      guard let v = Double(text), v.isFinite else {
        throw TableError.at(
          file, line: line(k), name: labelName,
          "the label \(quoted(text)) is not a number; a regression needs a number in every row")
      }
      values.append(v)
    }
    return values
  }

  /// The file line of example k.
  package func line(_ k: Int) -> Int {
    guard let mapped else { return lines[k] }
    return Int(mapped.lines[mapped.row(k)])
  }

  /// The columns `indices` of this data set.
  package func subset(_ indices: [Int]) -> Dataset {
    guard var mapped else {
      return Dataset(
        file: file, featureNames: featureNames, labelName: labelName, x: DataSplit.columns(x, indices),
        textLabels: textLabels.map { l in indices.map { l[$0] } }, lines: indices.map { lines[$0] }, columns: columns)
    }
    mapped.rows = mapped.rows.map { rows in indices.map { rows[$0] } } ?? indices
    return Dataset(
      file: file, featureNames: featureNames, labelName: labelName, x: .zeros(0, 0), textLabels: nil, lines: [],
      columns: columns, mapped: mapped)
  }

  /// Examples a chunk at a time: at most `size` columns of x (unscaled), with
  /// the index of the first; one chunk of all of x in memory.
  package func forEachChunk(size: Int = 8192, _ body: (Int, Matrix<Float>) throws(TableError) -> Void)
    throws(TableError)
  {
    guard let mapped else {
      try body(0, x)
      return
    }
    var start = 0
    while start < mapped.count {
      let end = Swift.min(start + size, mapped.count)
      var chunk = Matrix<Float>.zeros(mapped.examples.featureCount, end - start)
      mapped.examples.gatherExamples((start..<end).map(mapped.row)[...], into: &chunk)
      try body(start, chunk)
      start = end
    }
  }

  /// At most `count` of the first examples, standardised (to look at the scale of the cost).
  package func sample(_ scaler: Standardizer, count: Int = 4096) -> Matrix<Float> {
    guard let mapped else { return scaler.transform(DataSplit.columns(x, Array(0..<Swift.min(count, x.columns)))) }
    var out = Matrix<Float>.zeros(mapped.examples.featureCount, Swift.min(count, mapped.count))
    mapped.examples.gatherExamples((0..<out.columns).map(mapped.row)[...], into: &out)
    scaler.transform(inPlace: &out)
    return out
  }

  /// The indices of at most `count` examples evenly spaced over these
  /// (every one when there are no more).
  package func evenlySpacedRows(_ count: Int) -> [Int] {
    let step = Swift.max(1, (self.count + count - 1) / Swift.max(count, 1))
    return Array(stride(from: 0, to: self.count, by: step))
  }

  /// At most `count` examples evenly spaced over these (every one when
  /// there are no more), as encoded (not standardised).
  package func evenlySpaced(_ count: Int) -> Matrix<Float> {
    let rows = evenlySpacedRows(count)
    guard let mapped else { return rows.count == self.count ? x : DataSplit.columns(x, rows) }
    var out = Matrix<Float>.zeros(mapped.examples.featureCount, rows.count)
    mapped.examples.gatherExamples(rows.map(mapped.row)[...], into: &out)
    return out
  }

  /// The standardizer of `encoder` fitted on these examples (the training
  /// split); with `quantileMaps`, each numeric input is first mapped onto
  /// the normal scores of its quantiles (fitted on at most
  /// ``quantileSample`` examples, evenly spaced, of mapped rows).
  package func standardizer(_ encoder: TabularEncoder, quantileMaps: Bool = false) -> Standardizer {
    var maps: [QuantileMap?]?
    if quantileMaps {
      let sample = mapped == nil ? x : evenlySpaced(Self.quantileSample)
      let numeric = encoder.measuredInputs
      maps = (0..<sample.rows).map { i in
        numeric[i] ? QuantileMap(fitting: (0..<sample.columns).map { Double(sample[i, $0]) }) : nil
      }
    }
    if mapped == nil && maps == nil { return encoder.standardizer(fitting: x) }
    // The mapped values' statistics, gathered alike in memory and in a
    // stream (so a streamed fit makes the model of the file read whole).
    let identity = Standardizer(
      means: [Double](repeating: 0, count: encoder.width),
      standardDeviations: [Double](repeating: 1, count: encoder.width), quantileMaps: maps)
    var accumulator = Standardizer.Accumulator(features: encoder.width)
    try! forEachChunk { (_, chunk) throws(TableError) in accumulator.add(identity.transform(chunk)) }
    var fitted = encoder.standardizer(adjusting: accumulator.standardizer)
    fitted.quantileMaps = maps
    return fitted
  }

  /// The most training examples of mapped rows the quantile maps are fitted on.
  package static let quantileSample = 65_536

  /// Reads a table for a trained model: its columns are matched to the
  /// model's raw columns by name (any order), its fields encoded as in
  /// training (missing values filled, categories one-hot; an unseen
  /// category is one warning line per column). The label column may be
  /// absent unless `requireLabel`, and is only read when it is required;
  /// columns the model ignored in training are skipped. Extra or missing
  /// columns are an error that lists them.
  package static func forModel(path: String, model: TabularModel, requireLabel: Bool, keep: [String] = [])
    throws(TableError)
    -> Dataset
  {
    let csv = try CSVFile(path: path)
    try checkHeader(csv)
    let columns = try ModelColumns(csv, model: model, requireLabel: requireLabel, keep: keep)
    var (data, notes) = try forModel(csv, columns: columns, model: model)
    data.notes = notes.dataNotes(columns, model: model)
    return data
  }

  /// The rows of `csv` (the whole file or a chunk of it) encoded for the
  /// model, with their encoding notes (not yet turned into ``notes``).
  package static func forModel(_ csv: CSVFile, columns: ModelColumns, model: TabularModel) throws(TableError)
    -> (Dataset, PredictionNotes)
  {
    try checkWidths(csv)
    let encoder = model.inputEncoder
    // Without `requireLabel` (predict) a label column that is there is skipped, not read.
    let labels = try columns.readsLabel ? readLabels(csv, column: columns.label!, markers: encoder) : nil
    var (data, encoded) = try encode(
      csv, encoder: encoder, columns: columns.features, labelName: labels == nil ? nil : model.labelName,
      labels: labels, fitted: true)
    data.kept = columns.kept.map { k in (csv.header[k], csv.records.indices.map { csv.text(record: $0, field: k) }) }
    return (data, PredictionNotes(encoded, csv))
  }

  package static func checkHeader(_ csv: CSVFile, requireRows: Bool = true) throws(TableError) {
    var seen: [String: Int] = [:]
    for (k, name) in csv.header.enumerated() {
      if name.isEmpty { throw TableError.at(csv.path, line: 1, column: k + 1, "the header has an empty column name") }
      if let first = seen[name] {
        throw TableError.at(
          csv.path, line: 1, column: k + 1, "column name \(quoted(name)) appears twice (also column \(first + 1))")
      }
      seen[name] = k
    }
    if requireRows && csv.records.isEmpty { throw TableError("\(csv.path): the file has a header but no data rows") }
  }

  /// Every row has as many fields as the header.
  package static func checkWidths(_ csv: CSVFile) throws(TableError) {
    let width = csv.header.count
    if let bad = csv.records.first(where: { $0.count != width }) {
      throw TableError.at(
        csv.path, line: bad.line, "this row has \(bad.count) fields, expected \(width) (as the header has)")
    }
  }

  /// The label of every row, trimmed; a missing label is an error.
  package static func readLabels(_ csv: CSVFile, column k: Int, markers: TabularEncoder) throws(TableError) -> [String]
  {
    var labels: [String] = []
    labels.reserveCapacity(csv.records.count)
    for r in csv.records.indices {
      let text = trimmed(csv.text(record: r, field: k))
      if markers.isMissing(text) {
        throw TableError.at(
          csv.path, line: csv.records[r].line, column: k + 1, name: csv.header[k],
          "the label is missing (\(text.isEmpty ? "an empty field" : quoted(text))); every example needs one: remove the row or fill it in"
        )
      }
      labels.append(text)
    }
    return labels
  }

  /// The rows of `csv` encoded by `encoder` (its column k read from
  /// `columns[k]`), with any encoding error named by file, line and column.
  /// `fitted`: the encoder comes from a model (the hints then name the model,
  /// not the training options).
  package static func encode(
    _ csv: CSVFile, encoder: TabularEncoder, columns featureColumns: [Int], labelName: String?, labels: [String]?,
    fitted: Bool
  ) throws(TableError) -> (Dataset, TabularEncoder.Notes) {
    let encoded: (x: Matrix<Float>, notes: TabularEncoder.Notes)
    do {
      encoded = try encoder.encode(csv, columns: featureColumns)
    } catch {
      throw describe(error, csv, fitted: fitted)
    }
    let data = Dataset(
      csv, encoder: encoder, x: encoded.x, columns: featureColumns, labelName: labelName, labels: labels)
    return (data, encoded.notes)
  }

  /// A ``TabularError`` as the user's one line: file, line, column, and what to do.
  package static func describe(_ error: TabularError, _ csv: CSVFile, fitted: Bool) -> TableError {
    describe(error, path: csv.path, header: csv.header, line: { csv.records[$0].line }, fitted: fitted)
  }

  /// ``describe(_:_:fitted:)`` for a file read in chunks: `line(r)` is the line of row r.
  package static func describe(
    _ error: TabularError, path: String, header: [String], line: (Int) -> Int, fitted: Bool
  ) -> TableError {
    let csv = (path: path, header: header)
    func at(_ r: Int, _ c: Int, _ message: String) -> TableError {
      TableError.at(csv.path, line: line(r), column: c + 1, name: csv.header[c], message)
    }
    func found(_ text: String) -> String { text.isEmpty ? "an empty field" : quoted(text) }
    switch error {
    case .missingValue(let r, let c, let marker):
      let hint =
        fitted
        ? "the model was trained with \(Setting.missing.named("error")), so it has no value to fill in; fill the field in or remove the row"
        : "fill missing values in with \(Setting.missing.named("mean, median or zero")) (from the training split), or remove the row"
      return at(r, c, "a missing value (\(found(marker))); \(hint)")
    case .notANumber(let r, let c, let text):
      let why = fitted ? " (the column was numeric in training)" : " (the column's other values are numbers)"
      return at(r, c, "expected a number, found \(found(text))\(why)")
    case .notFinite(let r, let c, let text):
      return at(r, c, "expected a finite number, found \(quoted(text))")
    case .tooManyCategories(let c, let count, let limit):
      return TableError.at(
        csv.path, line: 1, column: c + 1, name: csv.header[c],
        "a text column with \(count) distinct values in the training split, more than \(Setting.maxCategories.named(limit)): an identifier? leave it out with \(Setting.ignoredColumns.named(csv.header[c])), or raise \(Setting.maxCategories.named)"
      )
    case .noTrainingValues(let c):
      return TableError.at(
        csv.path, line: 1, column: c + 1, name: csv.header[c],
        "no value in the training split (to fill missing values from, or to take categories from); leave the column out with \(Setting.ignoredColumns.named(csv.header[c]))"
      )
    }
  }

  /// `filled 3 missing values (age: 2, bmi: 1)`.
  /// `filled 455 missing values (Income: 381, Assets: 47, …) with the training
  /// split's median, and a missing-indicator input for Income, Assets, Debt;
  /// 9 missing text values encoded as a category of their own (Home: 6, …)`.
  /// A text column without a missing indicator (none in its training rows,
  /// or `missingIndicators` off) encodes a missing value as no category.
  package static func filledSummary(_ notes: TabularEncoder.Notes, encoder: TabularEncoder) -> String {
    func part(_ filled: [TabularEncoder.FilledValues], _ what: String) -> String? {
      guard !filled.isEmpty else { return nil }
      let total = filled.reduce(0) { $0 + $1.count }
      let each = filled.map { "\(encoder.columns[$0.column].name): \($0.count)" }
      let named = each.prefix(8).joined(separator: ", ") + (each.count > 8 ? ", …" : "")
      return "\(total) missing \(what)\(total == 1 ? "" : "s") (\(named))"
    }
    let numeric = notes.filled.filter { encoder.columns[$0.column].isNumeric }
    let text = notes.filled.filter { !encoder.columns[$0.column].isNumeric }
    let ownCategory = text.filter { encoder.columns[$0.column].missingIndicator }
    let noCategory = text.filter { !encoder.columns[$0.column].missingIndicator }
    let fill = encoder.missing == .zero ? "0" : "the training split's \(encoder.missing.rawValue)"
    let flagged = numeric.map { encoder.columns[$0.column] }.filter(\.missingIndicator).map(\.name)
    let shown = flagged.prefix(8).joined(separator: ", ") + (flagged.count > 8 ? ", …" : "")
    let indicators = flagged.isEmpty ? "" : ", and a missing-indicator input for \(shown)"
    return [
      part(numeric, "value").map { "filled \($0) with \(fill)\(indicators)" },
      part(ownCategory, "text value").map { "\($0) encoded as a category of their own" },
      part(noCategory, "text value").map { "\($0) encoded as no category" },
    ].compactMap { $0 }.joined(separator: "; ")
  }

  /// The features as the model's network takes them: standardised with the
  /// model's statistics. A value that is finite in the file but not once
  /// standardised (1e38 in a column of small spread) is an error naming its
  /// line and column; values more than 10 standard deviations from the
  /// training mean are for ``farValuesWarning(for:)``.
  package func inputs(for model: TabularModel) throws(TableError) -> Matrix<Float> {
    guard let scaler = model.standardizer else { return x }
    let scaled: Matrix<Float>
    do {
      scaled = try scaler.checkedTransform(x)
    } catch {
      let i = error.feature
      throw TableError.at(
        file, line: line(error.example), column: columns[i], name: featureNames[i],
        "\(Float(error.value)) is \(Float(error.standardized)) once standardised with the training mean \(format(scaler.means[i], 4)) and standard deviation \(format(scaler.standardDeviations[i], 4)): the network cannot take it"
      )
    }
    return scaled
  }

  /// One warning line when inputs lie more than 10 standard deviations from
  /// the training mean (where the first is, and how many more there are).
  package func farValuesWarning(for model: TabularModel) -> String? {
    farValues(for: model).map { Self.farWarning($0.text, count: $0.count) }
  }

  /// The warning of ``farValues(for:)`` with its count.
  package static func farWarning(_ text: String, count: Int) -> String {
    let more = count > 1 ? " (and \(count - 1) more values)" : ""
    return text.replacingOccurrences(of: "; predictions", with: "\(more); predictions")
  }

  /// The warning on the first input far from the training data (without a
  /// count), and how many such inputs there are.
  /// `scaled`: the inputs as ``inputs(for:)`` made them, when the caller has them.
  package func farValues(for model: TabularModel, scaled: Matrix<Float>? = nil) -> (text: String, count: Int)? {
    guard let scaler = model.standardizer, mapped == nil else { return nil }
    let scaled = scaled ?? scaler.transform(x)
    let far = scaler.outliers(in: scaled, raw: x, beyond: Dataset.outlierDeviations)
    guard let first = far.first else { return nil }
    let i = first.feature
    let place = "\(file):\(line(first.example)): column \(columns[i]) (\(featureNames[i]))"
    let value = x[i, first.example]
    let distance: String
    if let map = scaler.quantileMaps?[i], let low = map.knots.first, let high = map.knots.last {
      let ranges = scaler.distanceOutside(Double(value), feature: i) / 6
      let times = ranges < 1e6 ? format(ranges, 1) : String(format: "%.3g", ranges)
      distance = "lies \(times) times the training range (\(Float(low)) to \(Float(high))) outside it"
    } else {
      distance =
        "lies \(format(Swift.abs(Double(scaled[i, first.example])), 1)) standard deviations from the training mean"
    }
    return (
      "\(place): \(value) \(distance); predictions this far outside the training data are extrapolations", far.count
    )
  }

  /// ``notes``, then a warning about inputs far outside the training data.
  package func notesAfterPredicting(_ model: TabularModel) -> [DataNote] {
    notes + (farValuesWarning(for: model).map { [DataNote(isWarning: true, text: $0)] } ?? [])
  }

  /// The model's output for every example (a column each): a non-finite
  /// output is an error naming the example's line, never a printed NaN.
  package func predictions(of model: TabularModel) throws(TableError) -> Matrix<Float> {
    guard let mapped else { return try Self.checkedOutputs(model, try inputs(for: model), self, 0) }
    var p = Matrix<Float>.zeros(model.network.outputSize, mapped.count)
    try forEachChunk { (start, chunk) throws(TableError) in
      var part = self
      part.x = chunk
      part.mapped = nil
      part.lines = (start..<(start + chunk.columns)).map(line)
      let out = try Self.checkedOutputs(model, try part.inputs(for: model), part, 0)
      let rows = p.rows
      p.withUnsafeMutableBufferPointer { t in
        out.withUnsafeBufferPointer { s in (t.baseAddress! + start * rows).update(from: s.baseAddress!, count: s.count)
        }
      }
    }
    return p
  }

  /// The network's outputs for `inputs`, an error naming the line of the first that is not finite.
  package static func checkedOutputs(_ model: TabularModel, _ inputs: Matrix<Float>, _ data: Dataset, _ offset: Int)
    throws(TableError)
    -> Matrix<Float>
  {
    let p = model.probabilities(standardizedInputs: inputs)
    let bad = p.withUnsafeBufferPointer { b in b.firstIndex { !$0.isFinite } }
    if let k = bad {
      throw TableError.at(
        data.file, line: data.line(offset + k / p.rows),
        "the network's output for this row is \(p[k % p.rows, k / p.rows]), not a probability (an overflow inside the network: are the inputs on the training scale?)"
      )
    }
    return p
  }

  /// Standard deviations from the training mean past which an input is
  /// reported as far outside the training data.
  package static let outlierDeviations = 10.0
}

extension Dataset {
  /// The rows of `csv` as `encoder` encoded them into `x`, encoder column k
  /// having come from table column `columns[k]`.
  package init(
    _ csv: CSVFile, encoder: TabularEncoder, x: Matrix<Float>, columns: [Int], labelName: String?, labels: [String]?
  ) {
    self.init(
      file: csv.path, featureNames: encoder.featureNames, labelName: labelName, x: x, textLabels: labels,
      lines: csv.records.map(\.line), columns: encoder.sourceColumns.map { columns[$0] + 1 })
  }
}

/// A CSV file opened for training: which column is the label, which are
/// left out, and the labels; the features are encoded once the training
/// rows are known (everything the encoder learns comes from them).
package struct TrainingTable {
  package let csv: CSVFile
  package let labelColumn: Int
  /// The columns the network reads, in file order.
  package let featureColumns: [Int]
  package let ignored: [String]
  /// The label of each row, trimmed.
  package let labels: [String]
  package let markers: [String]

  package var path: String { csv.path }
  package var labelName: String { csv.header[labelColumn] }
  package var count: Int { csv.records.count }

  /// Reads `path`; the label is the column named `label`, or the last one;
  /// the columns named in `ignore` are left out.
  package init(path: String, label: String?, ignore: [String], markers: [String]) throws(TableError) {
    try self.init(csv: try CSVFile(path: path), label: label, ignore: ignore, markers: markers)
  }

  package init(csv: CSVFile, label: String?, ignore: [String], markers: [String]) throws(TableError) {
    let path = csv.path
    try Dataset.checkHeader(csv)
    var labelColumn = csv.header.count - 1
    if let label {
      guard let k = csv.header.firstIndex(of: label) else {
        throw TableError("\(path): label column \"\(label)\" does not exist; the columns are \(list(csv.header))")
      }
      labelColumn = k
    }
    for name in ignore {
      guard let k = csv.header.firstIndex(of: name) else {
        throw TableError(
          "\(Setting.ignoredColumns.named): \(path) has no column \(quoted(name)); the columns are \(list(csv.header))")
      }
      if k == labelColumn { throw TableError("\(Setting.ignoredColumns.named): \(quoted(name)) is the label column") }
    }
    let left = Set(ignore)
    let featureColumns = csv.header.indices.filter { $0 != labelColumn && !left.contains(csv.header[$0]) }
    if featureColumns.isEmpty {
      throw TableError(
        "\(path): needs at least one feature column and a label column; the header has \(list(csv.header))"
          + (ignore.isEmpty ? "" : " and \(Setting.ignoredColumns.named) leaves out \(list(ignore))"))
    }
    try Dataset.checkWidths(csv)
    let encoder = TabularEncoder(columns: [], missingMarkers: markers)
    labels = try Dataset.readLabels(csv, column: labelColumn, markers: encoder)
    self.csv = csv
    self.labelColumn = labelColumn
    self.featureColumns = featureColumns
    self.ignored = ignore
    self.markers = markers
  }

  /// Throws, naming the line, unless every label is a finite number (a regression's).
  package func checkNumericLabels() throws(TableError) {
    for (r, text) in labels.enumerated() where Double(text).map({ !$0.isFinite }) ?? true {
      throw TableError.at(
        path, line: csv.records[r].line, column: labelColumn + 1, name: labelName,
        "the label \(quoted(text)) is not a number; \(Setting.task.named("regression")) needs a number in every row")
    }
  }

  /// The encoder fitted on `trainingRows`, and every row encoded by it
  /// (each numeric field parsed once).
  package func fitAndEncode(
    trainingRows: [Int], missing: MissingValueStrategy, maxCategories: Int, missingIndicators: Bool = false
  ) throws(TableError)
    -> (
      TabularEncoder, Dataset, TabularEncoder.Notes
    )
  {
    let fitted: (encoder: TabularEncoder, x: Matrix<Float>, notes: TabularEncoder.Notes)
    do {
      fitted = try TabularEncoder.fitAndEncode(
        csv, columns: featureColumns, names: featureColumns.map { csv.header[$0] }, trainingRows: trainingRows,
        missing: missing, maxCategories: maxCategories, missingMarkers: markers, ignoredColumns: ignored,
        missingIndicators: missingIndicators)
    } catch {
      throw Dataset.describe(error, csv, fitted: false)
    }
    let data = Dataset(
      csv, encoder: fitted.encoder, x: fitted.x, columns: featureColumns, labelName: labelName, labels: labels)
    return (fitted.encoder, data, fitted.notes)
  }

  /// Every row encoded by `encoder`.
  package func dataset(_ encoder: TabularEncoder) throws(TableError) -> (Dataset, TabularEncoder.Notes) {
    try Dataset.encode(
      csv, encoder: encoder, columns: featureColumns, labelName: labelName, labels: labels, fitted: false)
  }
}

/// What the training run keeps of its table once the file is freed.
package struct TableSummary {
  package let path: String
  package let labelName: String
  package let ignored: [String]
  package let count: Int

  package init(_ table: TrainingTable) {
    (path, labelName, ignored, count) = (table.path, table.labelName, table.ignored, table.count)
  }

  package init(path: String, labelName: String, ignored: [String], count: Int) {
    (self.path, self.labelName, self.ignored, self.count) = (path, labelName, ignored, count)
  }
}

/// Where a table's columns are for a model: its raw input columns (by name,
/// any order), the columns to copy to the output, the label column.
package struct ModelColumns {
  package var path: String
  package var header: [String]
  /// The table's column of each of the model's raw input columns.
  package var features: [Int]
  /// The columns asked to be kept (`--keep`).
  package var kept: [Int]
  /// The label column, if the table has it.
  package var label: Int?
  /// Whether the label column is read (evaluate), not only skipped (predict).
  package var readsLabel: Bool

  /// Matches `csv`'s header to the model's columns. The label column may be
  /// absent unless `requireLabel`; columns the model ignored in training
  /// are skipped. Extra or missing columns are an error that lists them.
  package init(_ csv: CSVFile, model: TabularModel, requireLabel: Bool, keep: [String]) throws(TableError) {
    path = csv.path
    header = csv.header
    kept = []
    for name in keep {
      guard let k = csv.header.firstIndex(of: name) else {
        throw TableError(
          "\(Setting.keep.named): \(csv.path) has no column \(quoted(name)); the columns are \(list(csv.header))")
      }
      kept.append(k)
    }
    let encoder = model.inputEncoder
    let expected = encoder.columns.map(\.name)
    let labelName = model.labelName
    label = labelName.flatMap { csv.header.firstIndex(of: $0) }
    readsLabel = requireLabel
    if requireLabel && label == nil {
      throw TableError(
        "\(csv.path): the label column \(quoted(labelName ?? "?")) the model was trained on is missing; the columns are \(list(csv.header))"
      )
    }
    let present = Set(csv.header)
    let missing = expected.filter { !present.contains($0) }
    let known = Set(expected + encoder.ignoredColumns + (labelName.map { [$0] } ?? []))
    let extra = csv.header.filter { !known.contains($0) }
    if !missing.isEmpty || !extra.isEmpty {
      var parts: [String] = []
      if !missing.isEmpty { parts.append("missing \(list(missing))") }
      if !extra.isEmpty { parts.append("unexpected \(list(extra))") }
      throw TableError(
        "\(csv.path): the columns do not match the model's \(expected.count) input columns: "
          + parts.joined(separator: "; "))
    }
    // One hash lookup per column: matching 10⁶ columns stays linear.
    let position = Dictionary(csv.header.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    features = expected.map { position[$0]! }
  }
}

/// What encoding rows for a model found (categories unseen in training,
/// missing values filled), summed over the chunks of a file.
package struct PredictionNotes {
  /// Per raw input column: rows with an unseen category, and the first (line and value).
  var unseen: [Int: (count: Int, line: Int, value: String)] = [:]
  var filled = TabularEncoder.Notes()

  package init() {}

  /// The notes of encoding the rows of `csv` (one entry per column, as the encoder gives them).
  package init(_ notes: TabularEncoder.Notes, _ csv: CSVFile) {
    for u in notes.unseen { unseen[u.column] = (u.count, csv.records[u.firstRow].line, u.firstValue) }
    filled = TabularEncoder.Notes()
    filled.filled = notes.filled
  }

  /// Adds another chunk's notes (the first unseen value of a column stays the earliest).
  package mutating func add(_ other: PredictionNotes) {
    for (column, u) in other.unseen {
      if let seen = unseen[column] {
        unseen[column] = (seen.count + u.count, seen.line, seen.value)
      } else {
        unseen[column] = u
      }
    }
    for f in other.filled.filled {
      if let k = filled.filled.firstIndex(where: { $0.column == f.column }) {
        filled.filled[k].count += f.count
      } else {
        filled.filled.append(f)
      }
    }
  }

  /// The lines a user reads: one warning per column with unseen categories, one line on the fills.
  package func dataNotes(_ columns: ModelColumns, model: TabularModel) -> [DataNote] {
    var notes: [DataNote] = []
    for (input, u) in unseen.sorted(by: { $0.value.line < $1.value.line }) {
      let column = columns.features[input]
      let more = u.count > 1 ? " (and \(u.count - 1) more rows)" : ""
      notes.append(
        DataNote(
          isWarning: true,
          text:
            "\(columns.path):\(u.line): column \(column + 1) (\(columns.header[column])): category \(quoted(u.value)) was not seen in training\(more); encoded as no category (all zeros)"
        ))
    }
    if !filled.filled.isEmpty {
      let encoder = model.inputEncoder
      notes.append(
        DataNote(
          isWarning: false,
          text: Dataset.filledSummary(filled, encoder: encoder)))
    }
    return notes
  }
}
