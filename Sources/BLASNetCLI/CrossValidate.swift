import ArgumentParser
import Foundation
import LinearAlgebra
import Tabular

extension BLASNetCommand {
  struct CrossValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "cv",
      abstract:
        "Cross-validate the training options: the rows dealt into stratified folds, the whole pipeline fitted without each fold and measured on it.",
      discussion:
        "Every option of train applies inside each fold (--test-fraction excepted: the fold is the test split; a validation split is still held out of the other folds for early stopping, a threshold or a calibration)."
    )

    @OptionGroup var training: TrainingArguments
    @Option(help: "Folds, stratified by class (a regression: by tenths of the label's range).")
    var folds = 5
    @Option(help: "Repeats of the whole cross-validation, each with the rows dealt anew.")
    var repeats = 1
    @Flag(help: "Fit the folds one after another (default: as many at once as there are cores).")
    var sequential = false
    @Option(
      help: ArgumentHelp(
        "Where to write a self-contained HTML report of the folds and their spread (default: none).",
        valueName: "file.html"))
    var report: String?

    func validate() throws {
      guard folds >= 2 else { throw ValidationError("--folds must be at least 2, got \(folds)") }
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
      guard training.x == nil else { throw ValidationError("cv reads a CSV table (--data); --x/--y are not supported") }
      guard !training.stream && training.cache == nil else {
        throw ValidationError("cv reads the table in memory: --stream and --cache do not apply")
      }
    }

    func run() throws {
      applyThreads(training.threads)
      let path = try training.data ?? Train.builtInDataPath()
      if let file = report { try OutputPaths.check(outputs: [("--report", file)], inputs: [("--data", path)]) }
      let result = try TabularModel.crossValidate(
        .csvFile(path), options: try training.fitOptions(), folds: folds, repeats: repeats, parallel: !sequential)
      let name = training.data ?? "built-in breast-cancer data (wdbc.csv)"
      try StandardOutput.print(Self.text(result, seed: training.seed, name: name))
      if let file = report {
        try OutputPaths.write(Data(Self.page(result, name: name).utf8), to: file)
        try StandardOutput.print(file == "-" ? "" : "\nWrote the report to \(file)")
      }
    }

    /// The report: a line per fold, then the mean, standard deviation and 95 % interval of each metric.
    static func text(_ r: TabularModel.CrossValidationReport, seed: UInt64, name: String) -> String {
      var lines: [String] = []
      let what = r.classNames.isEmpty ? "a number" : "\(r.classNames.count) classes"
      lines.append("Data:    \(name): \(r.exampleCount) examples, label \"\(r.labelName)\" (\(what))")
      let rounds = Set(r.folds.map(\.round)).count
      lines.append(
        "Folds:   \(r.folds.count / rounds) stratified\(rounds > 1 ? ", \(rounds) repeats" : "") (seed \(seed)); \(r.parallelFolds) fitted at a time, each with single-threaded BLAS; \(formatDuration(r.time)) in all"
      )
      lines.append("")
      let names = r.summary.map(\.name)
      let width = max(12, (names.map(\.count).max() ?? 0) + 2)
      func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
      lines.append(
        "repeat fold  rows" + names.map(pad).joined() + pad("epochs"))
      for f in r.folds {
        let values = r.summary.map { s -> String in
          let v = TabularModel.CrossValidationReport.value(s.name, f.metrics)
          return v.map { format($0, 4) } ?? "n/a"
        }
        lines.append(
          String(format: "%6d %4d %5d", f.round, f.fold, f.testRows.count) + values.map(pad).joined()
            + pad(String(f.epochsRun)))
      }
      lines.append("")
      lines.append(
        "over the \(r.folds.count) folds" + String(repeating: " ", count: 3) + "mean ± sd (95 % interval of the mean)")
      for s in r.summary {
        lines.append("  " + s.name.padding(toLength: 14, withPad: " ", startingAt: 0) + spread(s, of: r.folds.count))
      }
      return lines.joined(separator: "\n")
    }

    /// `0.9500 ± 0.0200 (0.9000–1.0000)`, then `, 4 of 44 folds` when the
    /// metric has a value on fewer than all; `n/a` when on none.
    static func spread(_ s: TabularModel.CrossValidationReport.Summary, of folds: Int) -> String {
      guard let mean = s.mean else { return "n/a" }
      var text = format(mean, 4)
      if let sd = s.standardDeviation, let interval = s.interval {
        text += " ± \(format(sd, 4)) (\(format(interval.lower, 4))–\(format(interval.upper, 4)))"
      }
      return s.folds < folds ? text + ", \(s.folds) of \(folds) folds" : text
    }
  }
}
