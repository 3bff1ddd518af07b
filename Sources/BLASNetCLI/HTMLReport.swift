import Foundation
import NeuralNetwork
import Tabular

/// One self-contained HTML page: inline CSS and SVG, no script, nothing
/// fetched from anywhere (it opens the same offline, in a mail, in ten years).
struct HTMLPage {
  let title: String
  private var body = ""

  init(title: String) { self.title = title }

  static func escape(_ s: String) -> String { Chart.escape(s).replacingOccurrences(of: "\"", with: "&quot;") }

  mutating func heading(_ text: String) { body += "<h2>\(Self.escape(text))</h2>\n" }

  mutating func paragraph(_ text: String) { body += "<p>\(Self.escape(text))</p>\n" }

  /// A table; the first column is a header column when `rowHeaders`.
  mutating func table(header: [String], rows: [[String]], caption: String? = nil, rowHeaders: Bool = true) {
    body += "<table>\n"
    if let caption { body += "<caption>\(Self.escape(caption))</caption>\n" }
    body += "<tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>\n"
    for row in rows {
      body += "<tr>"
      for (k, cell) in row.enumerated() {
        body += k == 0 && rowHeaders ? "<th>\(Self.escape(cell))</th>" : "<td>\(Self.escape(cell))</td>"
      }
      body += "</tr>\n"
    }
    body += "</table>\n"
  }

  /// An SVG chart (already made by this module, so inserted as it is) with a caption.
  mutating func figure(_ svg: String, caption: String) {
    body += "<figure>\n\(svg)<figcaption>\(Self.escape(caption))</figcaption>\n</figure>\n"
  }

  var html: String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(Self.escape(title))</title>
    <style>
    body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; line-height: 1.4; }
    h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
    table { border-collapse: collapse; margin: 1em 0; }
    th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; font-variant-numeric: tabular-nums; }
    th { background: #f4f4f4; } tr th:first-child { text-align: left; }
    caption { text-align: left; font-style: italic; padding-bottom: 0.3em; }
    figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; max-width: 640px; }
    </style>
    </head>
    <body>
    <h1>\(Self.escape(title))</h1>
    \(body)<p class="footer">Made by blasnet on \(ISO8601DateFormatter().string(from: Date())).</p>
    </body>
    </html>

    """
  }
}

/// The reliability diagram: the share of positives (or of right answers)
/// against the mean predicted probability in each bin, with the diagonal
/// of perfect calibration; each point's area follows its bin's rows.
enum ReliabilityPlot {
  static func svg(_ c: CalibrationMetrics, title: String) -> String {
    let ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    var chart = Chart(
      title: title, xLabel: c.binsOfConfidence ? "confidence (top class's probability)" : "predicted probability",
      yLabel: c.binsOfConfidence ? "share right" : "share positive", xTicks: ticks, yTicks: ticks,
      legendRowsAtBottom: 2)
    chart.line([(0, 0), (1, 1)], name: "perfectly calibrated", color: "#999", dash: "4 3")
    chart.line(
      c.bins.map { ($0.meanPredicted, $0.observed) }, name: "this model (ECE \(format(c.expectedCalibrationError, 3)))",
      color: "#1f77b4")
    let most = Double(c.bins.map(\.count).max() ?? 1)
    for b in c.bins {
      let r = 3 + 7 * (Double(b.count) / most).squareRoot()
      chart.add(
        "<circle cx=\"\(format(chart.x(b.meanPredicted), 1))\" cy=\"\(format(chart.y(b.observed), 1))\" r=\"\(format(r, 1))\" fill=\"#1f77b4\" fill-opacity=\"0.6\"><title>\(b.count) rows, predicted \(format(b.meanPredicted, 3)), observed \(format(b.observed, 3))</title></circle>\n"
      )
    }
    return chart.svg
  }
}

/// Horizontal bars: a value per name with a ± whisker (permutation
/// importance), or dots per fold (the cross-validation spread).
enum BarPlot {
  static func svg(title: String, axis: String, rows: [(name: String, value: Double, spread: Double)]) -> String {
    let nameWidth = Double(min(220, 8 * (rows.map(\.name.count).max() ?? 4) + 16))
    let (width, rowHeight, top) = (720.0, 20.0, 40.0)
    let height = top + rowHeight * Double(rows.count) + 40
    let most = max(rows.map { $0.value + $0.spread }.max() ?? 0, 1e-12)
    let low = min(0, rows.map { $0.value - $0.spread }.min() ?? 0)
    let span = most - low
    func x(_ v: Double) -> Double { nameWidth + (width - nameWidth - 20) * (v - low) / span }
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="14">\(Chart.escape(title))</text>

      """
    let zero = format(x(0), 1)
    s += "<line x1=\"\(zero)\" y1=\"\(top - 4)\" x2=\"\(zero)\" y2=\"\(format(height - 36, 1))\" stroke=\"#999\"/>\n"
    for (k, r) in rows.enumerated() {
      let y = top + rowHeight * Double(k)
      s +=
        "<text x=\"\(format(nameWidth - 8, 1))\" y=\"\(format(y + 14, 1))\" text-anchor=\"end\">\(Chart.escape(r.name))</text>\n"
      let (a, b) = (x(min(0, r.value)), x(max(0, r.value)))
      s +=
        "<rect x=\"\(format(a, 1))\" y=\"\(format(y + 4, 1))\" width=\"\(format(max(0.5, b - a), 1))\" height=\"12\" fill=\"#1f77b4\"><title>\(Chart.escape(r.name)): \(format(r.value, 4)) ± \(format(r.spread, 4))</title></rect>\n"
      if r.spread > 0 {
        let (l, h) = (format(x(r.value - r.spread), 1), format(x(r.value + r.spread), 1))
        s += "<line x1=\"\(l)\" y1=\"\(format(y + 10, 1))\" x2=\"\(h)\" y2=\"\(format(y + 10, 1))\" stroke=\"#222\"/>\n"
      }
    }
    s +=
      "<text x=\"\(format((nameWidth + width) / 2, 1))\" y=\"\(format(height - 12, 1))\" text-anchor=\"middle\">\(Chart.escape(axis))</text>\n"
    return s + "</svg>\n"
  }

  /// Each metric's fold values as dots on a 0–1 line (errors on their own scale), with the mean marked.
  static func spread(title: String, metrics: [(name: String, values: [Double], mean: Double)]) -> String {
    let (width, rowHeight, top, nameWidth) = (720.0, 28.0, 44.0, 110.0)
    let height = top + rowHeight * Double(metrics.count) + 20
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="14">\(Chart.escape(title))</text>

      """
    for (k, m) in metrics.enumerated() {
      let y = top + rowHeight * Double(k)
      let low = min(m.values.min() ?? 0, m.mean)
      let high = max(m.values.max() ?? 1, m.mean)
      let pad = max((high - low) * 0.1, 1e-9)
      func x(_ v: Double) -> Double {
        nameWidth + 60 + (width - nameWidth - 140) * (v - low + pad) / (high - low + 2 * pad)
      }
      s +=
        "<text x=\"\(format(nameWidth, 1))\" y=\"\(format(y + 4, 1))\" text-anchor=\"end\">\(Chart.escape(m.name))</text>\n"
      s += "<text x=\"\(format(nameWidth + 8, 1))\" y=\"\(format(y + 4, 1))\" fill=\"#555\">\(format(low, 3))</text>\n"
      s += "<text x=\"\(format(width - 70, 1))\" y=\"\(format(y + 4, 1))\" fill=\"#555\">\(format(high, 3))</text>\n"
      s +=
        "<line x1=\"\(format(x(low), 1))\" y1=\"\(format(y, 1))\" x2=\"\(format(x(high), 1))\" y2=\"\(format(y, 1))\" stroke=\"#ccc\"/>\n"
      for v in m.values {
        s +=
          "<circle cx=\"\(format(x(v), 1))\" cy=\"\(format(y, 1))\" r=\"4\" fill=\"#1f77b4\" fill-opacity=\"0.7\"><title>\(format(v, 4))</title></circle>\n"
      }
      s +=
        "<line x1=\"\(format(x(m.mean), 1))\" y1=\"\(format(y - 8, 1))\" x2=\"\(format(x(m.mean), 1))\" y2=\"\(format(y + 8, 1))\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
    }
    return s + "</svg>\n"
  }
}

extension Report {
  /// The confusion matrix of the last set as table rows (actual × predicted).
  func confusionRows(_ last: TabularModel.SplitMetrics) -> [[String]] {
    let labels = (0..<classes.count).map(classes.name)
    var matrix: [[Int]] = []
    if let c = last.binary?.confusion {
      matrix = [[c.trueNegatives, c.falsePositives], [c.falseNegatives, c.truePositives]]
    } else if let m = last.multiclass {
      matrix = m.confusion
    }
    return matrix.enumerated().map { [labels[$0]] + $1.map(String.init) }
  }

  /// `blasnet train --report`: what the run did and every chart of the test split.
  func trainingPage(
    _ fitted: TabularModel.FitReport, source: String, importance: TabularModel.ImportanceReport?
  ) throws(CLIError) -> String {
    let p = fitted.preparation
    var page = HTMLPage(title: "BLASNet training report — \(source)")
    page.paragraph(
      "\(p.exampleCount) examples, label \"\(p.labelName)\"; \(p.trainCount) training, \(p.validationCount ?? 0) validation and \(p.testCount) test rows (stratified). \(model.networkDescription), \(fitted.history.epochsRun) epochs\(model.networks.count > 1 ? " (the first network)" : "") in \(formatDuration(fitted.trainingTime))."
    )
    page.heading("Metrics")
    let cells = metricCells(fitted.metrics)
    page.table(
      header: [""] + fitted.metrics.map(\.name), rows: cells.map { [$0.name] + $0.cells },
      caption: Report.intervalNote(fitted.metrics).map { $0 + ", in brackets" })
    if !model.isRegression {
      if model.network.outputSize == 1 {
        page.paragraph(
          "Threshold \(format(threshold, 4)) (\(fitted.thresholdNote)): an output at or above it predicts \(classes.name(1))."
        )
      }
      if let note = fitted.calibrationNote { page.paragraph("Calibration: \(note).") }
      page.heading("Confusion matrix (\(fitted.metrics.last!.name))")
      page.table(
        header: ["actual ↓ predicted →"] + (0..<classes.count).map(classes.name),
        rows: confusionRows(fitted.metrics.last!))
    }
    page.heading("Learning curves")
    page.figure(
      CostPlot.svg(history: fitted.history, title: "Cost — \(model.network)"),
      caption: "The training and validation cost per epoch; a dashed line marks the epoch whose weights were kept.")
    if !model.isRegression {
      page.heading("ROC curve (test)")
      if fitted.test.count == 0 {
        page.paragraph("No ROC curve: no test rows were held out.")
      } else {
        do {
          page.figure(
            try rocPlot(fitted.test, title: "ROC (test split)"),
            caption: "Sensitivity against 1 − specificity over every threshold; the red point is the model's threshold."
          )
        } catch {
          page.paragraph("No ROC curve: \(error)")
        }
      }
      if let last = fitted.metrics.last, let calibration = last.calibration {
        page.heading("Reliability (\(last.name))")
        page.figure(
          ReliabilityPlot.svg(calibration, title: "Reliability (\(last.name) split)"),
          caption:
            "Each point is a tenth of the probability range: the mean predicted probability against the share that came true; points on the diagonal mean a prediction of 0.8 comes true 8 times in 10. Brier score \(format(calibration.brierScore, 4))."
        )
      }
    }
    if let importance { addImportance(importance, to: &page, on: "the test split") }
    return page.html
  }

  /// The permutation importance's chart and table.
  func addImportance(_ r: TabularModel.ImportanceReport, to page: inout HTMLPage, on rows: String) {
    page.heading("Permutation importance (\(rows))")
    page.figure(
      BarPlot.svg(
        title: "Drop of the \(r.score) when a column is shuffled",
        axis: "drop of the \(r.score) (mean ± sd of \(r.repeats) shuffles)",
        rows: r.columns.map { ($0.name, $0.mean, $0.standardDeviation) }),
      caption:
        "\(r.score) \(format(r.baseline, 4)) on \(r.rows) rows as they are; a column whose shuffling costs nothing is one the model does not use (or one whose information another column also carries)."
    )
    page.table(
      header: ["column", "drop (mean)", "sd"],
      rows: r.columns.map { [$0.name, format($0.mean, 4), format($0.standardDeviation, 4)] })
  }
}

extension BLASNetCommand.CrossValidate {
  /// `blasnet cv --report`: the spread over the folds.
  static func page(_ r: TabularModel.CrossValidationReport, name: String) -> String {
    var page = HTMLPage(title: "BLASNet cross-validation — \(name)")
    page.paragraph(
      "\(r.exampleCount) examples, label \"\(r.labelName)\"; \(r.folds.count) folds, each model fitted (encoder, standardisation, network, threshold) without its fold's rows and measured on them."
    )
    page.heading("Over the folds")
    page.table(
      header: ["metric", "mean", "sd", "95 % interval of the mean", "folds"],
      rows: r.summary.map { s in
        [
          s.name, s.mean.map { format($0, 4) } ?? "n/a", s.standardDeviation.map { format($0, 4) } ?? "n/a",
          s.interval.map { "\(format($0.lower, 4))–\(format($0.upper, 4))" } ?? "n/a",
          s.folds < r.folds.count ? "\(s.folds) of \(r.folds.count)" : "all \(r.folds.count)",
        ]
      })
    page.figure(
      BarPlot.spread(
        title: "Each fold's value (dots) and the mean (red)",
        metrics: r.summary.compactMap { s in
          s.mean.map {
            (s.name, r.folds.compactMap { TabularModel.CrossValidationReport.value(s.name, $0.metrics) }, $0)
          }
        }),
      caption: "A wide spread means the result depends on which rows a model is tested on.")
    page.heading("Each fold")
    page.table(
      header: ["repeat", "fold", "rows"] + r.summary.map(\.name) + ["epochs"],
      rows: r.folds.map { f in
        ["\(f.round)", "\(f.fold)", "\(f.testRows.count)"]
          + r.summary.map { s in
            TabularModel.CrossValidationReport.value(s.name, f.metrics).map { format($0, 4) } ?? "n/a"
          }
          + ["\(f.epochsRun)"]
      })
    return page.html
  }
}
