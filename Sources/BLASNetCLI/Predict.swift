import ArgumentParser
import Foundation
import Tabular

extension BLASNetCommand {
  struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write one prediction (class and probability) per row of a CSV file.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Where to write the predictions as CSV (default, or -: standard output).")
    var output: String?

    @Option(
      help: ArgumentHelp(
        "Columns of the input to copy into the output first (an id, say), comma-separated or repeated.",
        valueName: "columns"))
    var keep: [String] = []

    func run() throws {
      if let output {
        try OutputPaths.check(
          outputs: [("--output", output)], inputs: [("--data", options.data), ("--model", options.model)])
      }
      let model = try options.load()
      let names = keep.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        .filter { !$0.isEmpty }
      let table = try model.predict(csvFile: options.data, keep: names)
      tell(table.notes)
      let classes = model.classes
      let keptHeader = table.keptColumns.map { csvField($0.name) + "," }.joined()
      func kept(_ j: Int) -> String { table.keptColumns.map { csvField($0.fields[j]) + "," }.joined() }
      var csv = ""
      if model.network.outputSize == 1 {
        // The probability of the positive class; the class at the model's threshold (or --threshold).
        csv += keptHeader + "probability,class\n"
        for (j, p) in table.predictions.enumerated() {
          csv += kept(j) + "\(p.probabilities[1]),\(csvField(p.className))\n"
        }
      } else {
        csv +=
          keptHeader + "class,probability,"
          + classes.map { csvField("p_\($0)") }.joined(separator: ",") + "\n"
        for (j, p) in table.predictions.enumerated() {
          csv += kept(j) + "\(csvField(p.className)),\(p.probability),"
          csv += p.probabilities.map { "\($0)" }.joined(separator: ",") + "\n"
        }
      }
      if let output, output != "-" {
        try OutputPaths.write(Data(csv.utf8), to: output)
        FileHandle.standardError.write(
          Data("blasnet: wrote \(table.predictions.count) predictions to \(output)\n".utf8))
      } else {
        print(csv, terminator: "")
      }
    }
  }
}

/// `text` as one CSV field: quoted (with doubled quotes) when it has a comma,
/// a quote or a line break.
func csvField(_ text: String) -> String {
  text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
    ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
