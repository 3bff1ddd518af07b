import ArgumentParser
import Foundation
import Tabular

extension BLASNetCommand {
  struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Rank a model's input columns by permutation importance on a labelled CSV file: how much the ROC AUC (accuracy for several classes, R² for a regression) drops when a column's values are shuffled across the rows."
    )

    @Argument(help: "The model file written by `blasnet train --save`.")
    var model: String
    @Option(
      help:
        "The labelled CSV file (held-out rows, ideally: rows the model trained on flatter the columns it memorised).")
    var data: String
    @Option(help: "Shuffles of each column; the drop is their mean ± standard deviation.")
    var repeats = 5
    @Option(help: "Seeds the shuffles.")
    var seed: UInt64 = 42
    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
    var threads: Int?
    @Option(
      help: ArgumentHelp(
        "Where to write a self-contained HTML report of the ranking (default: none).", valueName: "file.html"))
    var report: String?

    func validate() throws {
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
      try validateThreads(threads)
    }

    func run() throws {
      applyThreads(threads)
      if let file = report {
        try OutputPaths.check(outputs: [("--report", file)], inputs: [("--data", data), ("model", model)])
      }
      let loaded: TabularModel
      do {
        loaded = try TabularModel.load(from: model)
      } catch {
        throw CLIError("\(error)")
      }
      let ranking = try loaded.permutationImportance(csvFile: data, repeats: repeats, seed: seed)
      try StandardOutput.print("Model:   \(loaded.networkDescription) from \(model)")
      try StandardOutput.print(
        "Data:    \(data): \(ranking.rows) rows; \(ranking.score) \(format(ranking.baseline, 4)) as they are")
      try StandardOutput.print(
        "Importance: the drop of the \(ranking.score) when a column's values are shuffled across the rows (mean ± sd of \(repeats) shuffles, seed \(seed)); one-hot columns are shuffled as the column they came from"
      )
      try StandardOutput.print("")
      try StandardOutput.print(Self.table(ranking))
      if let file = report {
        var page = HTMLPage(title: "BLASNet permutation importance — \(data)")
        page.paragraph("Model \(loaded.networkDescription) from \(model).")
        Report(model: loaded).addImportance(ranking, to: &page, on: data)
        try OutputPaths.write(Data(page.html.utf8), to: file)
        if file != "-" { try StandardOutput.print("\nWrote the report to \(file)") }
      }
    }

    /// The ranking, a line per column.
    static func table(_ report: TabularModel.ImportanceReport) -> String {
      let width = max(8, report.columns.map(\.name.count).max() ?? 0) + 2
      var lines = ["rank  " + "column".padding(toLength: width, withPad: " ", startingAt: 0) + "drop (mean ± sd)"]
      for (k, c) in report.columns.enumerated() {
        lines.append(
          String(format: "%4d  ", k + 1) + c.name.padding(toLength: width, withPad: " ", startingAt: 0)
            + "\(format(c.mean, 4)) ± \(format(c.standardDeviation, 4))")
      }
      return lines.joined(separator: "\n")
    }
  }
}
