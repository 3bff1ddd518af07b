import Foundation
import LinearAlgebra
import NeuralNetwork

/// A table of raw fields, row by row, as read from a file: what
/// ``TabularEncoder`` fits and encodes. Rows are examples; columns are
/// addressed by their index in the table.
///
/// Conform a CSV reader, a database cursor or plain arrays (``TextTable``)
/// to it. `number(row:column:)` is asked first for every field; `text` only
/// for the fields that are not numbers, so a numeric table never builds a
/// `String` per field.
public protocol RawTable {
  /// The number of rows (examples).
  var rowCount: Int { get }
  /// The field as a number, or nil when it is not one (text, or empty).
  func number(row: Int, column: Int) -> Double?
  /// The field as text, as it stands in the table (unquoted).
  func text(row: Int, column: Int) -> String
  /// Whether the field is missing whatever it holds (a table of typed
  /// values says so; text is missing when it is a missing marker).
  func isMissing(row: Int, column: Int) -> Bool
}

extension RawTable {
  /// No field is missing but by its text (a missing marker).
  public func isMissing(row: Int, column: Int) -> Bool { false }
}

/// A ``RawTable`` held as text, one array of fields per column: for small
/// tables built in code and for tests.
public struct TextTable: RawTable, Sendable {
  /// `columns[k][r]` is the field of row r in column k.
  public var columns: [[String]]

  /// Traps unless every column has as many fields as the first.
  public init(columns: [[String]]) {
    if let first = columns.first, let k = columns.firstIndex(where: { $0.count != first.count }) {
      shapeFailure("TextTable: column \(k + 1) has \(columns[k].count) fields but column 1 has \(first.count)")
    }
    self.columns = columns
  }

  public var rowCount: Int { columns.first?.count ?? 0 }

  public func number(row: Int, column: Int) -> Double? {
    Double(columns[column][row].trimmingCharacters(in: .whitespaces))
  }

  public func text(row: Int, column: Int) -> String { columns[column][row] }
}

/// What to do with a missing value in a feature column.
public enum MissingValueStrategy: String, Codable, Sendable, CaseIterable {
  /// A missing value is an error that names its row and column.
  case error
  /// Numbers: the mean of the column's training values.
  case mean
  /// Numbers: the median of the column's training values (robust to outliers;
  /// the default of a fit, whose report says what was filled).
  case median
  /// Numbers: 0.
  case zero
}

/// One raw column of a table and how it becomes network inputs.
public struct FeatureColumn: Equatable, Sendable {
  public enum Encoding: Equatable, Sendable {
    /// A number, taken as it is. `fill` replaces a missing value (the
    /// training mean or median, or 0); nil when missing values are an error.
    case numeric(fill: Double?)
    /// Text, one-hot encoded: one input per category, in this order (sorted,
    /// from the training rows). A value that is not among them encodes as
    /// all zeros, or as the column's other-category input when it has one
    /// (``FeatureColumn/otherCategory``); a missing value, when missing
    /// values are allowed, as all zeros too, unless the column has a
    /// missing indicator (then missing is a category of its own, the input
    /// after the categories).
    case oneHot(categories: [String])
  }

  /// The column's name (its header).
  public var name: String
  public var encoding: Encoding
  /// Whether a missing value is filled in (numeric) or encoded as no
  /// category or the missing indicator (one-hot), rather than being an error.
  public var allowsMissing: Bool
  /// An input that is 1 where the value was missing and 0 where it was
  /// given. A numeric column's second input, so the network can tell a
  /// filled median from a real one (scikit-learn's
  /// `SimpleImputer(add_indicator=True)`); a text column's last, after its
  /// categories, so that missing is a category of its own (scikit-learn's
  /// `OneHotEncoder` on text with missing values, which keeps them as a category).
  public var missingIndicator: Bool
  /// A one-hot column's input for every other category: 1 where a value
  /// is given but is none of the column's categories, which are then the
  /// most frequent of its training values (the rest, grouped, beyond
  /// ``TabularModel/FitOptions/maxCategories``), and 0 elsewhere. A value
  /// never seen in training is one of the others too, with no note, as in
  /// scikit-learn's `OneHotEncoder(max_categories:,
  /// handle_unknown="infrequent_if_exist")`. The column's last input.
  public var otherCategory: Bool

  public init(
    name: String, encoding: Encoding, allowsMissing: Bool, missingIndicator: Bool = false, otherCategory: Bool = false
  ) {
    self.name = name
    self.encoding = encoding
    self.allowsMissing = allowsMissing
    self.missingIndicator = missingIndicator
    if case .numeric = encoding { self.otherCategory = false } else { self.otherCategory = otherCategory }
  }

  /// The number of network inputs the column becomes: 1, or one per
  /// category; one more with a missing indicator, and one more for the
  /// other categories.
  public var width: Int {
    let indicator = missingIndicator ? 1 : 0
    switch encoding {
    case .numeric: return 1 + indicator
    case .oneHot(let categories): return categories.count + indicator + (otherCategory ? 1 : 0)
    }
  }

  /// The inputs' names: the column's name, or `name=category` for each
  /// category; then `name missing` for its indicator and `name=(other)` for
  /// the other categories.
  public var featureNames: [String] {
    let indicator = missingIndicator ? ["\(name) missing"] : []
    switch encoding {
    case .numeric: return [name] + indicator
    case .oneHot(let categories):
      return categories.map { "\(name)=\($0)" } + indicator + (otherCategory ? ["\(name)=(other)"] : [])
    }
  }

  public var isNumeric: Bool {
    if case .numeric = encoding { return true }
    return false
  }
}

/// Why a table could not be fitted or encoded. Rows and columns are the
/// table's (0-based); the caller turns them into file lines and columns.
public enum TabularError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A missing value under ``MissingValueStrategy/error``; `found` is the marker.
  case missingValue(row: Int, column: Int, found: String)
  /// Text in a column whose other values are numbers (or that was numeric in training).
  case notANumber(row: Int, column: Int, found: String)
  /// A number that is not finite in `Float` (inf, 1e39).
  case notFinite(row: Int, column: Int, found: String)
  /// A text column of a streamed table that looks like an identifier (more
  /// distinct values than `limit`, and at least half as many as values); a
  /// table in memory leaves such a column out instead.
  case tooManyCategories(column: Int, count: Int, limit: Int)
  /// A numeric column with no value in the training rows to fill missing
  /// ones from, or a text column with no category in them.
  case noTrainingValues(column: Int)

  public var description: String {
    switch self {
    case .missingValue(let r, let c, let f):
      return "row \(r), column \(c): a missing value (\(f.isEmpty ? "an empty field" : "\"\(f)\""))"
    case .notANumber(let r, let c, let f): return "row \(r), column \(c): expected a number, found \"\(f)\""
    case .notFinite(let r, let c, let f): return "row \(r), column \(c): \"\(f)\" is not a finite number"
    case .tooManyCategories(let c, let n, let limit):
      return "column \(c): text with \(n) distinct values in the training rows, more than \(limit): an identifier"
    case .noTrainingValues(let c): return "column \(c): no value in the training rows"
    }
  }
}

/// Turns the raw columns of a table into the network's inputs (features ×
/// examples): numbers pass through, missing numbers are filled in, text
/// columns are one-hot encoded. Everything it learns comes from the training
/// rows only and is kept, so that the same encoding applies unchanged to
/// validation, test and production data (scikit-learn's
/// `SimpleImputer` + `OneHotEncoder(handle_unknown="ignore")` in a
/// `ColumnTransformer`). Scaling is the `Standardizer`'s job, after this.
///
/// A column is numeric when at least one of its fields is a number; then
/// any other text in it (that is not a missing marker) is an error, since a
/// column that mixes the two is nearly always a typo. A column with no
/// numbers is text.
///
///     let table = TextTable(columns: [["61", "NA", "47"], ["F", "M", "F"]])
///     let encoder = try TabularEncoder(
///       fitting: table, columns: [0, 1], names: ["age", "sex"], trainingRows: [0, 1, 2], missing: .median)
///     let (x, _) = try encoder.encode(table, columns: [0, 1])
///     // x is 3 × 3: age (NA → 54), sex=F, sex=M
public struct TabularEncoder: Equatable, Sendable {
  /// The fields that mean "missing" unless told otherwise (compared
  /// case-insensitively, after trimming spaces): an empty field, `NA`, `N/A`,
  /// `NaN`, `?` and `null`.
  public static let defaultMissingMarkers = ["", "NA", "N/A", "NaN", "?", "null"]

  /// The encoded columns, in input order.
  public var columns: [FeatureColumn]
  /// The strategy the numeric fills come from.
  public var missing: MissingValueStrategy
  /// The fields read as missing.
  public var missingMarkers: [String]
  /// Columns of the training table that were left out on purpose (an id):
  /// a table to encode may have them, and they are skipped.
  public var ignoredColumns: [String]

  private var markerSet: Set<String>

  public init(
    columns: [FeatureColumn], missing: MissingValueStrategy = .error,
    missingMarkers: [String] = TabularEncoder.defaultMissingMarkers, ignoredColumns: [String] = []
  ) {
    self.columns = columns
    self.missing = missing
    self.missingMarkers = missingMarkers
    self.ignoredColumns = ignoredColumns
    self.markerSet = Set(missingMarkers.map { $0.lowercased() })
  }

  /// An encoder that takes every named column as a plain number, missing
  /// values being an error (what a model file of version 1 did).
  public init(numericColumns names: [String]) {
    self.init(columns: names.map { FeatureColumn(name: $0, encoding: .numeric(fill: nil), allowsMissing: false) })
  }

  /// Fits the encoding of `columns` of `table` (named `names`) on
  /// `trainingRows`: which columns are text, their categories, and the fill
  /// value of each numeric column. With `missingIndicators`, a column with
  /// a missing value in the training rows (when missing values are allowed)
  /// gets an input that marks them: a numeric column's second, a text
  /// column's last (missing as a category of its own). Every row is checked,
  /// not only the training rows: a bad field anywhere is thrown as a
  /// ``TabularError`` (the first in row order within the first column that has one).
  public init(
    fitting table: some RawTable, columns: [Int], names: [String], trainingRows: [Int],
    missing: MissingValueStrategy = .error, maxCategories: Int = 50,
    missingMarkers: [String] = TabularEncoder.defaultMissingMarkers, ignoredColumns: [String] = [],
    missingIndicators: Bool = false
  ) throws(TabularError) {
    self.init(columns: [], missing: missing, missingMarkers: missingMarkers, ignoredColumns: ignoredColumns)
    var unused: [Float]?
    var notes = Notes()
    try fit(
      table, columns, names, trainingRows, maxCategories, missingIndicators, encodingInto: &unused, notes: &notes)
  }

  /// ``init(fitting:columns:names:trainingRows:missing:maxCategories:missingMarkers:ignoredColumns:missingIndicators:)``
  /// and ``encode(_:columns:)`` of the same table in one pass over its
  /// numeric fields (each is parsed once).
  public static func fitAndEncode(
    _ table: some RawTable, columns: [Int], names: [String], trainingRows: [Int],
    missing: MissingValueStrategy = .error, maxCategories: Int = 50,
    missingMarkers: [String] = TabularEncoder.defaultMissingMarkers, ignoredColumns: [String] = [],
    missingIndicators: Bool = false
  ) throws(TabularError) -> (encoder: TabularEncoder, x: Matrix<Float>, notes: Notes) {
    var encoder = TabularEncoder(
      columns: [], missing: missing, missingMarkers: missingMarkers, ignoredColumns: ignoredColumns)
    var featureMajor: [Float]? = []
    var notes = Notes()
    try encoder.fit(
      table, columns, names, trainingRows, maxCategories, missingIndicators, encodingInto: &featureMajor,
      notes: &notes)
    return (encoder, try! Matrix(rows: encoder.width, columns: table.rowCount, rowMajor: featureMajor!), notes)
  }

  /// Fits every column; with `out`, also appends each input's values for
  /// every row to it (feature-major: input i's m values at i·m).
  private mutating func fit(
    _ table: some RawTable, _ tableColumns: [Int], _ names: [String], _ trainingRows: [Int], _ maxCategories: Int,
    _ missingIndicators: Bool, encodingInto out: inout [Float]?, notes: inout Notes
  ) throws(TabularError) {
    if names.count != tableColumns.count {
      shapeFailure("TabularEncoder: \(names.count) names for \(tableColumns.count) columns; they must be equal")
    }
    let isTraining = Self.membership(trainingRows, count: table.rowCount)
    out?.reserveCapacity(tableColumns.count * table.rowCount)
    for (k, c) in tableColumns.enumerated() {
      let column = try fitColumn(
        table, column: c, name: names[k], isTraining: isTraining, maxCategories: maxCategories,
        missingIndicator: missingIndicators, keep: out != nil)
      columns.append(column.feature)
      if var grouped = column.grouped {
        grouped.column = k
        notes.grouped.append(grouped)
      }
      guard out != nil else { continue }
      if var values = column.values {
        // Numeric: the values kept by the scan, missing ones filled in.
        if case .numeric(let fill) = column.feature.encoding, let fill {
          for r in column.missingRows { values[r] = Float(fill) }
        }
        if !column.missingRows.isEmpty {
          notes.filled.append(FilledValues(column: k, count: column.missingRows.count))
        }
        out!.append(contentsOf: values)
        if column.feature.missingIndicator {
          let start = out!.count
          out!.append(contentsOf: repeatElement(0, count: table.rowCount))
          for r in column.missingRows { out![start + r] = 1 }
        }
      } else {
        try append(table, k, c, into: &out!, notes: &notes)
      }
    }
  }

  /// The number of network inputs: the sum of the columns' widths.
  public var width: Int { columns.reduce(0) { $0 + $1.width } }

  /// The inputs' names, in order (`age`, `sex=F`, `sex=M`, …).
  public var featureNames: [String] { columns.flatMap(\.featureNames) }

  /// The encoded column each input comes from.
  public var sourceColumns: [Int] { columns.indices.flatMap { k in Array(repeating: k, count: columns[k].width) } }

  /// Whether each input is a number as given (scaled by the standardizer
  /// and quantile-mapped), rather than a 0/1 input (a category or a
  /// missing indicator, kept as it is).
  public var measuredInputs: [Bool] {
    columns.flatMap { c in
      c.isNumeric ? [true] + (c.missingIndicator ? [false] : []) : Array(repeating: false, count: c.width)
    }
  }

  /// Values that were encoded as no category because training never saw
  /// them, for one column: how many rows, and the first.
  public struct UnseenCategories: Equatable, Sendable {
    /// The encoder's column (index into ``columns``).
    public var column: Int
    public var count: Int
    public var firstRow: Int
    public var firstValue: String

    public init(column: Int, count: Int, firstRow: Int, firstValue: String) {
      self.column = column
      self.count = count
      self.firstRow = firstRow
      self.firstValue = firstValue
    }
  }

  /// Missing values in one column: filled in (a numeric column), encoded as
  /// the missing indicator or as no category (a text column with or without one).
  public struct FilledValues: Equatable, Sendable {
    public var column: Int
    public var count: Int

    public init(column: Int, count: Int) {
      self.column = column
      self.count = count
    }
  }

  /// A text column with more categories in the training rows than one-hot
  /// encodes: the `kept` most frequent are encoded, the rest (`rows` training
  /// rows) share one input, the column's other categories
  /// (``FeatureColumn/otherCategory``), with any category unseen in training.
  public struct GroupedCategories: Equatable, Sendable {
    /// The encoder's column (index into ``columns``).
    public var column: Int
    public var kept: Int
    public var distinct: Int
    public var rows: Int

    public init(column: Int, kept: Int, distinct: Int, rows: Int) {
      (self.column, self.kept, self.distinct, self.rows) = (column, kept, distinct, rows)
    }
  }

  /// A text column left out of the inputs as an identifier: a different
  /// value in (nearly) every training row (see ``identifierColumns(_:columns:names:trainingRows:maxCategories:missingMarkers:)``).
  public struct IdentifierColumn: Equatable, Sendable {
    public var name: String
    /// Its distinct values in the training rows, and its non-missing training values.
    public var distinct: Int
    public var values: Int

    public init(name: String, distinct: Int, values: Int) {
      (self.name, self.distinct, self.values) = (name, distinct, values)
    }
  }

  /// What ``encode(_:columns:)`` did besides plain encoding, and what a fit
  /// decided about the columns.
  public struct Notes: Equatable, Sendable {
    public var unseen: [UnseenCategories] = []
    public var filled: [FilledValues] = []
    /// Text columns whose rarest categories were grouped (a fit's note).
    public var grouped: [GroupedCategories] = []
    /// Text columns left out as identifiers (a fit's note).
    public var identifiers: [IdentifierColumn] = []

    public init(
      unseen: [UnseenCategories] = [], filled: [FilledValues] = [], grouped: [GroupedCategories] = [],
      identifiers: [IdentifierColumn] = []
    ) {
      self.unseen = unseen
      self.filled = filled
      self.grouped = grouped
      self.identifiers = identifiers
    }
  }

  /// The inputs (``width`` × rows, unscaled) for every row of `table`;
  /// `columns[k]` is the table column that holds encoder column k.
  public func encode(_ table: some RawTable, columns tableColumns: [Int]) throws(TabularError) -> (
    x: Matrix<Float>, notes: Notes
  ) {
    if tableColumns.count != columns.count {
      shapeFailure("TabularEncoder.encode: \(tableColumns.count) table columns for \(columns.count) encoded ones")
    }
    // Feature-major (each input's values contiguous, read down one table
    // column at a time), then transposed once in tiles.
    var featureMajor: [Float] = []
    featureMajor.reserveCapacity(width * table.rowCount)
    var notes = Notes()
    for (k, c) in tableColumns.enumerated() {
      try append(table, k, c, into: &featureMajor, notes: &notes)
    }
    return (try! Matrix(rows: width, columns: table.rowCount, rowMajor: featureMajor), notes)
  }

  /// Appends the inputs of encoder column `k`, read from table column `c`,
  /// for every row: one run of m values per input.
  private func append(_ table: some RawTable, _ k: Int, _ c: Int, into out: inout [Float], notes: inout Notes)
    throws(TabularError)
  {
    let m = table.rowCount
    let column = columns[k]
    let start = out.count
    out.append(contentsOf: repeatElement(0, count: column.width * m))
    switch column.encoding {
    case .numeric(let fill):
      var filled = 0
      for r in 0..<m {
        switch field(table, r, c) {
        case .number(let v):
          guard Float(v).isFinite else { throw .notFinite(row: r, column: c, found: table.text(row: r, column: c)) }
          out[start + r] = Float(v)
        case .missing(let marker):
          guard let fill, column.allowsMissing else { throw .missingValue(row: r, column: c, found: marker) }
          out[start + r] = Float(fill)
          if column.missingIndicator { out[start + m + r] = 1 }
          filled += 1
        case .text(let t):
          throw .notANumber(row: r, column: c, found: t)
        }
      }
      if filled > 0 { notes.filled.append(FilledValues(column: k, count: filled)) }
    case .oneHot(let categories):
      let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
      var unseen: UnseenCategories?
      var missingCount = 0
      for r in 0..<m {
        let f = field(table, r, c)
        if case .missing(let marker) = f {
          guard column.allowsMissing else { throw .missingValue(row: r, column: c, found: marker) }
          if column.missingIndicator { out[start + categories.count * m + r] = 1 }
          missingCount += 1
          continue
        }
        let value = category(f, table, r, c)
        if let i = index[value] {
          out[start + i * m + r] = 1
        } else if column.otherCategory {
          out[start + (column.width - 1) * m + r] = 1
        } else if unseen == nil {
          unseen = UnseenCategories(column: k, count: 1, firstRow: r, firstValue: value)
        } else {
          unseen!.count += 1
        }
      }
      if let unseen { notes.unseen.append(unseen) }
      if missingCount > 0 { notes.filled.append(FilledValues(column: k, count: missingCount)) }
    }
  }

  /// A `Standardizer` for this encoder's inputs fitted on `x` (the encoded
  /// training rows): numeric inputs get their mean and standard deviation,
  /// one-hot inputs and missing indicators mean 0 and standard deviation 1,
  /// so that they stay 0 or 1 and an unseen category stays all zeros.
  public func standardizer(fitting x: Matrix<Float>) -> Standardizer {
    if x.rows != width { shapeFailure("TabularEncoder.standardizer: \(width) inputs but X is \(x.shape)") }
    return standardizer(adjusting: Standardizer(fitting: x))
  }

  /// `fitted` (statistics of the encoded training rows, gathered elsewhere)
  /// with every one-hot input and missing indicator set to mean 0 and
  /// standard deviation 1.
  public func standardizer(adjusting fitted: Standardizer) -> Standardizer {
    if fitted.means.count != width {
      shapeFailure("TabularEncoder.standardizer: \(width) inputs but \(fitted.means.count) fitted")
    }
    var s = fitted
    for (i, measured) in measuredInputs.enumerated() where !measured {
      s.means[i] = 0
      s.standardDeviations[i] = 1
    }
    return s
  }

  /// Whether `text` is one of the missing markers.
  public func isMissing(_ text: String) -> Bool { markerSet.contains(trimmed(text).lowercased()) }

  // MARK: - Fitting

  enum Field {
    case number(Double)
    case text(String)
    case missing(String)
  }

  /// The category a field that is not missing (`f`, of row `r` and column
  /// `c`) stands for in a text column: a number as written (trimmed).
  func category(_ f: Field, _ table: some RawTable, _ r: Int, _ c: Int) -> String {
    if case .text(let t) = f { return t }
    return trimmed(table.text(row: r, column: c))
  }

  /// Which rows of `table` (whose column k is encoder column k) `notes`
  /// (``encode(_:columns:)``'s) are about, each with its note: the rows of
  /// the filled values and of the unseen categories, in column order.
  func rowNotes(_ table: some RawTable, _ notes: Notes, names: [String]) -> [(
    record: Int, column: Int, note: PredictionNote
  )] {
    var found: [(record: Int, column: Int, note: PredictionNote)] = []
    let columnsWithNotes = Set(notes.filled.map(\.column) + notes.unseen.map(\.column)).sorted()
    for k in columnsWithNotes {
      let column = columns[k]
      var known: Set<String> = []
      var fill: Double?
      switch column.encoding {
      case .numeric(let f): fill = f
      case .oneHot(let categories): known = Set(categories)
      }
      for r in 0..<table.rowCount {
        let f = field(table, r, k)
        switch f {
        case .missing: found.append((r, k, .filled(column: names[k], value: fill)))
        case .number, .text:
          guard !column.isNumeric else { continue }
          let value = category(f, table, r, k)
          if !known.contains(value) { found.append((r, k, .unseenCategory(column: names[k], value: value))) }
        }
      }
    }
    return found
  }

  func field(_ table: some RawTable, _ r: Int, _ c: Int) -> Field {
    if let v = table.number(row: r, column: c), !v.isNaN { return .number(v) }
    if table.isMissing(row: r, column: c) { return .missing("") }
    let t = trimmed(table.text(row: r, column: c))
    if markerSet.contains(t.lowercased()) { return .missing(t) }
    return .text(t)
  }

  /// A fitted column and, when `keep` and the column is numeric, its value
  /// in every row (0 where missing) with the rows that are missing.
  struct FittedColumn {
    var feature: FeatureColumn
    var values: [Float]?
    var missingRows: [Int]
    var grouped: GroupedCategories?
  }

  func fitColumn(
    _ table: some RawTable, column c: Int, name: String, isTraining: [Bool], maxCategories: Int,
    missingIndicator: Bool = false, keep: Bool = false
  ) throws(TabularError) -> FittedColumn {
    let m = table.rowCount
    var kept = keep ? [Float](repeating: 0, count: m) : []
    var missingRows: [Int] = []
    var numbers: [Double] = []
    var firstText: (row: Int, text: String)?
    var firstMissing: (row: Int, marker: String)?
    var trainingMissing = false
    var categories: [String: Int] = [:]
    var numbersSeen = false
    for r in 0..<m {
      switch field(table, r, c) {
      case .number(let v):
        guard Float(v).isFinite else { throw .notFinite(row: r, column: c, found: table.text(row: r, column: c)) }
        if isTraining[r] { numbers.append(v) }
        if keep { kept[r] = Float(v) }
        numbersSeen = true
      case .text(let t):
        if firstText == nil { firstText = (r, t) }
        if isTraining[r] { categories[t, default: 0] += 1 }
      case .missing(let marker):
        if firstMissing == nil { firstMissing = (r, marker) }
        if isTraining[r] { trainingMissing = true }
        if keep { missingRows.append(r) }
      }
      // A number and a text in one column: the text is the odd one out.
      if numbersSeen, let t = firstText { throw .notANumber(row: t.row, column: c, found: t.text) }
    }
    if let missingAt = firstMissing, missing == .error {
      throw .missingValue(row: missingAt.row, column: c, found: missingAt.marker)
    }
    if firstText == nil {
      var fill: Double?
      if firstMissing != nil || missing != .error {
        if missing != .zero && numbers.isEmpty { throw .noTrainingValues(column: c) }
        fill = Self.fill(numbers, missing)
      }
      let feature = FeatureColumn(
        name: name, encoding: .numeric(fill: fill), allowsMissing: missing != .error,
        missingIndicator: missingIndicator && trainingMissing && fill != nil)
      return FittedColumn(feature: feature, values: keep ? kept : nil, missingRows: missingRows)
    }
    // Text outside the training rows only: nothing to learn categories from.
    if categories.isEmpty { throw .noTrainingValues(column: c) }
    let (oneHot, grouped) = Self.keptCategories(categories, limit: maxCategories)
    let feature = FeatureColumn(
      name: name, encoding: .oneHot(categories: oneHot), allowsMissing: missing != .error,
      missingIndicator: missingIndicator && trainingMissing && missing != .error, otherCategory: grouped != nil)
    return FittedColumn(feature: feature, values: nil, missingRows: [], grouped: grouped)
  }

  /// The categories one-hot encodes from their training counts: all of them
  /// up to `limit`, else the `limit` most frequent (ties by name), in name
  /// order; and what was grouped (its `column` for the caller to set).
  static func keptCategories(_ counts: [String: Int], limit: Int) -> ([String], GroupedCategories?) {
    guard counts.count > limit else { return (counts.keys.sorted(), nil) }
    let byFrequency = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    let kept = byFrequency.prefix(limit)
    let rows = byFrequency.dropFirst(limit).reduce(0) { $0 + $1.value }
    return (
      kept.map(\.key).sorted(), GroupedCategories(column: 0, kept: limit, distinct: counts.count, rows: rows)
    )
  }

  /// The text columns among `columns` of `table` that look like identifiers
  /// in `trainingRows`: more than `maxCategories` distinct values, and at
  /// least half as many distinct values as non-missing ones (a row id, a
  /// name, a free-text comment), which one-hot encoding cannot learn from.
  /// A column with any number in the training rows is not text.
  public static func identifierColumns(
    _ table: some RawTable, columns: [Int], names: [String], trainingRows: [Int], maxCategories: Int,
    missingMarkers: [String] = TabularEncoder.defaultMissingMarkers
  ) -> [(column: Int, identifier: IdentifierColumn)] {
    let probe = TabularEncoder(columns: [], missingMarkers: missingMarkers)
    var found: [(column: Int, identifier: IdentifierColumn)] = []
    for (k, c) in columns.enumerated() {
      var distinct = Set<String>()
      var values = 0
      var numeric = false
      for r in trainingRows {
        switch probe.field(table, r, c) {
        case .number: numeric = true
        case .text(let t):
          distinct.insert(t)
          values += 1
        case .missing: continue
        }
        if numeric { break }
      }
      if !numeric && distinct.count > maxCategories && 2 * distinct.count >= values {
        found.append((c, IdentifierColumn(name: names[k], distinct: distinct.count, values: values)))
      }
    }
    return found
  }

  /// The fill value of `strategy` for `values` (nil for `.error`).
  static func fill(_ values: [Double], _ strategy: MissingValueStrategy) -> Double? {
    switch strategy {
    case .error: return nil
    case .zero: return 0
    case .mean: return values.reduce(0, +) / Double(values.count)
    case .median:
      let sorted = values.sorted()
      let h = sorted.count / 2
      return sorted.count % 2 == 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2
    }
  }

  static func membership(_ rows: [Int], count: Int) -> [Bool] {
    var member = [Bool](repeating: false, count: count)
    for r in rows {
      if !(0..<count).contains(r) { shapeFailure("TabularEncoder: training row \(r) is outside 0..<\(count)") }
      member[r] = true
    }
    return member
  }
}

/// `s` without the blanks (`CharacterSet.whitespaces`) at its ends. A text
/// whose first and last bytes are ASCII but neither a space nor a tab (nearly
/// every field) comes back as it is, without Foundation's trimming, which
/// costs microseconds a call; anything else goes to Foundation (other
/// Unicode blanks).
func trimmed(_ s: String) -> String {
  let utf8 = s.utf8
  guard let first = utf8.first, let last = utf8.last else { return s }
  if first < 0x80 && last < 0x80 && first != 0x20 && first != 0x09 && last != 0x20 && last != 0x09 { return s }
  return s.trimmingCharacters(in: .whitespaces)
}

extension TabularEncoder {
  /// ``init(fitting:columns:names:trainingRows:missing:maxCategories:missingMarkers:ignoredColumns:missingIndicators:)``
  /// for a table read a chunk of rows at a time: ``add(_:firstRow:isTraining:)``
  /// each chunk in file order, then ``finish()``. What it keeps does not grow
  /// with the rows: per column, a sum, a count, the first text and missing
  /// field, the counts of at most ``countedCategories`` text values and a
  /// sample for the median. Errors name rows of the whole table (`firstRow +`
  /// the chunk's row).
  ///
  /// The median (``MissingValueStrategy/median``) is that of a uniform
  /// sample of at most ``medianSampleSize`` training values per column (a
  /// reservoir, seeded by the column's place): exact for columns with no more
  /// training values than that, within a fraction of a percentile beyond.
  public struct StreamingFit: Sendable {
    struct Column: Sendable {
      var numbersSeen = false
      var firstText: (row: Int, text: String)?
      var firstMissing: (row: Int, marker: String)?
      /// Training counts of the text values, for at most `countedCategories` distinct ones.
      var categories: [String: Int] = [:]
      var textValues = 0
      var trainingMissing = false
      var sum = 0.0
      var count = 0
      /// The reservoir of training values, when the fill is a median.
      var sample: [Double] = []
      var random: SplitMix64

      /// Keeps `v` in the reservoir with probability sample size / values seen (Algorithm R).
      mutating func sampleValue(_ v: Double, capacity: Int) {
        if sample.count < capacity {
          sample.append(v)
        } else {
          let j = Int(random.next() % UInt64(count))
          if j < capacity { sample[j] = v }
        }
      }
    }

    /// The most training values per column a streamed median is taken from.
    public static let medianSampleSize = 1 << 16
    /// The most distinct text values counted per column (the others are not
    /// among the most frequent, or the column is an identifier).
    public static let countedCategories = 1 << 16

    let prototype: TabularEncoder
    let tableColumns: [Int]
    let names: [String]
    let maxCategories: Int
    let missingIndicators: Bool
    var state: [Column]

    public init(
      columns: [Int], names: [String], missing: MissingValueStrategy = .error, maxCategories: Int = 50,
      missingMarkers: [String] = TabularEncoder.defaultMissingMarkers, ignoredColumns: [String] = [],
      missingIndicators: Bool = false
    ) {
      if names.count != columns.count {
        shapeFailure(
          "TabularEncoder.StreamingFit: \(names.count) names for \(columns.count) columns; they must be equal")
      }
      prototype = TabularEncoder(
        columns: [], missing: missing, missingMarkers: missingMarkers, ignoredColumns: ignoredColumns)
      tableColumns = columns
      self.names = names
      self.maxCategories = maxCategories
      self.missingIndicators = missingIndicators
      state = columns.indices.map { Column(random: SplitMix64(seed: 0x6D65_6469_616E &+ UInt64($0))) }
    }

    /// Scans the rows of `table`, rows `firstRow…` of the whole table;
    /// `isTraining[firstRow + r]` tells whether row r is a training row.
    /// Throws a ``TabularError`` at the first bad field (its row in the whole table).
    public mutating func add(_ table: some RawTable, firstRow: Int, isTraining: [Bool]) throws(TabularError) {
      let m = table.rowCount
      for (k, c) in tableColumns.enumerated() {
        var s = state[k]
        for r in 0..<m {
          switch prototype.field(table, r, c) {
          case .number(let v):
            guard Float(v).isFinite else {
              throw .notFinite(row: firstRow + r, column: c, found: table.text(row: r, column: c))
            }
            if isTraining[firstRow + r] {
              s.sum += v
              s.count += 1
              if prototype.missing == .median { s.sampleValue(v, capacity: Self.medianSampleSize) }
            }
            s.numbersSeen = true
          case .text(let t):
            if s.firstText == nil { s.firstText = (firstRow + r, t) }
            if isTraining[firstRow + r] {
              s.textValues += 1
              if s.categories.count < Self.countedCategories || s.categories[t] != nil {
                s.categories[t, default: 0] += 1
              }
            }
          case .missing(let marker):
            if s.firstMissing == nil { s.firstMissing = (firstRow + r, marker) }
            if isTraining[firstRow + r] { s.trainingMissing = true }
            if prototype.missing == .error { throw .missingValue(row: firstRow + r, column: c, found: marker) }
          }
          if s.numbersSeen, let t = s.firstText {
            throw .notANumber(row: t.row, column: c, found: t.text)
          }
        }
        state[k] = s
      }
    }

    /// The fitted encoder: a text column with more than `maxCategories`
    /// categories keeps its most frequent ones. Throws
    /// ``TabularError/tooManyCategories(column:count:limit:)`` for a text column
    /// that looks like an identifier (at least half as many distinct values as
    /// values), and ``TabularError/noTrainingValues(column:)``.
    public func finish() throws(TabularError) -> TabularEncoder {
      var encoder = prototype
      let missing = prototype.missing
      for (k, s) in state.enumerated() {
        let c = tableColumns[k]
        if s.firstText == nil {
          var fill: Double?
          if s.firstMissing != nil || missing != .error {
            if missing != .zero && s.count == 0 { throw .noTrainingValues(column: c) }
            fill =
              missing == .median
              ? TabularEncoder.fill(s.sample, .median) : missing == .zero ? 0 : s.sum / Double(s.count)
          }
          encoder.columns.append(
            FeatureColumn(
              name: names[k], encoding: .numeric(fill: fill), allowsMissing: missing != .error,
              missingIndicator: missingIndicators && s.trainingMissing && fill != nil))
        } else {
          if s.categories.isEmpty { throw .noTrainingValues(column: c) }
          // An identifier cannot be left out here (the columns are fixed by now): the caller names it.
          if s.categories.count > maxCategories && 2 * s.categories.count >= s.textValues {
            throw .tooManyCategories(column: c, count: s.categories.count, limit: maxCategories)
          }
          let (kept, grouped) = TabularEncoder.keptCategories(s.categories, limit: maxCategories)
          encoder.columns.append(
            FeatureColumn(
              name: names[k], encoding: .oneHot(categories: kept), allowsMissing: missing != .error,
              missingIndicator: missingIndicators && s.trainingMissing && missing != .error,
              otherCategory: grouped != nil))
        }
      }
      return encoder
    }
  }
}
