import Foundation
import LinearAlgebra
import NeuralNetwork

extension TabularModel {
  /// How much each raw input column matters to a model: scikit-learn's
  /// `permutation_importance`, by original column.
  public struct ImportanceReport: Sendable {
    /// One raw column of the table.
    public struct Column: Sendable {
      public var name: String
      /// The mean drop of the score over the repeats when the column's values
      /// are shuffled across the rows (a one-hot column's inputs shuffled
      /// together, as the column it came from), and its sample standard deviation.
      public var mean: Double
      public var standardDeviation: Double
      /// The drop of each repeat.
      public var drops: [Double]
    }

    /// The score: `ROC AUC` (two classes), `accuracy` (more), `R²` (a regression).
    public var score: String
    /// The score on the rows as they are.
    public var baseline: Double
    /// The columns, most important first.
    public var columns: [Column]
    public var rows: Int
    public var repeats: Int
  }

  /// Permutation importance on the labelled CSV file at `path` (read whole,
  /// as ``evaluate(csvFile:bootstrap:seed:)`` reads it): each raw column's
  /// values are shuffled across the rows `repeats` times (seeded by `seed`),
  /// and the drop of the score (ROC AUC for two classes, accuracy for more,
  /// R² for a regression) is its importance. A column the model ignores
  /// drops it by nothing; the ranking is by the mean drop.
  public func permutationImportance(csvFile path: String, repeats: Int = 5, seed: UInt64 = 42) throws(TableError)
    -> ImportanceReport
  {
    guard repeats >= 1 else { throw TableError("permutation importance needs at least 1 repeat, got \(repeats)") }
    let data = try Dataset.forModel(path: path, model: self, requireLabel: true)
    try Evaluation(model: self).checkLabels(data)
    return try permutationImportance(data, repeats: repeats, seed: seed)
  }

  package func permutationImportance(_ data: Dataset, repeats: Int, seed: UInt64) throws(TableError) -> ImportanceReport
  {
    let m = data.count
    guard m >= 2 else { throw TableError("\(data.file): permutation importance needs at least 2 rows, got \(m)") }
    let classes = ClassLabels(model: self)
    let actualClasses = isRegression ? [] : classes.indices(data.labels!)
    let actualValues = isRegression ? try data.targetValues() : []
    let scoreName = isRegression ? "R²" : network.outputSize == 1 ? "ROC AUC" : "accuracy"
    let x = data.x
    func score(_ x: Matrix<Float>) -> Double {
      let p = probabilities(standardizedInputs: standardizer?.transform(x) ?? x)
      if let target {
        return RegressionMetrics(predicted: (0..<m).map { target.value(p[0, $0]) }, actual: actualValues).r2 ?? .nan
      }
      if p.rows == 1 {
        return BinaryMetrics.auc(scores: p.elements.map(Double.init), positive: actualClasses.map { $0 == 1 }) ?? .nan
      }
      let predicted = p.argmaxOfEachColumn()
      return Double(zip(predicted, actualClasses).filter { $0 == $1 }.count) / Double(m)
    }
    let baseline = score(x)
    guard baseline.isFinite else {
      throw TableError(
        "\(data.file): the \(scoreName) of the model on these rows is undefined (one class only, or a constant label): nothing to measure a drop from"
      )
    }
    let encoder = inputEncoder
    var first = 0
    var columns: [ImportanceReport.Column] = []
    var random = Xoshiro256StarStar(seed: seed)
    for column in encoder.columns {
      let inputs = first..<(first + column.width)
      first += column.width
      var drops: [Double] = []
      for _ in 0..<repeats {
        let order = random.permutation(m)
        var shuffled = x
        for j in 0..<m {
          for i in inputs { shuffled[i, j] = x[i, order[j]] }
        }
        drops.append(baseline - score(shuffled))
      }
      let mean = drops.reduce(0, +) / Double(repeats)
      let sd =
        repeats > 1
        ? (drops.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(repeats - 1)).squareRoot() : 0
      columns.append(.init(name: column.name, mean: mean, standardDeviation: sd, drops: drops))
    }
    columns.sort { $0.mean > $1.mean }
    return ImportanceReport(score: scoreName, baseline: baseline, columns: columns, rows: m, repeats: repeats)
  }
}
