import ArgumentParser
import Foundation
import Tabular

extension BLASNetCommand {
  struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print a trained model's metrics on a labelled CSV file.")

    @OptionGroup var options: ModelOptions
    @Option(
      help:
        "Resamples of the 95 % bootstrap intervals of the metrics (fewer for files over 200,000 rows, at least 100); 0: none."
    )
    var bootstrap = 1000
    @Option(help: "Seeds the bootstrap resamples.")
    var seed: UInt64 = 42

    func validate() throws {
      guard bootstrap >= 0 else { throw ValidationError("--bootstrap must be 0 (none) or more, got \(bootstrap)") }
    }

    func run() throws {
      let model = try options.load()
      let evaluation = try model.evaluate(csvFile: options.data, bootstrap: bootstrap, seed: seed)
      tell(evaluation.notes)
      try StandardOutput.print("Model: \(model.networkDescription) from \(options.model)")
      let how = options.threshold == nil ? nil : "--threshold"
      try StandardOutput.print(Report(model: model).table([evaluation.metrics], thresholdNote: how))
    }
  }
}

/// The library's warnings and notes about the data, on standard error.
func tell(_ notes: [DataNote]) {
  for n in notes {
    StandardError.write("blasnet: \(n.isWarning ? "warning: " : "")\(n.text)\n")
  }
}
