import ArgumentParser
import Foundation

/// A failure the user can act on: printed as one line, `blasnet: error: …`,
/// with exit status 1. Every error of the CLI is one of these by the time it
/// reaches ``BLASNetCommand/run(arguments:)``, which also turns
/// ArgumentParser's own errors (unknown option, a value `validate()` refused)
/// into the same one line.
public struct CLIError: Error, CustomStringConvertible, Equatable {
  public var description: String

  public init(_ description: String) { self.description = description }

  /// `file:line: column N (name): message`
  static func at(_ file: String, line: Int, column: Int? = nil, name: String? = nil, _ message: String) -> CLIError {
    var place = "\(file):\(line):"
    if let column {
      place += " column \(column)"
      if let name, !name.isEmpty { place += " (\(name))" }
      place += ":"
    }
    return CLIError("\(place) \(message)")
  }
}

extension BLASNetCommand {
  /// One line for an error ArgumentParser threw while parsing or validating.
  static func oneLine(_ error: Error) -> String {
    message(for: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }.joined(separator: " ")
  }
}

/// `s` in double quotes for an error line, cut to at most 80 characters (a
/// 2 GB field must not become a 2 GB error line).
func quoted(_ s: some StringProtocol) -> String {
  s.count <= 80 ? "\"\(s)\"" : "\"\(s.prefix(79))…\" (\(s.utf8.count) bytes)"
}

/// Set on every process but the first of a group, so that a warning about
/// the data (which every process reads) is printed once.
nonisolated(unsafe) var warningsAreQuiet = false

/// One line on standard error: `blasnet: warning: …`.
func warn(_ message: String) {
  if warningsAreQuiet { return }
  FileHandle.standardError.write(Data("blasnet: warning: \(message)\n".utf8))
}
