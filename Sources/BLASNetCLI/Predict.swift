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
      let data = try Dataset.forModel(path: options.data, model: model, requireLabel: false, keep: names)
      let p = try data.predictions(of: model)
      let classes = ClassLabels(model: model)
      let keptHeader = data.kept.map { csvField($0.name) + "," }.joined()
      func kept(_ j: Int) -> String { data.kept.map { csvField($0.fields[j]) + "," }.joined() }
      var csv = ""
      if p.rows == 1 {
        // The probability of the positive class; the class at the model's threshold (or --threshold).
        let threshold = Float(options.threshold ?? model.decisionThreshold)
        csv += keptHeader + "probability,class\n"
        for j in 0..<p.columns {
          csv += kept(j) + "\(p[0, j]),\(csvField(classes.name(p[0, j] >= threshold ? 1 : 0)))\n"
        }
      } else {
        csv +=
          keptHeader + "class,probability,"
          + (0..<classes.count).map { csvField("p_\(classes.name($0))") }.joined(separator: ",") + "\n"
        let best = p.argmaxOfEachColumn()
        for j in 0..<p.columns {
          csv += kept(j) + "\(csvField(classes.name(best[j]))),\(p[best[j], j]),"
          csv += (0..<p.rows).map { "\(p[$0, j])" }.joined(separator: ",") + "\n"
        }
      }
      if let output, output != "-" {
        try OutputPaths.write(Data(csv.utf8), to: output)
        FileHandle.standardError.write(Data("blasnet: wrote \(p.columns) predictions to \(output)\n".utf8))
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
