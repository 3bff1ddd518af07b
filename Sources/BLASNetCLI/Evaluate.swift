import ArgumentParser
import Foundation
import Tabular

extension BLASNetCommand {
  struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print a trained model's metrics on a labelled CSV file.")

    @OptionGroup var options: ModelOptions

    func run() throws {
      let model = try options.load()
      let evaluation = try model.evaluate(csvFile: options.data)
      tell(evaluation.notes)
      print("Model: \(model.network) from \(options.model)")
      let how = options.threshold == nil ? nil : "--threshold"
      print(Report(model: model).table([evaluation.metrics], thresholdNote: how))
    }
  }
}

/// The library's warnings and notes about the data, on standard error.
func tell(_ notes: [DataNote]) {
  for n in notes {
    FileHandle.standardError.write(Data("blasnet: \(n.isWarning ? "warning: " : "")\(n.text)\n".utf8))
  }
}
