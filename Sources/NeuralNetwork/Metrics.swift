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
