import ArgumentParser
import Foundation
import Tabular

/// A failure the user can act on: printed as one line, `blasnet: error: …`,
/// with exit status 1. The library's ``TableError`` (a data or file problem
/// with its place) is the CLI's error too; ``BLASNetCommand/run(arguments:)``
/// also turns ArgumentParser's own errors (unknown option, a value
/// `validate()` refused) into the same one line.
typealias CLIError = TableError

extension BLASNetCommand {
  /// One line for an error ArgumentParser threw while parsing or validating.
  static func oneLine(_ error: Error) -> String {
    message(for: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }.joined(separator: " ")
  }
}
