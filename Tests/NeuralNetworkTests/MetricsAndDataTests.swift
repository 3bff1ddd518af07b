import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

@Suite struct MetricsTests {
  @Test func binaryMetricsByHand() {
    // Probabilities and labels of 8 examples; threshold 0.5.
    let p = Matrix<Float>(row: [0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.7, 0.4])
    let y = Matrix<Float>(row: [1, 1, 1, 0, 0, 0, 1, 0])
    let m = BinaryMetrics(probabilities: p, labels: y)
    // Predicted 1 1 0 1 0 0 1 0 → TP 3 (0, 1, 6), FN 1 (2), FP 1 (3), TN 3 (4, 5, 7)
    #expect(m.confusion == BinaryConfusion(truePositives: 3, falsePositives: 1, trueNegatives: 3, falseNegatives: 1))
    #expect(m.accuracy == 0.75)
    #expect(m.precision == 0.75)
    #expect(m.recall == 0.75)
    #expect(m.specificity == 0.75)
    #expect(m.f1 == 0.75)
    // AUC: positives score 0.9, 0.8, 0.3, 0.7; negatives 0.6, 0.2, 0.1, 0.4.
    // Pairs won by the positive: 0.9, 0.8, 0.7 beat all 4; 0.3 beats 0.2 and 0.1 → 14 of 16.
    #expect(m.rocAUC == 14.0 / 16)
  }

  @Test func aucCountsTiesAsHalf() {
    #expect(BinaryMetrics.auc(scores: [0.5, 0.5], positive: [true, false]) == 0.5)
    #expect(BinaryMetrics.auc(scores: [0.1, 0.9, 0.5], positive: [false, true, true]) == 1)
    #expect(BinaryMetrics.auc(scores: [0.1, 0.9], positive: [true, true]) == nil)
  }

  @Test func undefinedRatiosAreNil() {
    let m = BinaryMetrics(probabilities: Matrix<Float>(row: [0.1, 0.2]), labels: Matrix<Float>(row: [0, 0]))
    #expect(m.precision == nil)
    #expect(m.recall == nil)
    #expect(m.specificity == 1)
    #expect(m.rocAUC == nil)
  }

  @Test func multiclassConfusion() {
    let m = MulticlassMetrics(predicted: [0, 1, 2, 2, 1], actual: [0, 1, 1, 2, 1], classCount: 3)
    #expect(m.confusion == [[1, 0, 0], [0, 2, 1], [0, 0, 1]])
    #expect(m.accuracy == 0.8)
  }
}

@Suite struct DataTests {
  @Test func standardizerFitsOnTrainAndAppliesElsewhere() throws {
    let train = try Matrix<Double>([[1, 2, 3], [5, 5, 5]])
    let s = Standardizer(fitting: train)
    #expect(s.means == [2, 5])
    #expect(abs(s.standardDeviations[0] - (2.0 / 3).squareRoot()) < 1e-15)
    #expect(s.standardDeviations[1] == 0)
    let other = s.transform(try Matrix<Double>([[2, 4], [5, 6]]))
    #expect(other[0, 0] == 0)
    #expect(abs(other[0, 1] - 2 / (2.0 / 3).squareRoot()) < 1e-12)
    #expect(other[1, 0] == 0 && other[1, 1] == 1)  // constant feature: divided by 1, not by 0
  }

  @Test func stratifiedSplitKeepsProportionsAndIsSeeded() {
    let labels = Array(repeating: 0, count: 70) + Array(repeating: 1, count: 30)
    let (train, test) = DataSplit.trainTestIndices(count: 100, testFraction: 0.2, seed: 1, stratifyBy: labels)
    #expect(test.count == 20 && train.count == 80)
    #expect(test.filter { labels[$0] == 1 }.count == 6)
    #expect(Set(train).isDisjoint(with: test))
    #expect(Set(train + test) == Set(0..<100))
    let again = DataSplit.trainTestIndices(count: 100, testFraction: 0.2, seed: 1, stratifyBy: labels)
    #expect(again.test == test)
    #expect(DataSplit.trainTestIndices(count: 100, testFraction: 0.2, seed: 2, stratifyBy: labels).test != test)
  }

  @Test func oneHot() {
    let y: Matrix<Float> = DataSplit.oneHot([2, 0, 1], classCount: 3)
    #expect(y.rowArrays == [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
  }
}

@Suite struct OptimizerTests {
  /// One layer, one input, m = 1: dW = (σ(0) − y)·x = (0.5 − 1)·2 = −1, db = −0.5.
  func oneStep(_ optimizer: Optimizer, steps: Int = 1) throws -> Network<Double> {
    var net = try Network<Double>(
      parameters: ["W1": Matrix([[0]]), "b1": Matrix(column: [0])], activations: [.sigmoid])
    try net.train(
      x: Matrix(row: [2]), y: Matrix(row: [1]), options: TrainingOptions(epochs: steps, optimizer: optimizer))
    return net
  }

  @Test func gradientDescentStep() throws {
    let net = try oneStep(.gradientDescent(learningRate: 0.1))
    #expect(net.weights(1)[0, 0] == 0.1)
    #expect(net.bias(1)[0, 0] == 0.05)
  }

  @Test func momentumFirstStepIsScaledByOneMinusBeta() throws {
    let net = try oneStep(.momentum(learningRate: 0.1, beta: 0.9))
    expectClose(net.weights(1)[0, 0], 0.1 * 0.1 * 1, tolerance: 1e-15)
    expectClose(net.bias(1)[0, 0], 0.1 * 0.1 * 0.5, tolerance: 1e-15)
  }

  @Test func adamFirstStepMovesByTheLearningRate() throws {
    // Bias-corrected: v̂ = g, ŝ = g², so the step is α·g/(|g| + ε) ≈ α·sign(g).
    let net = try oneStep(.adam(learningRate: 0.01))
    expectClose(net.weights(1)[0, 0], 0.01 / (1 + 1e-8), tolerance: 1e-12)
    expectClose(net.bias(1)[0, 0], 0.01 * 0.5 / (0.5 + 1e-8), tolerance: 1e-12)
  }

  @Test func invalidOptionsThrow() {
    let net = Network<Float>(sizes: [2, 1])
    #expect(throws: TrainingError.self) { try Trainer(network: net, options: TrainingOptions(keepProbability: 0)) }
    #expect(throws: TrainingError.self) { try Trainer(network: net, options: TrainingOptions(batchSize: 0)) }
    #expect(throws: TrainingError.self) {
      try Trainer(network: net, options: TrainingOptions(optimizer: .adam(learningRate: -1)))
    }
    #expect(throws: TrainingError.incompatibleLoss(loss: .categoricalCrossEntropy, output: .sigmoid)) {
      try Trainer(network: net, options: TrainingOptions(loss: .categoricalCrossEntropy))
    }
  }

  @Test func initializersHaveTheDocumentedSpread() throws {
    var g = Xoshiro256StarStar(seed: 1)
    let he: Matrix<Double> = Initializer.he.weights(fanOut: 200, fanIn: 50, using: &g)
    let sd = (he.map { $0 * $0 }.mean()).squareRoot()
    #expect(abs(sd - (2.0 / 50).squareRoot()) < 0.01)
    let small: Matrix<Double> = Initializer.smallNormal.weights(fanOut: 100, fanIn: 100, using: &g)
    #expect(abs((small.map { $0 * $0 }.mean()).squareRoot() - 0.01) < 0.001)
    // Orthogonal: rows (wide) or columns (tall) orthonormal, times the gain √2.
    let tall: Matrix<Double> = Initializer.orthogonal.weights(fanOut: 30, fanIn: 10, using: &g)
    #expect(matmul(tall, tall, transposeA: true).isApproximatelyEqual(to: .identity(10) * 2, absoluteTolerance: 1e-12))
    let wide: Matrix<Double> = Initializer.orthogonal.weights(fanOut: 10, fanIn: 30, using: &g)
    #expect(matmul(wide, wide, transposeB: true).isApproximatelyEqual(to: .identity(10) * 2, absoluteTolerance: 1e-12))
  }
}
