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

extension Setting {
  /// The flag that sets it on the command line.
  var flag: String {
    switch self {
    case .label: "--label"
    case .task: "--task"
    case .ignoredColumns: "--ignore"
    case .positiveClass: "--positive-class"
    case .missing: "--missing"
    case .maxCategories: "--max-categories"
    case .testFraction: "--test-fraction"
    case .testData: "--test-data"
    case .validationFraction: "--validation-fraction"
    case .hiddenLayers: "--layers"
    case .learningRate: "--learning-rate"
    case .batchSize: "--batch-size"
    case .l2: "--l2"
    case .threshold: "--threshold"
    case .calibration: "--calibrate"
    case .classWeights: "--class-weight"
    case .cacheFolder: "--cache"
    case .cacheLimit: "--cache-limit"
    case .streaming: "--stream"
    case .keep: "--keep"
    case .activations: "--activations"
    case .examplesAsRows: "--examples-as-rows"
    case .epochs: "--epochs"
    case .keepProbability: "--keep-prob"
    case .bootstrap: "--bootstrap"
    case .earlyStopping: "--patience"
    case .hiddenActivation: "--activation"
    case .optimizer: "--optimizer"
    case .scaling: "--scaling"
    case .piecewiseLinearBins: "--bins"
    case .ensembleSize: "--ensemble"
    }
  }
}

extension TableError {
  /// The message as the command line shows it: each setting it names by
  /// its flag (`--validation-fraction 0` where the library says
  /// `validationFraction = 0`).
  var commandLineMessage: String { message { $0.flag + ($1.map { " \($0)" } ?? "") } }
}
