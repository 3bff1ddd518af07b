import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 23: the automatic training plan and bootstrap intervals.
@Suite struct TrainingPlanTests {
  typealias Plan = TabularModel.TrainingPlan

  @Test func smallTablesTrainInBatchesOf32WithEarlyStopping() {
    let plan = Plan.automatic(trainingExamples: 364, options: TabularModel.FitOptions())
    // 364 rows: 12 batches an epoch; patience ⌈500 / 12⌉ = 42 epochs.
    #expect(plan.epochs == 1000)
    #expect(plan.batchSize == 32)
    #expect(plan.earlyStopping == EarlyStopping(patience: 42, minDelta: 0.001))
    #expect(plan.automatic == (true, true, true))
    // Tiny splits: the whole split when it is smaller than a batch; patience at most 50.
    let tiny = Plan.automatic(trainingExamples: 20, options: TabularModel.FitOptions())
    #expect(tiny.batchSize == 20 && tiny.earlyStopping?.patience == 50)
  }

  @Test func largeTablesTakeLargerBatchesAndFewerEpochs() {
    let o = TabularModel.FitOptions()
    // 100,000 rows: batch 64 (a thousandth is 100), 1563 steps an epoch,
    // ⌈100,000 / 1563⌉ = 64 epochs, patience at least 5.
    let medium = Plan.automatic(trainingExamples: 100_000, options: o)
    #expect(medium.batchSize == 64 && medium.epochs == 64 && medium.earlyStopping?.patience == 5)
    // 8 million: batch 1024, 7813 steps, 13 epochs.
    let big = Plan.automatic(trainingExamples: 8_000_000, options: o)
    #expect(big.batchSize == 1024 && big.epochs == 13 && big.earlyStopping?.patience == 5)
    #expect(Plan.automatic(trainingExamples: 63_999, options: o).batchSize == 32)
    #expect(Plan.automatic(trainingExamples: 64_000, options: o).batchSize == 64)
  }

  @Test func explicitOptionsWin() {
    var o = TabularModel.FitOptions()
    o.epochs = 7
    o.batchSize = 10
    o.earlyStopping = .on(EarlyStopping(patience: 3))
    let plan = Plan.automatic(trainingExamples: 364, options: o)
    #expect(plan.epochs == 7 && plan.batchSize == 10 && plan.earlyStopping == EarlyStopping(patience: 3))
    #expect(plan.automatic == (false, false, false))
    o.batchSize = .wholeSplit
    o.earlyStopping = .off
    #expect(Plan.automatic(trainingExamples: 364, options: o).batchSize == 364)
    #expect(Plan.automatic(trainingExamples: 364, options: o).earlyStopping == nil)
    // No validation split: no early stopping, and no error.
    var none = TabularModel.FitOptions()
    none.validationFraction = 0
    #expect(Plan.automatic(trainingExamples: 364, options: none).earlyStopping == nil)
  }
}

@Suite struct BootstrapTests {
  /// 40 examples: scores rising with the index, positives mostly high.
  static let scores: [Float] = (0..<40).map { Float($0) / 40 }
  static let positive: [Bool] = (0..<40).map { $0 >= 20 ? $0 % 7 != 0 : $0 % 6 == 0 }

  @Test func binaryEstimatesAreTheMetricsOfTheExamplesAndLieInTheirIntervals() {
    let b = BootstrapIntervals.binary(scores: Self.scores, positive: Self.positive, threshold: 0.5, seed: 3)
    let m = BinaryMetrics(
      probabilities: Matrix(row: Self.scores), labels: Matrix(row: Self.positive.map { $0 ? 1 : 0 }), threshold: 0.5)
    #expect(b.resamples == 1000 && b.level == 0.95)
    #expect(b.metrics.map(\.name) == ["accuracy", "sensitivity", "specificity", "ROC AUC"])
    #expect(abs(b["accuracy"]!.estimate - m.accuracy) < 1e-12)
    #expect(abs(b["sensitivity"]!.estimate - m.sensitivity!) < 1e-12)
    #expect(abs(b["specificity"]!.estimate - m.specificity!) < 1e-12)
    #expect(abs(b["ROC AUC"]!.estimate - m.rocAUC!) < 1e-12)
    for (name, i) in b.metrics {
      #expect(i.lower <= i.estimate && i.estimate <= i.upper, "\(name): \(i)")
      #expect(i.upper - i.lower > 0.01, "\(name): \(i)")
    }
    // Seeded: the same call gives the same intervals.
    let again = BootstrapIntervals.binary(scores: Self.scores, positive: Self.positive, threshold: 0.5, seed: 3)
    #expect(again.metrics.map(\.interval) == b.metrics.map(\.interval))
  }

  @Test func intervalsShrinkWithMoreExamples() {
    // The same examples 16 times over: the spread of a mean falls by about √16 = 4.
    let few = BootstrapIntervals.binary(scores: Self.scores, positive: Self.positive, threshold: 0.5, seed: 1)
    let many = BootstrapIntervals.binary(
      scores: Array(repeating: Self.scores, count: 16).flatMap { $0 },
      positive: Array(repeating: Self.positive, count: 16).flatMap { $0 }, threshold: 0.5, seed: 1)
    for name in ["accuracy", "ROC AUC"] {
      let (a, b) = (few[name]!, many[name]!)
      #expect(abs(a.estimate - b.estimate) < 1e-12)
      let ratio = (a.upper - a.lower) / (b.upper - b.lower)
      #expect(ratio > 3 && ratio < 5.5, "\(name): \(a) against \(b)")
    }
  }

  @Test func aMetricWithoutItsClassHasNoInterval() {
    let b = BootstrapIntervals.binary(scores: [0.1, 0.7, 0.2], positive: [false, false, false], threshold: 0.5)
    #expect(b["sensitivity"]!.lower.isNaN && b["ROC AUC"]!.estimate.isNaN)
    #expect(abs(b["specificity"]!.estimate - 2.0 / 3) < 1e-12)
    #expect(b["sensitivity"]!.description == "n/a (n/a–n/a)")
  }

  @Test func multiclassAndRegressionEstimates() {
    let predicted = [0, 1, 2, 2, 1, 0, 2, 1]
    let actual = [0, 1, 2, 1, 1, 0, 0, 1]
    let b = BootstrapIntervals.multiclass(predicted: predicted, actual: actual, classCount: 3, resamples: 200)
    let m = MulticlassMetrics(predicted: predicted, actual: actual, classCount: 3)
    #expect(abs(b["accuracy"]!.estimate - 6.0 / 8) < 1e-12)
    #expect(abs(b["macro F1"]!.estimate - m.macroAverage.f1) < 1e-12)
    // Errors 1, −1, 0, 2: MAE 1, RMSE √1.5; the values' sum of squares about 2.5 is 5, so R² = 1 − 6/5.
    let r = BootstrapIntervals.regression(predicted: [2, 1, 3, 6], actual: [1, 2, 3, 4], resamples: 200)
    #expect(abs(r["MAE"]!.estimate - 1) < 1e-12)
    #expect(abs(r["RMSE"]!.estimate - 1.5.squareRoot()) < 1e-12)
    #expect(abs(r["R²"]!.estimate - (1 - 6.0 / 5)) < 1e-12)
    #expect(Interval(estimate: 0.9623, lower: 0.93149, upper: 0.98351).description == "0.962 (0.931–0.984)")
  }
}
