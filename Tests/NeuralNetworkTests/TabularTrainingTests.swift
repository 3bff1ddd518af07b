import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

/// Two noisy classes in two features: class 1 centred at (shift, shift).
func twoClasses(
  negatives: Int, positives: Int, shift: Float, noise: Float = 1, seed: UInt64
) -> (x: Matrix<Float>, y: Matrix<Float>) {
  let m = negatives + positives
  var x = Matrix<Float>.randomNormal(2, m, standardDeviation: noise, seed: seed)
  var y = Matrix<Float>.zeros(1, m)
  for j in negatives..<m {
    y[0, j] = 1
    x[0, j] += shift
    x[1, j] += shift
  }
  return (x, y)
}

@Suite struct ValidationAndEarlyStoppingTests {
  @Test func theValidationCostIsTheNetworksCostOnTheValidationData() throws {
    let train = twoClasses(negatives: 40, positives: 40, shift: 1.5, seed: 1)
    let validation = twoClasses(negatives: 10, positives: 10, shift: 1.5, seed: 2)
    var net = Network<Float>(sizes: [2, 4, 1], seed: 3)
    let options = TrainingOptions(epochs: 7, optimizer: .adam(learningRate: 0.01), batchSize: 16, recordCostEvery: 1)
    var seen: [Double] = []
    let history = try net.train(
      x: train.x, y: train.y, validation: LabelledExamples(validation.x, labels: validation.y), options: options
    ) { p in
      seen.append(p.validationCost!)
      return .proceed
    }
    #expect(history.validationCosts.map(\.cost) == seen)
    #expect(history.validationCosts.map(\.epoch) == Array(1...7))
    // After the last epoch the network is the one the last validation cost was measured on.
    #expect(Swift.abs(Double(net.cost(x: validation.x, y: validation.y)) - seen.last!) < 1e-6)
    // The accuracy is the share of right answers at p ≥ 0.5.
    let p = net.predict(validation.x)
    let right = (0..<20).filter { (p[0, $0] >= 0.5) == (validation.y[0, $0] == 1) }.count
    #expect(history.validationAccuracies.last!.accuracy == Double(right) / 20)
    #expect(history.bestEpoch == history.validationCosts.min { $0.cost < $1.cost }!.epoch)
  }

  @Test func earlyStoppingRestoresTheBestEpochsWeightsExactly() throws {
    // Few noisy examples and a large network with a large step: the validation cost soon rises.
    let train = twoClasses(negatives: 12, positives: 12, shift: 0.8, noise: 1.2, seed: 5)
    let validation = twoClasses(negatives: 30, positives: 30, shift: 0.8, noise: 1.2, seed: 6)
    var net = Network<Float>(sizes: [2, 64, 64, 1], seed: 7)
    let options = TrainingOptions(
      epochs: 500, optimizer: .adam(learningRate: 0.02), batchSize: nil, recordCostEvery: 1,
      earlyStopping: EarlyStopping(patience: 5))
    var saved: (epoch: Int, network: Network<Float>)?
    let history = try net.train(
      x: train.x, y: train.y, validation: LabelledExamples(validation.x, labels: validation.y), options: options,
      checkpoint: { network, p in saved = (p.epoch, network) })
    let best = try #require(saved)
    #expect(history.stoppedEarly && history.stoppedByEarlyStopping)
    #expect(history.epochsRun == best.epoch + 5, "stops after 5 epochs without improvement")
    #expect(history.epochsRun < 500)
    #expect(history.bestEpoch == best.epoch)
    #expect(history.restoredBestWeights)
    for l in 0..<net.depth {
      #expect(net.layers[l].weights == best.network.layers[l].weights)
      #expect(net.layers[l].bias == best.network.layers[l].bias)
    }
    #expect(Double(net.cost(x: validation.x, y: validation.y)) == history.bestValidationCost)
    // Every cost after the best is no better than it.
    let after = history.validationCosts.filter { $0.epoch > best.epoch }.map(\.cost)
    #expect(after.count == 5 && after.allSatisfy { $0 >= history.bestValidationCost! })
  }

  @Test func minDeltaCountsOnlyImprovementsLargerThanIt() throws {
    let train = twoClasses(negatives: 30, positives: 30, shift: 2, seed: 8)
    let validation = twoClasses(negatives: 20, positives: 20, shift: 2, seed: 9)
    var net = Network<Float>(sizes: [2, 8, 1], seed: 10)
    // Each epoch improves by far less than 1: only the first counts.
    let options = TrainingOptions(
      epochs: 100, optimizer: .gradientDescent(learningRate: 0.001), recordCostEvery: 1,
      earlyStopping: EarlyStopping(patience: 3, minDelta: 1))
    let history = try net.train(
      x: train.x, y: train.y, validation: LabelledExamples(validation.x, labels: validation.y), options: options)
    #expect(history.epochsRun == 4)
    #expect(history.bestEpoch == 1)
    #expect(history.restoredBestWeights)
  }

  @Test func earlyStoppingWithoutValidationDataIsRefused() {
    var net = Network<Float>(sizes: [2, 1], seed: 1)
    let data = twoClasses(negatives: 5, positives: 5, shift: 1, seed: 1)
    #expect(
      throws: TrainingError.invalidOption(
        "early stopping needs validation data to watch; pass validation: to fit/train")
    ) {
      try net.train(
        x: data.x, y: data.y, options: TrainingOptions(epochs: 3, earlyStopping: EarlyStopping(patience: 2)))
    }
    #expect(throws: TrainingError.invalidOption("early stopping's patience must be ≥ 1 epoch, got 0")) {
      try net.train(
        x: data.x, y: data.y, options: TrainingOptions(epochs: 3, earlyStopping: EarlyStopping(patience: 0)))
    }
  }
}

@Suite struct ClassWeightTests {
  @Test func balancedWeightsAreMOverKTimesTheClassCount() {
    let w = DataSplit.balancedClassWeights(classIndices: [0, 0, 0, 1], classCount: 2)
    #expect(Swift.abs(w[0] - 4.0 / 6) < 1e-12 && w[1] == 2)
    #expect(DataSplit.balancedClassWeights(classIndices: [0, 2, 2], classCount: 3) == [1, 0, 0.5])
    let e: Matrix<Float> = DataSplit.exampleWeights(classIndices: [1, 0, 1], classWeights: [0.5, 3])
    #expect(e == Matrix(row: [3, 0.5, 3]))
  }

  @Test func weightsOfTwoEqualDoublingTheLearningRateOfGradientDescent() throws {
    let data = twoClasses(negatives: 20, positives: 12, shift: 1.5, seed: 11)
    var weighted = Network<Float>(sizes: [2, 5, 1], seed: 12)
    var doubled = weighted
    let twos = Matrix<Float>(rows: 1, columns: 32, repeating: 2)
    try weighted.train(
      x: data.x, y: data.y, weights: twos,
      options: TrainingOptions(epochs: 20, optimizer: .gradientDescent(learningRate: 0.05), batchSize: 8))
    try doubled.train(
      x: data.x, y: data.y,
      options: TrainingOptions(epochs: 20, optimizer: .gradientDescent(learningRate: 0.1), batchSize: 8))
    for l in 0..<weighted.depth { #expect(weighted.layers[l].weights == doubled.layers[l].weights) }
  }

  /// A 95/5 set, separable but for noise: unweighted training predicts
  /// "negative" for nearly everyone; balanced class weights find the minority.
  @Test func balancedWeightsRaiseTheMinorityRecall() throws {
    let data = twoClasses(negatives: 950, positives: 50, shift: 2, noise: 1, seed: 13)
    let test = twoClasses(negatives: 950, positives: 50, shift: 2, noise: 1, seed: 14)
    let options = TrainingOptions(epochs: 5, optimizer: .gradientDescent(learningRate: 0.05), batchSize: 50)
    func recall(_ net: Network<Float>) -> Double {
      BinaryMetrics(probabilities: net.predict(test.x), labels: test.y).recall!
    }
    var plain = Network<Float>(sizes: [2, 1], seed: 15)
    try plain.train(x: data.x, y: data.y, options: options)
    var balanced = Network<Float>(sizes: [2, 1], seed: 15)
    let classes = (0..<1000).map { $0 < 950 ? 0 : 1 }
    let w = DataSplit.balancedClassWeights(classIndices: classes, classCount: 2)
    try balanced.train(
      x: data.x, y: data.y, weights: DataSplit.exampleWeights(classIndices: classes, classWeights: w),
      options: options)
    #expect(recall(plain) < 0.1, "unweighted recall \(recall(plain))")
    #expect(recall(balanced) >= 0.7, "balanced recall \(recall(balanced))")
  }
}

@Suite struct ROCAndReportTests {
  let scores = [0.9, 0.8, 0.7, 0.6, 0.55, 0.4]
  let positive = [true, true, false, true, false, false]

  @Test func theCurveHasOnePointPerThresholdAndItsAreaIsTheAUC() throws {
    let roc = try #require(ROCCurve(scores: scores, positive: positive))
    #expect(roc.points.map(\.threshold) == [.infinity, 0.9, 0.8, 0.7, 0.6, 0.55, 0.4])
    let third = 1.0 / 3
    let twoThirds = 2.0 / 3
    let tpr: [Double] = [0, third, twoThirds, twoThirds, 1, 1, 1]
    let fpr: [Double] = [0, 0, 0, third, third, twoThirds, 1]
    #expect(roc.points.map(\.truePositiveRate) == tpr)
    #expect(roc.points.map(\.falsePositiveRate) == fpr)
    // 8 of the 9 positive–negative pairs are ordered right.
    #expect(Swift.abs(roc.area - 8.0 / 9) < 1e-12)
    #expect(Swift.abs(roc.area - BinaryMetrics.auc(scores: scores, positive: positive)!) < 1e-12)
    #expect(ROCCurve(scores: [0.1, 0.2], positive: [true, true]) == nil)
  }

  @Test func thresholdsForATargetSensitivityOrSpecificity() throws {
    let roc = try #require(ROCCurve(scores: scores, positive: positive))
    let sensitive = roc.threshold(forSensitivity: 0.95)
    #expect(sensitive.threshold == 0.6 && sensitive.truePositiveRate == 1)
    #expect(Swift.abs(sensitive.specificity - 2.0 / 3) < 1e-12)
    let specific = roc.threshold(forSpecificity: 1)
    #expect(specific.threshold == 0.8 && Swift.abs(specific.sensitivity - 2.0 / 3) < 1e-12)
    #expect(roc.threshold(forSensitivity: 0.5).threshold == 0.8)
  }

  @Test func perClassPrecisionRecallF1AndAverages() {
    // actual 0: 5 right, 1 as class 1; actual 1: 2 as 0, 3 right, 1 as 2; actual 2: 4 right.
    let actual = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]
    let predicted = [0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2]
    let m = MulticlassMetrics(predicted: predicted, actual: actual, classCount: 3)
    let r = m.perClass
    #expect(r.map(\.support) == [6, 6, 4])
    #expect(r[0].precision == 5.0 / 7 && r[0].recall == 5.0 / 6)
    #expect(r[1].precision == 3.0 / 4 && r[1].recall == 3.0 / 6)
    #expect(r[2].precision == 4.0 / 5 && r[2].recall == 1)
    #expect(Swift.abs(r[0].f1! - 2 * 5.0 / 13) < 1e-12)
    let macro = m.macroAverage
    #expect(Swift.abs(macro.recall - (5.0 / 6 + 0.5 + 1) / 3) < 1e-12)
    let weighted = m.weightedAverage
    // Weighted recall is the accuracy.
    #expect(Swift.abs(weighted.recall - m.accuracy) < 1e-12)
    #expect(Swift.abs(weighted.precision - (6 * 5.0 / 7 + 6 * 0.75 + 4 * 0.8) / 16) < 1e-12)
  }
}
