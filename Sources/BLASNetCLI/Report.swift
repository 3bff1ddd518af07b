import Foundation
import LinearAlgebra
import NeuralNetwork

/// The metrics table of a model on one or more labelled data sets.
struct Report {
  let model: SavedModel
  let classes: ClassLabels
  /// Whether inputs far outside the training data get a warning line (not
  /// for the training run's own report on its own split).
  let warnFarValues: Bool

  init(model: SavedModel, warnFarValues: Bool = true) {
    self.model = model
    self.warnFarValues = warnFarValues
    self.classes = ClassLabels(model: model)
  }

  /// Throws if a label is not one of the model's classes.
  func checkLabels(_ data: Dataset) throws(CLIError) {
    for (j, label) in data.labels!.enumerated() where classes.index(of: label) == nil {
      throw CLIError.at(
        data.file, line: data.lines[j], name: nil,
        "label \(formatLabel(label)) is not one of the model's classes \(classes.values.map(formatLabel))")
    }
  }

  func probabilities(_ data: Dataset) throws(CLIError) -> Matrix<Float> {
    try data.predictions(of: model, warnFarValues: warnFarValues)
  }

  /// Metrics side by side for each named data set, then the confusion matrix of the last.
  func table(_ sets: [(name: String, data: Dataset)]) throws(CLIError) -> String {
    let nameWidth = 13
    let columnWidth = max(9, sets.map(\.name.count).max()! + 2)
    func row(_ title: String, _ cells: [String]) -> String {
      title.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        + cells.map { String(repeating: " ", count: max(0, columnWidth - $0.count)) + $0 }.joined()
    }
    func cell(_ v: Double?) -> String { v.map { format($0, 4) } ?? "n/a" }
    var lines = [row("", sets.map(\.name))]
    var confusion: [[Int]] = []
    if model.network.outputSize == 1 {
      var metrics: [BinaryMetrics] = []
      for s in sets {
        metrics.append(BinaryMetrics(probabilities: try probabilities(s.data), labels: classes.targets(s.data.labels!)))
      }
      lines.append(row("accuracy", metrics.map { cell($0.accuracy) }))
      lines.append(row("sensitivity", metrics.map { cell($0.sensitivity) }))
      lines.append(row("specificity", metrics.map { cell($0.specificity) }))
      lines.append(row("precision", metrics.map { cell($0.precision) }))
      lines.append(row("F1", metrics.map { cell($0.f1) }))
      lines.append(row("ROC AUC", metrics.map { cell($0.rocAUC) }))
      let c = metrics.last!.confusion
      confusion = [[c.trueNegatives, c.falsePositives], [c.falseNegatives, c.truePositives]]
    } else {
      var metrics: [MulticlassMetrics] = []
      for s in sets {
        metrics.append(
          MulticlassMetrics(
            predicted: try probabilities(s.data).argmaxOfEachColumn(),
            actual: classes.indices(s.data.labels!), classCount: classes.count))
      }
      lines.append(row("accuracy", metrics.map { cell($0.accuracy) }))
      confusion = metrics.last!.confusion
    }
    lines.append("")
    lines.append("Confusion matrix (\(sets.last!.name)): rows are the actual class, columns the predicted one")
    let labels = (0..<classes.count).map(classes.name)
    let width = max(6, labels.map(\.count).max()! + 1, confusion.joined().map { String($0).count }.max()! + 1)
    func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
    lines.append(String(repeating: " ", count: 10) + labels.map(pad).joined())
    for (k, r) in confusion.enumerated() {
      lines.append(
        ("  " + labels[k]).padding(toLength: 10, withPad: " ", startingAt: 0) + r.map { pad(String($0)) }.joined())
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Progress while training, on standard error: a bar redrawn in place on a
/// terminal, a plain line every tenth of the run otherwise.
struct ProgressReporter {
  let epochs: Int
  let quiet: Bool
  let terminal = isatty(STDERR_FILENO) == 1
  var lastDrawn = ContinuousClock.now - .seconds(1)

  init(epochs: Int, quiet: Bool) {
    self.epochs = epochs
    self.quiet = quiet
  }

  mutating func report(_ p: TrainingProgress) -> TrainingControl {
    if quiet { return .proceed }
    if terminal {
      let now = ContinuousClock.now
      if now - lastDrawn < .milliseconds(50) && p.epoch != p.epochs { return .proceed }
      lastDrawn = now
      let width = 30
      let done = width * p.epoch / max(1, p.epochs)
      let bar = String(repeating: "=", count: done) + String(repeating: " ", count: width - done)
      write("\r  epoch \(p.epoch)/\(p.epochs) [\(bar)] cost \(format(p.cost, 4))\(validation(p))")
    } else if p.epoch == 1 || p.epoch % max(1, epochs / 10) == 0 || p.epoch == p.epochs {
      write("  epoch \(p.epoch)/\(p.epochs)  cost \(format(p.cost, 4))\(validation(p))\n")
    }
    return .proceed
  }

  func validation(_ p: TrainingProgress) -> String {
    guard let c = p.validationCost else { return "" }
    return "  validation \(format(c, 4))" + (p.validationAccuracy.map { " (accuracy \(format($0, 4)))" } ?? "")
  }

  func finish() {
    if !quiet && terminal { write("\n") }
  }

  func write(_ s: String) {
    fflush(nil)  // flush stdout: keep the order of stdout and stderr lines when both go to one place
    FileHandle.standardError.write(Data(s.utf8))
  }
}

/// The cost history as a small self-contained SVG line chart: the training
/// cost and, when there is one, the validation cost, with a legend, labelled
/// axes and ticks at round values.
enum CostPlot {
  static func svg(history: TrainingHistory, title: String) -> String {
    let (w, h) = (640.0, 400.0)
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0)
    let series = [
      (name: "training", color: "#1f77b4", points: history.costs.filter { $0.cost.isFinite }),
      (name: "validation", color: "#ff7f0e", points: history.validationCosts.filter { $0.cost.isFinite }),
    ].filter { !$0.points.isEmpty }
    let all = series.flatMap(\.points)
    let xTicks = niceTicks(upTo: Double(max(1, all.map(\.epoch).max() ?? 1)))
    let yTicks = niceTicks(upTo: max(all.map(\.cost).max() ?? 1, 1e-12))
    let (maxEpoch, maxCost) = (xTicks.last!, yTicks.last!)
    func x(_ e: Double) -> Double { left + (w - left - right) * e / maxEpoch }
    func y(_ c: Double) -> Double { h - bottom - (h - top - bottom) * c / maxCost }
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(Int(w / 2))" y="22" text-anchor="middle" font-size="14">\(escape(title))</text>

      """
    for c in yTicks {
      let yy = format(y(c), 1)
      s += "<line x1=\"\(left)\" y1=\"\(yy)\" x2=\"\(w - right)\" y2=\"\(yy)\" stroke=\"#ddd\"/>\n"
      s += "<text x=\"\(left - 6)\" y=\"\(format(y(c) + 4, 1))\" text-anchor=\"end\">\(tickLabel(c))</text>\n"
    }
    for e in xTicks {
      let xx = format(x(e), 1)
      s += "<line x1=\"\(xx)\" y1=\"\(h - bottom)\" x2=\"\(xx)\" y2=\"\(h - bottom + 5)\" stroke=\"black\"/>\n"
      s += "<text x=\"\(xx)\" y=\"\(h - bottom + 18)\" text-anchor=\"middle\">\(tickLabel(e))</text>\n"
    }
    s += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
    s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
    s += "<text x=\"\(Int((left + w - right) / 2))\" y=\"\(Int(h - 12))\" text-anchor=\"middle\">epoch</text>\n"
    s += "<text x=\"16\" y=\"\(Int((top + h - bottom) / 2))\" text-anchor=\"middle\" "
    s += "transform=\"rotate(-90 16 \(Int((top + h - bottom) / 2)))\">cost</text>\n"
    for (k, line) in series.enumerated() {
      let path = line.points.map { "\(format(x(Double($0.epoch)), 1)),\(format(y($0.cost), 1))" }
        .joined(separator: " ")
      s += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
      // The legend, top right.
      let ly = top + 14 + 18 * Double(k)
      let lx = w - right - 130
      s +=
        "<line x1=\"\(lx)\" y1=\"\(ly)\" x2=\"\(lx + 24)\" y2=\"\(ly)\" stroke=\"\(line.color)\" stroke-width=\"2\"/>\n"
      s += "<text x=\"\(lx + 30)\" y=\"\(ly + 4)\">\(line.name) cost</text>\n"
    }
    if let best = history.bestEpoch, history.restoredBestWeights || history.stoppedByEarlyStopping {
      let bx = format(x(Double(best)), 1)
      s +=
        "<line x1=\"\(bx)\" y1=\"\(top)\" x2=\"\(bx)\" y2=\"\(h - bottom)\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/>\n"
      s += "<text x=\"\(bx)\" y=\"\(top - 4)\" text-anchor=\"middle\" fill=\"#2ca02c\">best, epoch \(best)</text>\n"
    }
    return s + "</svg>\n"
  }

  /// Ticks from 0 at a round step (1, 2 or 5 × 10ᵏ), about four of them,
  /// the last at or above `maximum`.
  static func niceTicks(upTo maximum: Double) -> [Double] {
    let raw = maximum / 4
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    let count = Int((maximum / step - 1e-9).rounded(.up))
    return (0...max(1, count)).map { Double($0) * step }
  }

  /// `0`, `0.25`, `200`, `1e-05`: the shortest form of a tick value.
  static func tickLabel(_ v: Double) -> String {
    v == 0 ? "0" : String(format: "%.6g", v)
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }
}
