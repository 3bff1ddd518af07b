import ArgumentParser
import Foundation

extension BLASNetCommand {
  struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write one prediction (class and probability) per row of a CSV file.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Where to write the predictions as CSV (default, or -: standard output).")
    var output: String?

    func run() throws {
      if let output {
        try OutputPaths.check(
          outputs: [("--output", output)], inputs: [("--data", options.data), ("--model", options.model)])
      }
      let model = try options.load()
      let data = try Dataset.forModel(path: options.data, model: model, requireLabel: false)
      let p = try data.predictions(of: model)
      let classes = ClassLabels(model: model)
      var csv = ""
      if p.rows == 1 {
        // The probability of the positive class; the class at the model's threshold (or --threshold).
        let threshold = Float(options.threshold ?? model.decisionThreshold)
        csv += "probability,class\n"
        for j in 0..<p.columns {
          csv += "\(p[0, j]),\(csvField(classes.name(p[0, j] >= threshold ? 1 : 0)))\n"
        }
      } else {
        csv +=
          "class,probability," + (0..<classes.count).map { csvField("p_\(classes.name($0))") }.joined(separator: ",")
          + "\n"
        let best = p.argmaxOfEachColumn()
        for j in 0..<p.columns {
          csv += "\(csvField(classes.name(best[j]))),\(p[best[j], j]),"
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
