import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

@Suite struct LearningTests {
  @Test func xor() throws {
    let x = try Matrix<Float>([[0, 1, 0, 1], [0, 0, 1, 1]])
    let y = Matrix<Float>(row: [0, 1, 1, 0])
    var net = Network<Float>(sizes: [2, 4, 1], hiddenActivation: .tanh, initializer: .xavier, seed: 1)
    let h = try net.train(x: x, y: y, options: TrainingOptions(epochs: 2000, optimizer: .adam(learningRate: 0.05)))
    #expect(net.classify(x) == [0, 1, 1, 0])
    #expect(try #require(h.finalCost) < 0.05)
  }

  @Test func xorWithReLU() throws {
    let x = try Matrix<Float>([[0, 1, 0, 1], [0, 0, 1, 1]])
    let y = Matrix<Float>(row: [0, 1, 1, 0])
    var net = Network<Float>(sizes: [2, 4, 1], seed: 5)
    try net.train(x: x, y: y, options: TrainingOptions(epochs: 3000, optimizer: .adam(learningRate: 0.03)))
    #expect(net.classify(x) == [0, 1, 1, 0])
  }

  /// Standardised wdbc, stratified 80/20 split, [30, 16, 8, 1].
  func wdbcSplit() throws -> (xTrain: Matrix<Float>, yTrain: Matrix<Float>, xTest: Matrix<Float>, yTest: Matrix<Float>)
  {
    let data = try Fixture.load("wdbc")
    let (train, test) = DataSplit.trainTestIndices(
      count: data.labels.count, testFraction: 0.2, seed: 42, stratifyBy: data.labels)
    let scaler = Standardizer(fitting: DataSplit.columns(data.x, train))
    let y = Matrix<Float>(row: data.labels.map(Float.init))
    return (
      scaler.transform(DataSplit.columns(data.x, train)), DataSplit.columns(y, train),
      scaler.transform(DataSplit.columns(data.x, test)), DataSplit.columns(y, test)
    )
  }

  @Test func breastCancerReaches95PercentOnHeldOutData() throws {
    let d = try wdbcSplit()
    #expect(d.xTrain.shape == Shape(30, 455))
    #expect(d.xTest.shape == Shape(30, 114))
    // Stratified: 20 % of 212 malignant is 42.4 → 42, of 357 benign 71.4 → 72
    // (the larger remainder goes first on a tie), 114 = round(0.2 · 569) in all.
    #expect(d.yTest.sum() == 42)
    var net = Network<Float>(sizes: [30, 16, 8, 1], seed: 1)
    try net.train(
      x: d.xTrain, y: d.yTrain,
      options: TrainingOptions(epochs: 300, optimizer: .adam(learningRate: 0.001), batchSize: 64))
    let metrics = BinaryMetrics(probabilities: net.predict(d.xTest), labels: d.yTest)
    #expect(metrics.accuracy >= 0.95, "test accuracy \(metrics.accuracy)")
    #expect(try #require(metrics.rocAUC) > 0.98)
  }

  @Test func breastCancerWithL2AndDropout() throws {
    let d = try wdbcSplit()
    var net = Network<Float>(sizes: [30, 16, 8, 1], seed: 2)
    try net.train(
      x: d.xTrain, y: d.yTrain,
      options: TrainingOptions(
        epochs: 300, optimizer: .momentum(learningRate: 0.05), batchSize: 32, l2: 0.1, keepProbability: 0.8))
    let metrics = BinaryMetrics(probabilities: net.predict(d.xTest), labels: d.yTest)
    #expect(metrics.accuracy >= 0.95, "test accuracy \(metrics.accuracy)")
  }

  @Test func digitsSoftmaxReaches90Percent() throws {
    let data = try Fixture.load("digits")
    #expect(data.x.shape == Shape(64, 1797))
    let (train, test) = DataSplit.trainTestIndices(count: 1797, testFraction: 0.2, seed: 7, stratifyBy: data.labels)
    let scaler = Standardizer(fitting: DataSplit.columns(data.x, train))
    let xTrain = scaler.transform(DataSplit.columns(data.x, train))
    let xTest = scaler.transform(DataSplit.columns(data.x, test))
    let yTrain: Matrix<Float> = DataSplit.oneHot(train.map { data.labels[$0] }, classCount: 10)
    var net = Network<Float>(sizes: [64, 32, 10], outputActivation: .softmax, seed: 3)
    #expect(net.description == "Network [64 → 32 ReLU → 10 softmax]")
    try net.train(
      x: xTrain, y: yTrain, options: TrainingOptions(epochs: 60, optimizer: .adam(learningRate: 0.003), batchSize: 64))
    let metrics = MulticlassMetrics(
      predicted: net.classify(xTest), actual: test.map { data.labels[$0] }, classCount: 10)
    #expect(metrics.accuracy >= 0.90, "test accuracy \(metrics.accuracy)")
  }
}

@Suite struct ReproducibilityTests {
  func trainOnce(iterations: Int, options: TrainingOptions) throws -> (Network<Float>, [Double]) {
    let x = Matrix<Float>.randomNormal(12, 50, seed: 1)
    let y = Matrix<Float>(row: (0..<50).map { Float($0 % 3 == 0 ? 1 : 0) })
    var trainer = try Trainer(network: Network<Float>(sizes: [12, 10, 6, 1], seed: 9), options: options)
    var costs: [Double] = []
    _ = try trainer.fit(x: x, y: y) { p in
      costs.append(p.cost)
      return p.epoch == iterations ? .stop : .proceed
    }
    return (trainer.network, costs)
  }

  @Test func naiveAndBLASPathsGiveTheSameCosts() throws {
    var options = TrainingOptions(epochs: 20, optimizer: .gradientDescent(learningRate: 0.1))
    let (blasNet, blas) = try trainOnce(iterations: 20, options: options)
    options.path = .naive
    let (naiveNet, naive) = try trainOnce(iterations: 20, options: options)
    #expect(blas.count == 20 && naive.count == 20)
    for (a, b) in zip(blas, naive) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "BLAS \(a) vs naive \(b)") }
    #expect(blas.first! > blas.last!)
    #expect(blasNet.weights(1).isApproximatelyEqual(to: naiveNet.weights(1), absoluteTolerance: 1e-4))
  }

  @Test func sameSeedGivesBitIdenticalParameters() throws {
    let options = TrainingOptions(
      epochs: 30, optimizer: .adam(learningRate: 0.01), batchSize: 16, keepProbability: 0.7, seed: 5)
    let (first, _) = try trainOnce(iterations: 30, options: options)
    let (second, _) = try trainOnce(iterations: 30, options: options)
    #expect(first == second)
    var other = options
    other.seed = 6
    let (third, _) = try trainOnce(iterations: 30, options: other)
    #expect(first != third)
  }
}

@Suite struct MiniBatchTests {
  /// An epoch of mini-batches is: shuffle by the seeded generator, then one
  /// step per batch in that order, the last (smaller) batch included.
  @Test func anEpochIsSeededShuffleThenEveryBatchIncludingThePartialOne() throws {
    let x = Matrix<Double>.randomNormal(3, 7, seed: 1)
    let y = Matrix<Double>(row: [0, 1, 1, 0, 1, 0, 1])
    let start = Network<Double>(sizes: [3, 4, 1], seed: 2)
    let options = TrainingOptions(epochs: 1, optimizer: .gradientDescent(learningRate: 0.5), batchSize: 3, seed: 9)
    var trained = start
    let history = try trained.train(x: x, y: y, options: options)

    // By hand: the same permutation, batches of 3, 3 and 1 examples.
    var g = Xoshiro256StarStar(seed: 9)
    let order = g.permutation(7)
    var manual = try Trainer(network: start, options: options)
    var weightedCost = 0.0
    for batch in [order[0..<3], order[3..<6], order[6..<7]] {
      let cost = manual.step(x: DataSplit.columns(x, Array(batch)), y: DataSplit.columns(y, Array(batch)))
      weightedCost += cost * Double(batch.count)
    }
    #expect(trained == manual.network)
    expectClose(try #require(history.finalCost), weightedCost / 7, tolerance: 1e-12)
  }
}
