import ArgumentParser
import Foundation
import NeuralNetwork
import Tabular

extension BLASNetCommand {
  struct ImportWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract:
        "Turn another framework's model into a BLASNet model file: ONNX (Gemm/MatMul layers and their activations), NumPy .npz (the course's W1/b1…, PyTorch's 0.weight/0.bias…, Keras's dense/kernel…) or safetensors (an nn.Sequential of Linear layers).",
      discussion:
        "The model's inputs are plain numeric columns x1, x2, … (no encoding, no standardisation); its classes 0, 1, … (or a number when the last activation is identity). An ONNX file that BLASNet exported brings back its columns, their encoding, the classes and the threshold; skl2onnx's names its classes."
    )

    @Argument(help: "The model or weights file (.onnx, .npz, .safetensors).")
    var file: String
    @Option(help: "Where to save the model (written atomically).")
    var save: String
    @Option(
      help: ArgumentHelp(
        "One activation per layer, comma-separated (default: relu on hidden layers, sigmoid or softmax on the last; an ONNX graph names its own).",
        valueName: "list"))
    var activations: String?

    func run() throws {
      var chosen: [Activation]?
      if let activations {
        chosen = []
        for name in activations.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
          guard let a = Activation(name: name) else {
            throw CLIError(
              "--activations: \(quoted(name)) is not an activation (relu, leaky-relu, tanh, sigmoid, identity, softmax)"
            )
          }
          chosen!.append(a)
        }
      }
      try OutputPaths.check(outputs: [("--save", save)], inputs: [("weights", file)])
      let report: TabularModel.ImportReport
      do {
        report =
          file.lowercased().hasSuffix(".onnx")
          ? try TabularModel.importWeights(onnx: file, activations: chosen)
          : try TabularModel.importWeights(file: file, activations: chosen)
      } catch {
        throw error.asTableError
      }
      try StandardOutput.print(
        "Read:    \(file): \(report.layers.count) layers (\(report.layers.map { "\($0.weight), \($0.bias)" }.joined(separator: "; ")))"
      )
      try StandardOutput.print(
        "Network: \(report.model.networkDescription)  (\(report.model.networks.map(\.parameterCount).reduce(0, +)) parameters)"
      )
      if !report.ignored.isEmpty {
        try StandardOutput.print("Ignored: \(report.ignored.joined(separator: ", ")) (after the network's output)")
      }
      if report.largestRounding > 0 {
        try StandardOutput.print(
          "Rounded: float64 to Float, the largest relative change \(String(format: "%.2g", report.largestRounding))")
      }
      let data: Data
      do {
        data = try report.model.encoded()
      } catch {
        throw CLIError("\(error)")
      }
      try OutputPaths.write(data, to: save)
      try StandardOutput.print(
        "Saved the model to \(save) (inputs \(report.model.featureNames!.prefix(3).joined(separator: ", "))\(report.model.network.inputSize > 3 ? ", …" : ""))"
      )
    }
  }
}
