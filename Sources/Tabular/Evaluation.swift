import LinearAlgebra
import NeuralNetwork

/// A model measured on labelled data sets: its outputs, metrics, ROC curves
/// and operating points.
package struct Evaluation {
  package let model: TabularModel
  package let classes: ClassLabels
  /// A binary model's decision threshold: the model's, unless overridden.
  package let threshold: Double

  package init(model: TabularModel, threshold: Double? = nil) {
    self.model = model
    self.threshold = threshold ?? model.decisionThreshold
    self.classes = ClassLabels(model: model)
  }

  /// Throws if a label is not one of the model's classes.
  package func checkLabels(_ data: Dataset) throws(TableError) {
    if model.isRegression {
      _ = try data.targetValues()
      return
    }
    for (j, label) in data.labels!.enumerated() where classes.index(of: label) == nil {
      throw TableError.at(
        data.file, line: data.line(j), name: nil,
        "label \(quoted(label)) is not one of the model's classes \(list(classes.names))")
    }
  }

  package func probabilities(_ data: Dataset) throws(TableError) -> Matrix<Float> {
    try data.predictions(of: model)
  }

  /// The ROC curve of class `k` against the rest, from the outputs `p` on
  /// examples labelled `labels` (a binary model's single row scores class 1).
  package func rocCurve(_ p: Matrix<Float>, labels: [String], positive k: Int = 1) -> ROCCurve? {
    let actual = classes.indices(labels)
    let row = p.rows == 1 ? 0 : k
    return ROCCurve(scores: (0..<p.columns).map { Double(p[row, $0]) }, positive: actual.map { $0 == k })
  }

  /// The threshold on `data` (the validation split) that reaches `target`
  /// sensitivity (or specificity) with the best specificity (or sensitivity).
  package func operatingPoint(on data: Dataset, target: Double, bySensitivity: Bool) throws(TableError)
    -> ROCCurve.Point
  {
    guard let curve = rocCurve(try probabilities(data), labels: data.labels!) else {
      throw TableError(
        "the validation split has examples of one class only, so no threshold can be chosen on it; use a larger \(Setting.validationFraction.named) or \(Setting.threshold.named)"
      )
    }
    var point = bySensitivity ? curve.threshold(forSensitivity: target) : curve.threshold(forSpecificity: target)
    // The most specific point is "nothing positive" (threshold +∞) when the
    // target allows it; no output reaches a threshold just above 1 either.
    if !(point.threshold <= 1) { point.threshold = 1 }
    return point
  }

  /// The metrics of the model on `data`: at the threshold for two classes,
  /// of the most probable class for more; with bootstrap intervals when
  /// `bootstrap` > 0.
  package func metrics(name: String, _ data: Dataset, bootstrap: Int = 0, seed: UInt64 = 0) throws(TableError)
    -> TabularModel.SplitMetrics
  {
    if let target = model.target {
      let p = try probabilities(data)
      return TabularModel.SplitMetrics(
        name: name, predicted: (0..<p.columns).map { target.value(p[0, $0]) }, actual: try data.targetValues(),
        bootstrap: bootstrap, seed: seed)
    }
    return TabularModel.SplitMetrics(
      name: name, outputs: try probabilities(data), classes: classes.indices(data.labels!), threshold: threshold,
      bootstrap: bootstrap, seed: seed)
  }

  /// The ROC curves of `data`: one for a binary model, one-vs-rest for more
  /// classes (classes absent from `data` have none); a binary model's
  /// operating point at the threshold.
  package func rocCurves(_ data: Dataset) throws(TableError) -> (
    curves: [(name: String, curve: ROCCurve)], operatingPoint: BinaryMetrics?
  ) {
    // One forward pass for every curve and the operating point.
    let p = try probabilities(data)
    var curves: [(name: String, curve: ROCCurve)] = []
    let ks = model.network.outputSize == 1 ? [1] : Array(0..<classes.count)
    for k in ks {
      if let c = rocCurve(p, labels: data.labels!, positive: k) {
        curves.append((ks.count == 1 ? "\(classes.name(k)), positive" : "\(classes.name(k)) vs rest", c))
      }
    }
    let point =
      model.network.outputSize == 1
      ? BinaryMetrics(probabilities: p, labels: classes.targets(data.labels!), threshold: Float(threshold)) : nil
    return (curves, point)
  }
}
