import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular

/// The metrics table of a model on one or more labelled data sets, as the
/// CLI prints it, and its ROC plot.
struct Report {
  let evaluation: Evaluation

  init(model: TabularModel) { evaluation = Evaluation(model: model) }

  var model: TabularModel { evaluation.model }
  var classes: ClassLabels { evaluation.classes }
  var threshold: Double { evaluation.threshold }

  /// The metric rows of `sets`, a cell per set: "0.974 (0.947–0.991)" with a
  /// bootstrap interval, "0.9737" without.
  func metricCells(_ sets: [TabularModel.SplitMetrics]) -> [(name: String, cells: [String])] {
    func cell(_ v: Double?) -> String { v.map { format($0, 4) } ?? "n/a" }
    typealias Metric = (String, (TabularModel.SplitMetrics) -> Double?)
    let metrics: [Metric]
    if model.isRegression {
      metrics = [
        ("MAE", { $0.regression?.meanAbsoluteError }), ("RMSE", { $0.regression?.rootMeanSquaredError }),
        ("R²", { $0.regression?.r2 }),
      ]
    } else if model.network.outputSize == 1 {
      metrics = [
        ("accuracy", { $0.binary?.accuracy }), ("sensitivity", { $0.binary?.sensitivity }),
        ("specificity", { $0.binary?.specificity }), ("precision", { $0.binary?.precision }),
        ("F1", { $0.binary?.f1 }), ("ROC AUC", { $0.binary?.rocAUC }),
        ("Brier score", { $0.calibration?.brierScore }), ("ECE", { $0.calibration?.expectedCalibrationError }),
      ]
    } else {
      metrics = [
        ("accuracy", { $0.multiclass?.accuracy }), ("macro F1", { $0.multiclass?.macroAverage.f1 }),
        ("weighted F1", { $0.multiclass?.weightedAverage.f1 }), ("Brier score", { $0.calibration?.brierScore }),
        ("ECE", { $0.calibration?.expectedCalibrationError }),
      ]
    }
    return metrics.map { name, value in
      (name, sets.map { set in set.intervals?[name].map { "\($0)" } ?? cell(value(set)) })
    }
  }

  /// "95 % bootstrap intervals from 1000 resamples of the rows", naming each
  /// set's count when they differ (a large split draws fewer); nil without intervals.
  static func intervalNote(_ sets: [TabularModel.SplitMetrics]) -> String? {
    let counts = sets.compactMap { s in s.intervals.map { (s.name, $0.resamples) } }
    guard let first = counts.first else { return nil }
    if counts.allSatisfy({ $0.1 == first.1 }) {
      return "95 % bootstrap intervals from \(first.1) resamples of the rows"
    }
    return "95 % bootstrap intervals from " + counts.map { "\($0.1) (\($0.0))" }.joined(separator: " and ")
      + " resamples of the rows"
  }

  /// Metrics side by side for each data set, then the confusion matrix of
  /// the last (and for several classes, its per-class report).
  func table(_ sets: [TabularModel.SplitMetrics], thresholdNote: String? = nil) -> String {
    let nameWidth = 13
    // A metric with a bootstrap interval reads "0.974 (0.947–0.991)".
    let widest = sets.flatMap { $0.intervals?.metrics.map { "\($0.interval)".count } ?? [] }.max() ?? 0
    let columnWidth = max(9, widest + 3, sets.map(\.name.count).max()! + 2)
    func row(_ title: String, _ cells: [String]) -> String {
      title.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        + cells.map { String(repeating: " ", count: max(0, columnWidth - $0.count)) + $0 }.joined()
    }
    var lines = [row("", sets.map(\.name))] + metricCells(sets).map { row($0.name, $0.cells) }
    if let note = Self.intervalNote(sets) { lines.append("(\(note))") }
    var confusion: [[Int]] = []
    var perClass: MulticlassMetrics?
    if model.isRegression {
      lines.append("(MAE and RMSE in the units of \(model.labelName.map { "\"\($0)\"" } ?? "the label"))")
      return lines.joined(separator: "\n") + "\n"
    }
    if model.network.outputSize == 1 {
      let metrics = sets.map { $0.binary! }
      lines.append("")
      lines.append(
        "Threshold: \(format(threshold, 4)) (\(thresholdNote ?? (model.threshold == nil ? "the default" : "the model's"))): an output ≥ it predicts \(classes.name(1))"
      )
      let c = metrics.last!.confusion
      confusion = [[c.trueNegatives, c.falsePositives], [c.falseNegatives, c.truePositives]]
    } else {
      let metrics = sets.map { $0.multiclass! }
      confusion = metrics.last!.confusion
      perClass = metrics.last!
    }
    lines.append("")
    lines.append("Confusion matrix (\(sets.last!.name)): rows are the actual class, columns the predicted one")
    let labels = (0..<classes.count).map(classes.name)
    let width = max(6, labels.map(\.count).max()! + 1, confusion.joined().map { String($0).count }.max()! + 1)
    let margin = max(10, labels.map(\.count).max()! + 4)
    func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
    lines.append(String(repeating: " ", count: margin) + labels.map(pad).joined())
    for (k, r) in confusion.enumerated() {
      lines.append(
        ("  " + labels[k]).padding(toLength: margin, withPad: " ", startingAt: 0) + r.map { pad(String($0)) }.joined())
    }
    if let perClass {
      lines.append("")
      lines.append(contentsOf: classReport(perClass, labels: labels, name: sets.last!.name))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// scikit-learn's `classification_report`: precision, recall, F1 and
  /// support per class, then the macro and weighted averages.
  func classReport(_ m: MulticlassMetrics, labels: [String], name: String) -> [String] {
    let title = "Per class (\(name))"
    let first = max(title.count + 1, labels.map(\.count).max()! + 4, 16)
    func row(_ title: String, _ cells: [String]) -> String {
      title.padding(toLength: first, withPad: " ", startingAt: 0)
        + cells.map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
    }
    func cell(_ v: Double?) -> String { v.map { format($0, 4) } ?? "n/a" }
    var lines = [row(title, ["precision", "recall", "F1", "support"])]
    for (k, r) in m.perClass.enumerated() {
      lines.append(row("  " + labels[k], [cell(r.precision), cell(r.recall), cell(r.f1), String(r.support)]))
    }
    let total = String(m.perClass.reduce(0) { $0 + $1.support })
    for (title, a) in [("  macro avg", m.macroAverage), ("  weighted avg", m.weightedAverage)] {
      lines.append(row(title, [cell(a.precision), cell(a.recall), cell(a.f1), total]))
    }
    return lines
  }

  /// The ROC curve of `data` as SVG: one curve for a binary model, with its
  /// operating point at the threshold; one-vs-rest curves for several classes.
  func rocPlot(_ data: Dataset, title: String) throws(CLIError) -> String {
    let (curves, point) = try evaluation.rocCurves(data)
    if curves.isEmpty {
      throw CLIError("--roc: the test split has examples of one class only, so it has no ROC curve")
    }
    let operating = point.map { m in
      (
        1 - (m.specificity ?? 0), m.sensitivity ?? 0,
        "threshold \(format(threshold, 3)): sensitivity \(format(m.sensitivity ?? 0, 3)), specificity \(format(m.specificity ?? 0, 3))"
      )
    }
    return ROCPlot.svg(curves: curves, operatingPoint: operating, title: title)
  }
}

/// Progress while training, on standard error: a bar redrawn in place on a
/// terminal, a plain line every tenth of the run otherwise.
struct ProgressReporter {
  let quiet: Bool
  let terminal = isatty(STDERR_FILENO) == 1
  var lastDrawn = ContinuousClock.now - .seconds(1)

  init(quiet: Bool) {
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
    } else if p.epoch == 1 || p.epoch % max(1, p.epochs / 10) == 0 || p.epoch == p.epochs {
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
    // Standard output is written as it comes (StandardOutput): no buffer to flush before this line.
    StandardError.write(s)
  }
}

/// A small self-contained SVG line chart: a title, labelled axes with ticks
/// at round values, grid lines, polylines and a legend.
struct Chart {
  let width = 640.0
  let height = 400.0
  let left = 70.0
  let right = 20.0
  let top = 40.0
  let bottom = 50.0
  let xTicks: [Double]
  let yTicks: [Double]
  /// The legend's corner: top right, or (given its number of entries)
  /// bottom right, where ROC curves leave room.
  let legendRowsAtBottom: Int?
  private(set) var body = ""
  private var legendEntries = 0

  init(
    title: String, xLabel: String, yLabel: String, xTicks: [Double], yTicks: [Double],
    legendRowsAtBottom: Int? = nil
  ) {
    self.xTicks = xTicks
    self.yTicks = yTicks
    self.legendRowsAtBottom = legendRowsAtBottom
    let (w, h) = (width, height)
    body = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(Int(w / 2))" y="22" text-anchor="middle" font-size="14">\(Chart.escape(title))</text>

      """
    for c in yTicks {
      let yy = format(y(c), 1)
      body += "<line x1=\"\(left)\" y1=\"\(yy)\" x2=\"\(w - right)\" y2=\"\(yy)\" stroke=\"#ddd\"/>\n"
      body += "<text x=\"\(left - 6)\" y=\"\(format(y(c) + 4, 1))\" text-anchor=\"end\">\(Chart.tickLabel(c))</text>\n"
    }
    for e in xTicks {
      let xx = format(x(e), 1)
      body += "<line x1=\"\(xx)\" y1=\"\(h - bottom)\" x2=\"\(xx)\" y2=\"\(h - bottom + 5)\" stroke=\"black\"/>\n"
      body += "<text x=\"\(xx)\" y=\"\(h - bottom + 18)\" text-anchor=\"middle\">\(Chart.tickLabel(e))</text>\n"
    }
    body += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
    body += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
    body +=
      "<text x=\"\(Int((left + w - right) / 2))\" y=\"\(Int(h - 12))\" text-anchor=\"middle\">\(Chart.escape(xLabel))</text>\n"
    body += "<text x=\"16\" y=\"\(Int((top + h - bottom) / 2))\" text-anchor=\"middle\" "
    body += "transform=\"rotate(-90 16 \(Int((top + h - bottom) / 2)))\">\(Chart.escape(yLabel))</text>\n"
  }

  /// The SVG x of data value `v`.
  func x(_ v: Double) -> Double { left + (width - left - right) * v / xTicks.last! }
  /// The SVG y of data value `v`.
  func y(_ v: Double) -> Double { height - bottom - (height - top - bottom) * v / yTicks.last! }

  /// A line through `points`, with an entry `name` in the legend (top right).
  mutating func line(_ points: [(x: Double, y: Double)], name: String, color: String, dash: String? = nil) {
    let path = points.map { "\(format(x($0.x), 1)),\(format(y($0.y), 1))" }.joined(separator: " ")
    let dashing = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
    body += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dashing) points=\"\(path)\"/>\n"
    let row = Double(legendEntries - (legendRowsAtBottom ?? 0))
    let ly = (legendRowsAtBottom == nil ? top + 14 : height - bottom - 14) + 18 * row
    let lx = width - right - 190
    body +=
      "<line x1=\"\(lx)\" y1=\"\(ly)\" x2=\"\(lx + 24)\" y2=\"\(ly)\" stroke=\"\(color)\" stroke-width=\"2\"\(dashing)/>\n"
    body += "<text x=\"\(lx + 30)\" y=\"\(ly + 4)\">\(Chart.escape(name))</text>\n"
    legendEntries += 1
  }

  /// SVG elements added as they are.
  mutating func add(_ svg: String) { body += svg }

  var svg: String { body + "</svg>\n" }

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

/// The cost history as a chart: the training cost and, when there is one,
/// the validation cost, with the kept epoch marked.
enum CostPlot {
  static func svg(history: TrainingHistory, title: String) -> String {
    let series = [
      (name: "training cost", color: "#1f77b4", points: history.costs.filter { $0.cost.isFinite }),
      (name: "validation cost", color: "#ff7f0e", points: history.validationCosts.filter { $0.cost.isFinite }),
    ].filter { !$0.points.isEmpty }
    let all = series.flatMap(\.points)
    var chart = Chart(
      title: title, xLabel: "epoch", yLabel: "cost",
      xTicks: Chart.niceTicks(upTo: Double(max(1, all.map(\.epoch).max() ?? 1))),
      yTicks: Chart.niceTicks(upTo: max(all.map(\.cost).max() ?? 1, 1e-12)))
    for s in series {
      chart.line(s.points.map { (Double($0.epoch), $0.cost) }, name: s.name, color: s.color)
    }
    if let best = history.bestEpoch, history.restoredBestWeights || history.stoppedByEarlyStopping {
      let bx = format(chart.x(Double(best)), 1)
      let (top, bottom) = (chart.top, chart.height - chart.bottom)
      chart.add(
        "<line x1=\"\(bx)\" y1=\"\(top)\" x2=\"\(bx)\" y2=\"\(bottom)\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/>\n"
      )
      chart.add(
        "<text x=\"\(bx)\" y=\"\(top - 4)\" text-anchor=\"middle\" fill=\"#2ca02c\">best, epoch \(best)</text>\n")
    }
    return chart.svg
  }
}

/// ROC curves as a chart: sensitivity against 1 − specificity, the AUC of
/// each curve in the legend, the chance diagonal, and a binary model's
/// operating point.
enum ROCPlot {
  static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

  static func svg(
    curves: [(name: String, curve: ROCCurve)], operatingPoint: (fpr: Double, tpr: Double, label: String)?,
    title: String
  ) -> String {
    let ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    var chart = Chart(
      title: title, xLabel: "1 − specificity (false-positive rate)", yLabel: "sensitivity (true-positive rate)",
      xTicks: ticks, yTicks: ticks, legendRowsAtBottom: curves.count)
    chart.line([(0, 0), (1, 1)], name: "chance (AUC 0.5)", color: "#999", dash: "4 3")
    for (k, c) in curves.enumerated() {
      chart.line(
        c.curve.points.map { ($0.falsePositiveRate, $0.truePositiveRate) },
        name: "\(c.name) (AUC \(format(c.curve.area, 3)))", color: colors[k % colors.count])
    }
    if let p = operatingPoint {
      let (px, py) = (format(chart.x(p.fpr), 1), format(chart.y(p.tpr), 1))
      chart.add("<circle cx=\"\(px)\" cy=\"\(py)\" r=\"5\" fill=\"#d62728\"/>\n")
      let anchor = p.fpr > 0.5 ? "end" : "start"
      let dx = p.fpr > 0.5 ? -8.0 : 8.0
      chart.add(
        "<text x=\"\(format(chart.x(p.fpr) + dx, 1))\" y=\"\(format(chart.y(p.tpr) + 16, 1))\" text-anchor=\"\(anchor)\" fill=\"#d62728\">\(Chart.escape(p.label))</text>\n"
      )
    }
    return chart.svg
  }
}

extension TabularModel {
  /// "Network [30 → 100 ReLU → 1 sigmoid]", or "… × 2, averaged" for an ensemble.
  var networkDescription: String {
    networks.count > 1 ? "\(network) × \(networks.count), averaged" : "\(network)"
  }
}
