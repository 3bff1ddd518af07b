import ArgumentParser
import Foundation
import Tabular
import TabularONNX

extension BLASNetCommand {
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a model as ONNX, to run wherever ONNX runs (ONNX Runtime, …).",
      discussion: """
        The graph takes the raw columns of the training table: the numeric ones as the float input \
        "input" [N, n] (NaN for a missing value, filled as in training), the categorical ones, if any, \
        as the string input "categories" [N, k] (one-hot encoded in the graph); the standardisation \
        is folded into the first layer. Outputs: "probabilities" [N, classes], "probability" (two \
        classes: the positive class's), "class_index" (with the model's threshold), or "value" for a \
        regression. Class names, threshold and columns are in the model's metadata.
        """
    )

    @Argument(help: "The model file (from blasnet train or import).")
    var model: String
    @Option(help: "Where to write the ONNX model (written atomically).")
    var onnx: String
    @Flag(
      help:
        "Standardise the numeric inputs in Sub and Div nodes of their own rather than folding the standardisation into the first layer's weights."
    )
    var standardizationNodes = false

    func run() throws {
      try OutputPaths.check(outputs: [("--onnx", onnx)], inputs: [("model", model)])
      let loaded: TabularModel
      do {
        loaded = try TabularModel.load(from: model)
      } catch {
        throw CLIError("\(error)")
      }
      let bytes: [UInt8]
      do {
        bytes = try loaded.onnxModel(foldingStandardization: !standardizationNodes)
      } catch {
        let ensemble = loaded.networks.count > 1 && loaded.calibrator != nil
        throw CLIError("\(error)" + (ensemble ? " (blasnet train --ensemble 1 trains one)" : ""))
      }
      try OutputPaths.write(Data(bytes), to: onnx)
      let columns = loaded.inputEncoder.columns
      let categorical = columns.filter { !$0.isNumeric }.count
      var inputs: [String] = []
      if columns.count > categorical {
        inputs.append("\"\(ONNXNames.numericInput)\" [N, \(columns.count - categorical)]")
      }
      if categorical > 0 { inputs.append("\"\(ONNXNames.categoricalInput)\" [N, \(categorical)] (text)") }
      try StandardOutput.print(
        "Wrote \(onnx): \(loaded.networkDescription), inputs \(inputs.joined(separator: " and ")) (\(bytes.count) bytes)"
      )
    }
  }
}
