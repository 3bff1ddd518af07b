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
      let data = try Dataset.forModel(path: options.data, model: model, requireLabel: true)
      let report = Report(model: model, threshold: options.threshold, warnFarValues: true)
      try report.evaluation.checkLabels(data)
      print("Model: \(model.network) from \(options.model)")
      let how = options.threshold == nil ? nil : "--threshold"
      let name = URL(fileURLWithPath: options.data).lastPathComponent
      print(report.table([try report.evaluation.metrics(name: name, data)], thresholdNote: how))
    }
  }
}
