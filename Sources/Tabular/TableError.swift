import Foundation

/// A problem with the data or a file, as one line the user can act on: what
/// is wrong and where (`file:line: column N (name): message`).
///
/// Everything in this module that reads a table, a model file or a cache
/// throws it; a shape mismatch in the library API (a programmer's error)
/// traps instead. ``description`` is the whole line.
public struct TableError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The message with each setting it names marked (``Setting/named(_:)``).
  package var template: String
  /// The whole message, place first, settings named as the library spells
  /// them (`validationFraction = 0`; ``message(naming:)`` names them otherwise).
  public var description: String {
    get { message { $0.rawValue + ($1.map { " = \($0)" } ?? "") } }
    set { template = newValue }
  }
  /// The settings the message names (a ``TabularModel/FitOptions`` property
  /// or a parameter of the call), first the one it is about.
  public var settings: [Setting] { Setting.marks(in: template).map(\.setting) }
  /// The file (or `<memory>`) the problem is in, when there is one.
  public var file: String?
  /// The 1-based line of the file.
  public var line: Int?
  /// The 1-based column of the file.
  public var column: Int?
  /// The column's name.
  public var columnName: String?
  /// Whether another process of a group reports this failure (a copy of a
  /// failure that process 0 had too, or news of another process's failure
  /// on a process other than 0): print it only where this is false.
  public var reportedByAnotherProcess = false
  /// Whether the processes of a group compared notes on it (see `ProcessFailure`).
  package var fromAgreement = false

  /// Two errors are equal when their messages are (the place is part of the message).
  public static func == (a: TableError, b: TableError) -> Bool { a.description == b.description }

  /// An error whose message says where on its own.
  public init(_ description: String) { self.template = description }

  /// The message with every setting it names spelt by `name` (given the
  /// setting and the value the message gives it, if any): the command line
  /// names them by their flags.
  public func message(naming name: (Setting, String?) -> String) -> String {
    var text = ""
    var rest = template[...]
    for mark in Setting.marks(in: template) {
      text += rest[..<mark.range.lowerBound]
      text += name(mark.setting, mark.value)
      rest = template[mark.range.upperBound...]
    }
    return text + rest
  }

  /// `file:line: column N (name): message`
  public static func at(
    _ file: String, line: Int, column: Int? = nil, name: String? = nil, _ message: String
  ) -> TableError {
    var place = "\(file):\(line):"
    if let column {
      place += " column \(column)"
      if let name, !name.isEmpty { place += " (\(name))" }
      place += ":"
    }
    var error = TableError("\(place) \(message)")
    (error.file, error.line, error.column, error.columnName) = (file, line, column, name)
    return error
  }
}

/// `s` in double quotes for an error line, cut to at most 80 characters (a
/// 2 GB field must not become a 2 GB error line).
package func quoted(_ s: some StringProtocol) -> String {
  s.count <= 80 ? "\"\(s)\"" : "\"\(s.prefix(79))…\" (\(s.utf8.count) bytes)"
}

/// `"a", "b", "c"` (at most 12 names, then how many more).
package func list(_ names: [String]) -> String {
  let shown = names.prefix(12).map { quoted($0) }.joined(separator: ", ")
  return names.count > 12 ? shown + " and \(names.count - 12) more" : shown
}

/// `v` with `digits` decimals.
package func format(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

/// A setting of a library call that an error message can name: a
/// ``TabularModel/FitOptions`` property (`testFraction`), or a parameter of
/// another call (`keep` of `predict(csvFile:keep:)`). The library's messages
/// spell it as its Swift name; the command line spells it as its flag.
public enum Setting: String, Sendable, CaseIterable {
  case label, task, ignoredColumns, positiveClass, missing, maxCategories, testFraction, testData
  case validationFraction, hiddenLayers, learningRate, batchSize, l2, threshold, calibration
  case classWeights, cacheFolder, cacheLimit, streaming, epochs, keepProbability, bootstrap, earlyStopping
  case hiddenActivation, optimizer, scaling, piecewiseLinearBins, ensembleSize
  /// `predict(csvFile:keep:)`'s columns to copy.
  case keep
  /// The activations of imported weights.
  case activations
  /// Arrays whose examples are rows (`TableSource.npy`).
  case examplesAsRows

  /// The setting marked in a message, to be spelt by whoever shows it.
  public var named: String { "\u{E000}\(rawValue)\u{E001}" }

  /// The setting with a value (`missing = error`), marked in a message.
  public func named(_ value: some CustomStringConvertible) -> String { "\u{E000}\(rawValue)\u{E002}\(value)\u{E001}" }

  /// The marks in `text`, in order.
  static func marks(in text: String) -> [(range: Range<String.Index>, setting: Setting, value: String?)] {
    var found: [(Range<String.Index>, Setting, String?)] = []
    var i = text.startIndex
    while let open = text[i...].firstIndex(of: "\u{E000}"), let close = text[open...].firstIndex(of: "\u{E001}") {
      let inside = text[text.index(after: open)..<close]
      let parts = inside.split(separator: "\u{E002}", maxSplits: 1, omittingEmptySubsequences: false)
      if let setting = Setting(rawValue: String(parts[0])) {
        found.append((open..<text.index(after: close), setting, parts.count > 1 ? String(parts[1]) : nil))
      }
      i = text.index(after: close)
    }
    return found
  }
}
