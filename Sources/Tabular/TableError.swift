import Foundation

/// A problem with the data or a file, as one line the user can act on: what
/// is wrong and where (`file:line: column N (name): message`).
///
/// Everything in this module that reads a table, a model file or a cache
/// throws it; a shape mismatch in the library API (a programmer's error)
/// traps instead. ``description`` is the whole line.
public struct TableError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The whole message, place first.
  public var description: String
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
  public init(_ description: String) { self.description = description }

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
