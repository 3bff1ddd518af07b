import LinearAlgebra

/// Counts of a two-class confusion matrix (class 1 is "positive").
public struct BinaryConfusion: Equatable, Sendable {
  public var truePositives = 0
  public var falsePositives = 0
  public var trueNegatives = 0
  public var falseNegatives = 0

  public var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }

  public init(truePositives: Int = 0, falsePositives: Int = 0, trueNegatives: Int = 0, falseNegatives: Int = 0) {
    self.truePositives = truePositives
    self.falsePositives = falsePositives
    self.trueNegatives = trueNegatives
    self.falseNegatives = falseNegatives
  }
}

/// Quality of a binary classifier on labelled data.
///
/// A ratio whose denominator is zero (e.g. precision when nothing was
/// predicted positive) is reported as `nil`, not as NaN or 0.
public struct BinaryMetrics: Sendable {
  public let confusion: BinaryConfusion
  /// Area under the ROC curve, from the probabilities (ties count one half);
  /// `nil` when only one class is present in the labels.
  public let rocAUC: Double?

  /// Metrics for `probabilities` (1 × m) against 0/1 `labels` (1 × m) at `threshold`.
  ///
  /// Traps unless both are 1 × m with the same m.
  public init<S: BLASScalar>(probabilities: Matrix<S>, labels: Matrix<S>, threshold: S = 0.5) {
    if probabilities.rows != 1 || probabilities.shape != labels.shape {
      shapeFailure(
        "BinaryMetrics: probabilities and labels must both be 1×m; probabilities are \(probabilities.shape), labels are \(labels.shape)"
      )
    }
    var c = BinaryConfusion()
    for (p, y) in zip(probabilities.elements, labels.elements) {
      switch (p >= threshold, y >= 0.5) {
      case (true, true): c.truePositives += 1
      case (true, false): c.falsePositives += 1
      case (false, false): c.trueNegatives += 1
      case (false, true): c.falseNegatives += 1
      }
    }
    confusion = c
    rocAUC = BinaryMetrics.auc(
      scores: probabilities.elements.map { Double($0) }, positive: labels.elements.map { $0 >= 0.5 })
  }

  /// (TP + TN) / all.
  public var accuracy: Double { Double(confusion.truePositives + confusion.trueNegatives) / Double(confusion.total) }
  /// TP / (TP + FP).
  public var precision: Double? { ratio(confusion.truePositives, confusion.truePositives + confusion.falsePositives) }
  /// TP / (TP + FN), also called sensitivity.
  public var recall: Double? { ratio(confusion.truePositives, confusion.truePositives + confusion.falseNegatives) }
  /// Same as ``recall``.
  public var sensitivity: Double? { recall }
  /// TN / (TN + FP).
  public var specificity: Double? { ratio(confusion.trueNegatives, confusion.trueNegatives + confusion.falsePositives) }
  /// 2·precision·recall / (precision + recall) = 2TP / (2TP + FP + FN).
  public var f1: Double? {
    ratio(
      2 * confusion.truePositives, 2 * confusion.truePositives + confusion.falsePositives + confusion.falseNegatives)
  }

  func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }

  /// The Mann–Whitney form of the AUC: the probability that a random positive
  /// scores above a random negative, with ties counting one half.
  public static func auc(scores: [Double], positive: [Bool]) -> Double? {
    let nPos = positive.filter { $0 }.count
    let nNeg = positive.count - nPos
    if nPos == 0 || nNeg == 0 { return nil }
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    // Average ranks (1-based) over runs of equal scores.
    var rankSumPositive = 0.0
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
      let averageRank = Double(i + j + 2) / 2
      for k in i...j where positive[order[k]] { rankSumPositive += averageRank }
      i = j + 1
    }
    let u = rankSumPositive - Double(nPos * (nPos + 1)) / 2
    return u / Double(nPos * nNeg)
  }
}

/// Quality of a multi-class classifier.
/// A regression's errors: scikit-learn's `mean_absolute_error`,
/// `root_mean_squared_error` and `r2_score`.
public struct RegressionMetrics: Sendable {
  public let count: Int
  public let meanAbsoluteError: Double
  public let rootMeanSquaredError: Double
  /// 1 − Σ(y − ŷ)² / Σ(y − ȳ)²: 0 for predicting the mean, 1 for exact
  /// predictions, negative for worse than the mean (nil when every y is equal).
  public let r2: Double?

  public init(predicted: [Double], actual: [Double]) {
    if predicted.count != actual.count {
      shapeFailure("RegressionMetrics: \(predicted.count) predictions for \(actual.count) values; they must be equal")
    }
    count = actual.count
    let n = Double(Swift.max(count, 1))
    let mean = actual.reduce(0, +) / n
    var (absolute, squared, total) = (0.0, 0.0, 0.0)
    for (p, y) in zip(predicted, actual) {
      absolute += Swift.abs(p - y)
      squared += (p - y) * (p - y)
      total += (y - mean) * (y - mean)
    }
    meanAbsoluteError = count == 0 ? .nan : absolute / n
    rootMeanSquaredError = count == 0 ? .nan : (squared / n).squareRoot()
    r2 = total > 0 ? 1 - squared / total : nil
  }
}

public struct MulticlassMetrics: Sendable {
  /// `matrix[actual][predicted]` counts.
  public let confusion: [[Int]]

  /// From predicted and actual class indices in `0..<classCount`.
  public init(predicted: [Int], actual: [Int], classCount: Int) {
    if predicted.count != actual.count {
      shapeFailure("MulticlassMetrics: \(predicted.count) predictions but \(actual.count) labels; they must be equal")
    }
    var c = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    for (p, a) in zip(predicted, actual) {
      if !(0..<classCount).contains(p) || !(0..<classCount).contains(a) {
        shapeFailure("MulticlassMetrics: class \(Swift.max(p, a)) is outside 0..<\(classCount)")
      }
      c[a][p] += 1
    }
    confusion = c
  }

  /// Correct / all.
  public var accuracy: Double {
    let total = confusion.joined().reduce(0, +)
    let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
    return total == 0 ? 0 : Double(correct) / Double(total)
  }
}

extension MulticlassMetrics {
  /// Precision, recall, F1 and support of one class (scikit-learn's
  /// `classification_report` row); a ratio with a zero denominator is nil.
  public struct ClassReport: Equatable, Sendable {
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    /// Examples of this class among the labels.
    public var support: Int
  }

  /// One report per class, in class order.
  public var perClass: [ClassReport] {
    confusion.indices.map { k in
      let truePositives = confusion[k][k]
      let predicted = confusion.indices.reduce(0) { $0 + confusion[$1][k] }
      let support = confusion[k].reduce(0, +)
      let precision = predicted == 0 ? nil : Double(truePositives) / Double(predicted)
      let recall = support == 0 ? nil : Double(truePositives) / Double(support)
      let f1 = (predicted + support) == 0 ? nil : 2 * Double(truePositives) / Double(predicted + support)
      return ClassReport(precision: precision, recall: recall, f1: f1, support: support)
    }
  }

  /// The unweighted mean over classes of precision, recall and F1 (a class
  /// whose ratio is undefined counts as 0, as scikit-learn's default does).
  public var macroAverage: (precision: Double, recall: Double, f1: Double) {
    let r = perClass
    let n = Double(Swift.max(r.count, 1))
    return (
      r.reduce(0) { $0 + ($1.precision ?? 0) } / n, r.reduce(0) { $0 + ($1.recall ?? 0) } / n,
      r.reduce(0) { $0 + ($1.f1 ?? 0) } / n
    )
  }

  /// The mean over classes weighted by support.
  public var weightedAverage: (precision: Double, recall: Double, f1: Double) {
    let r = perClass
    let total = Double(Swift.max(r.reduce(0) { $0 + $1.support }, 1))
    func mean(_ value: (ClassReport) -> Double?) -> Double {
      r.reduce(0) { $0 + (value($1) ?? 0) * Double($1.support) } / total
    }
    return (mean(\.precision), mean(\.recall), mean(\.f1))
  }
}

/// The ROC curve of binary scores: one point per distinct threshold, from
/// the highest threshold (nothing predicted positive: (0, 0)) to the lowest
/// (everything positive: (1, 1)). A threshold t predicts positive when the
/// score is ≥ t.
public struct ROCCurve: Sendable {
  public struct Point: Equatable, Sendable {
    /// Scores ≥ this are predicted positive (+∞ for the first point).
    public var threshold: Double
    /// False-positive rate (1 − specificity) and true-positive rate (sensitivity).
    public var falsePositiveRate: Double
    public var truePositiveRate: Double
    public var specificity: Double { 1 - falsePositiveRate }
    public var sensitivity: Double { truePositiveRate }
  }

  public let points: [Point]

  /// The curve of `scores` against `positive`; nil unless both classes occur.
  public init?(scores: [Double], positive: [Bool]) {
    if scores.count != positive.count {
      shapeFailure("ROCCurve: \(scores.count) scores but \(positive.count) labels; they must be equal")
    }
    let nPos = positive.filter { $0 }.count
    let nNeg = positive.count - nPos
    if nPos == 0 || nNeg == 0 { return nil }
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var points = [Point(threshold: .infinity, falsePositiveRate: 0, truePositiveRate: 0)]
    var (tp, fp) = (0, 0)
    var i = 0
    while i < order.count {
      let t = scores[order[i]]
      while i < order.count && scores[order[i]] == t {
        if positive[order[i]] { tp += 1 } else { fp += 1 }
        i += 1
      }
      points.append(
        Point(threshold: t, falsePositiveRate: Double(fp) / Double(nNeg), truePositiveRate: Double(tp) / Double(nPos)))
    }
    self.points = points
  }

  /// The area under the curve by the trapezoid rule (equal to
  /// ``BinaryMetrics/auc(scores:positive:)``, ties counting one half).
  public var area: Double {
    zip(points, points.dropFirst()).reduce(0) {
      $0 + ($1.1.falsePositiveRate - $1.0.falsePositiveRate) * ($1.0.truePositiveRate + $1.1.truePositiveRate) / 2
    }
  }

  /// The highest threshold whose sensitivity is at least `target`: the most
  /// specific operating point that still finds that share of the positives.
  public func threshold(forSensitivity target: Double) -> Point {
    points.first { $0.truePositiveRate >= target - 1e-12 } ?? points[points.count - 1]
  }

  /// The lowest threshold whose specificity is at least `target`: the most
  /// sensitive operating point that keeps false alarms that rare.
  public func threshold(forSpecificity target: Double) -> Point {
    points.last { $0.specificity >= target - 1e-12 } ?? points[0]
  }
}
