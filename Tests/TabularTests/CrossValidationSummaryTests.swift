import Foundation
import NeuralNetwork
import Testing

@testable import Tabular

/// The summary of a metric over the folds where it has a value.
@Suite struct CrossValidationSummaryTests {
  typealias Summary = TabularModel.CrossValidationReport.Summary

  func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }

  /// Values worked by hand: the mean, the sample deviation, t(df = n − 1)
  /// · sd / √n either side, kept within the metric's range.
  @Test func meansDeviationsAndIntervalsByHand() throws {
    // [1, 0, 1, 1]: mean 0.75; sd √((3·0.0625 + 0.5625)/3) = 0.5; half 3.182·0.5/2 = 0.7955 → [0, 1].
    let a = TabularModel.summary("accuracy", [1, 0, 1, 1])
    #expect(a.folds == 4 && close(a.mean, 0.75) && close(a.standardDeviation, 0.5))
    #expect(close(a.interval?.lower, 0) && close(a.interval?.upper, 1))
    // [0.8, 0.9]: mean 0.85; sd √(2·0.0025) = 0.0707107; half 12.706·0.0707107/√2 = 0.6353.
    let s = TabularModel.summary("sensitivity", [0.8, 0.9])
    #expect(s.folds == 2 && close(s.mean, 0.85) && close(s.standardDeviation, 0.005.squareRoot()))
    #expect(close(s.interval?.lower, 0.85 - 0.6353) && close(s.interval?.upper, 1))
    // MAE [2, 4, 6]: mean 4, sd 2, half 4.303·2/√3 = 4.96868; an error is ≥ 0, unbounded above.
    let e = TabularModel.summary("MAE", [2, 4, 6])
    #expect(e.folds == 3 && close(e.mean, 4) && close(e.standardDeviation, 2))
    #expect(close(e.interval?.lower, 0) && close(e.interval?.upper, 4 + 4.303 * 2 / 3.0.squareRoot()))
    // One fold: a mean, no spread; none: nothing at all.
    let one = TabularModel.summary("ROC AUC", [0.7])
    #expect(one.folds == 1 && close(one.mean, 0.7) && one.standardDeviation == nil && one.interval == nil)
    let none = TabularModel.summary("ROC AUC", [])
    #expect(none.folds == 0 && none.mean == nil && none.standardDeviation == nil && none.interval == nil)
  }

  /// Leave-one-out on 12 rows, 3 of them positive: every fold has an
  /// accuracy, only the 3 positive rows a sensitivity, the 9 negative ones a
  /// specificity, and no fold of one row a ROC AUC.
  @Test func leaveOneOutCountsTheFoldsOfEachMetric() throws {
    let rows: [[String]] = (0..<12).map { (k: Int) -> [String] in
      let label = k % 4 == 0 ? "yes" : "no"
      return [String(Double(k) / 4), String(k % 3), label]
    }
    var options = TabularModel.FitOptions()
    options.label = "label"
    options.hiddenLayers = [3]
    options.epochs = 5
    options.validationFraction = 0
    let report = try TabularModel.crossValidate(
      .rows(header: ["x", "z", "label"], rows: rows, name: "loo.csv"), options: options, folds: 12)
    #expect(report.folds.count == 12 && report.folds.allSatisfy { $0.testRows.count == 1 })
    let counts: [String: Int] = Dictionary(uniqueKeysWithValues: report.summary.map { ($0.name, $0.folds) })
    let expected: [String: Int] = ["accuracy": 12, "sensitivity": 3, "specificity": 9, "ROC AUC": 0, "Brier score": 12]
    #expect(counts == expected, "\(counts)")
    let auc = try #require(report.summary.first { $0.name == "ROC AUC" })
    #expect(auc.mean == nil && auc.standardDeviation == nil && auc.interval == nil)
    // The sensitivity's mean: the share of the 3 positive rows predicted positive.
    let positives = report.folds.filter { rows[$0.testRows[0]][2] == "yes" }
    let found = positives.filter { $0.metrics.binary!.confusion.truePositives == 1 }.count
    let sensitivity = try #require(report.summary.first { $0.name == "sensitivity" })
    #expect(close(sensitivity.mean, Double(found) / 3))
  }
}
