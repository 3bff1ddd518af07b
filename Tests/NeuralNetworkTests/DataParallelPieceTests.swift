import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

/// Issue 12: the pieces a data-parallel loop is made of, checked in one process.
@Suite struct DataParallelPieceTests {
  /// Two layers, 2 → 2 → 1, every parameter a different number.
  static func network() throws -> Network<Double> {
    try Network(
      parameters: [
        "W1": Matrix([[1, 2], [3, 4]]), "b1": Matrix(column: [5, 6]), "W2": Matrix([[7, 8]]),
        "b2": Matrix(column: [9]),
      ], activations: [.relu, .sigmoid])
  }

  @Test func parametersAndGradientsPackInTheOrderW1b1W2b2() throws {
    var net = try Self.network()
    #expect(net.parameterCount == 9)
    var buffer = [Double](repeating: 0, count: 9)
    buffer.withUnsafeMutableBufferPointer { net.packParameters(into: $0) }
    // Column-major: W1 = [[1, 2], [3, 4]] is stored 1, 3, 2, 4.
    #expect(buffer == [1, 3, 2, 4, 5, 6, 7, 8, 9])
    let g = Gradients(weights: net.layers.map(\.weights), biases: net.layers.map(\.bias))
    #expect(g.packedCount == 9)
    buffer.withUnsafeMutableBufferPointer { g.pack(into: $0, scale: 0.5) }
    #expect(buffer == [0.5, 1.5, 1, 2, 2.5, 3, 3.5, 4, 4.5])
    var back = Gradients(zerosLike: net)
    buffer.withUnsafeBufferPointer { back.unpack(from: $0) }
    #expect(back.dW(1) == (try Matrix([[0.5, 1], [1.5, 2]])) && back.db(2) == Matrix(column: [4.5]))
    buffer.withUnsafeBufferPointer { net.unpackParameters(from: $0) }
    #expect(net.weights(2) == (try Matrix([[3.5, 4]])) && net.bias(1) == Matrix(column: [2.5, 3]))
  }

  /// The identity data-parallel training rests on: the gradient of the mean
  /// cost over M examples is Σ over the parts of (m_r / M)·(the part's gradient).
  @Test func scaledPartGradientsSumToTheWholeBatchsGradientAndStep() throws {
    let data = Matrix<Double>(rows: 3, columns: 7) { i, j in sin(Double(3 * j + i)) }
    let labels = Matrix<Double>(rows: 1, columns: 7) { _, j in j % 3 == 0 ? 1 : 0 }
    let network = Network<Double>(sizes: [3, 4, 1], seed: 5)
    let options = TrainingOptions(optimizer: .adam(learningRate: 0.01))
    var whole = try Trainer(network: network, options: options)
    let wholeCost = whole.step(x: data, y: labels)

    let parts = [[0, 2, 4, 6], [1, 3, 5]]  // rows i ≡ r (mod 2)
    var trainers = try parts.map { _ in try Trainer(network: network, options: options) }
    var sum = [Double](repeating: 0, count: network.parameterCount)
    var cost = 0.0
    for (r, part) in parts.enumerated() {
      let scale = Double(part.count) / 7
      cost +=
        scale
        * trainers[r].computeGradients(
          x: DataSplit.columns(data, part), y: DataSplit.columns(labels, part))
      var local = sum
      local.withUnsafeMutableBufferPointer { trainers[r].gradients.pack(into: $0, scale: scale) }
      for k in sum.indices { sum[k] += local[k] }
    }
    #expect(abs(cost - wholeCost) < 1e-14)
    var summed = Gradients(zerosLike: network)
    sum.withUnsafeBufferPointer { summed.unpack(from: $0) }
    for (r, _) in parts.enumerated() {
      trainers[r].update(with: summed)
      for l in 1...2 {
        #expect(trainers[r].network.weights(l).maxAbsoluteDifference(whole.network.weights(l)) < 1e-14)
        #expect(trainers[r].network.bias(l).maxAbsoluteDifference(whole.network.bias(l)) < 1e-14)
      }
    }
    // The step moved the network: the check above is not of an unchanged one.
    #expect(whole.network.weights(1).maxAbsoluteDifference(network.weights(1)) > 1e-3)
  }

  /// A loop written from MiniBatches, Trainer.step and TrainingMonitor is
  /// fit (per-example weights and an L2 term included).
  @Test func aLoopWithTheMonitorIsFit() throws {
    let x = Matrix<Float>(rows: 4, columns: 50) { i, j in Float(sin(Double(7 * j + i))) }
    let y = Matrix<Float>(rows: 1, columns: 50) { _, j in sin(Double(7 * j)) + cos(Double(7 * j + 1)) > 0 ? 1 : 0 }
    let weights = Matrix<Float>(rows: 1, columns: 50) { _, j in j % 4 == 0 ? 2 : 1 }
    let vx = Matrix<Float>(rows: 4, columns: 20) { i, j in Float(cos(Double(5 * j + i))) }
    let vy = Matrix<Float>(rows: 1, columns: 20) { _, j in cos(Double(5 * j)) > 0 ? 1 : 0 }
    let validation = LabelledExamples(vx, labels: vy)
    let options = TrainingOptions(
      epochs: 60, optimizer: .adam(learningRate: 0.05), batchSize: 16, l2: 0.01, seed: 9, recordCostEvery: 1,
      earlyStopping: EarlyStopping(patience: 5))
    let start = Network<Float>(sizes: [4, 6, 1], seed: 2)
    var fitted = start
    let expected = try fitted.train(x: x, y: y, weights: weights, validation: validation, options: options)

    var trainer = try Trainer(network: start, options: options)
    var generator = Xoshiro256StarStar(seed: options.seed)
    var monitor = TrainingMonitor<Float>(options: options)
    for epoch in 1...options.epochs {
      let order = generator.permutation(50)
      let batches = MiniBatches(x: x, y: y, batchSize: 16, order: order)
      var total = 0.0
      for (b, batch) in batches.enumerated() {
        let w = Matrix<Float>(rows: 1, columns: batch.x.columns) { _, j in weights[0, order[b * 16 + j]] }
        let cost = Double(trainer.step(x: batch.x, y: batch.y, weights: w))
        try monitor.checkBatch(cost: cost, epoch: epoch, batch: b + 1)
        total += cost * Double(batch.x.columns)
      }
      let stop = try monitor.endEpoch(
        epoch, cost: total / 50, network: trainer.network, validation: trainer.evaluate(validation))
      if stop { break }
    }
    var mine = trainer.network
    let history = monitor.finish(restoringInto: &mine)
    #expect(expected.stoppedByEarlyStopping && history.stoppedByEarlyStopping)
    #expect(history.epochsRun == expected.epochsRun && history.bestEpoch == expected.bestEpoch)
    #expect(history.costs.map(\.cost) == expected.costs.map(\.cost))
    #expect(history.validationCosts.map(\.cost) == expected.validationCosts.map(\.cost))
    #expect(mine == fitted)
  }

  /// Examples read by index from a source (gathered batch by batch) train
  /// as the same examples in a matrix do (column views of a shuffled copy).
  @Test(arguments: [16, nil] as [Int?])
  func examplesFromASourceTrainAsTheMatrix(batchSize: Int?) throws {
    let x = Matrix<Float>(rows: 4, columns: 50) { i, j in Float(sin(Double(7 * j + i))) }
    let y = Matrix<Float>(rows: 1, columns: 50) { _, j in sin(Double(7 * j)) + cos(Double(7 * j + 1)) > 0 ? 1 : 0 }
    let weights = Matrix<Float>(rows: 1, columns: 50) { _, j in j % 4 == 0 ? 2 : 1 }
    let vx = Matrix<Float>(rows: 4, columns: 20) { i, j in Float(cos(Double(5 * j + i))) }
    let vy = Matrix<Float>(rows: 1, columns: 20) { _, j in cos(Double(5 * j)) > 0 ? 1 : 0 }
    let options = TrainingOptions(
      epochs: 40, optimizer: .adam(learningRate: 0.05), batchSize: batchSize, l2: 0.01, seed: 9, recordCostEvery: 1,
      earlyStopping: EarlyStopping(patience: 5))
    let start = Network<Float>(sizes: [4, 6, 1], seed: 2)
    var fitted = start
    let expected = try fitted.train(
      x: x, y: y, weights: weights, validation: LabelledExamples(vx, labels: vy), options: options)

    var trainer = try Trainer(network: start, options: options)
    let everything = Array(0..<50)
    let history = try trainer.fit(
      LabelledExamples(ExampleSubset(x, indices: everything), labels: y, weights: weights),
      validation: LabelledExamples(ExampleSubset(vx, indices: Array(0..<20)), labels: vy))
    #expect(history.epochsRun == expected.epochsRun && history.bestEpoch == expected.bestEpoch)
    #expect(history.epochsRun > 5)
    #expect(history.costs.map(\.cost) == expected.costs.map(\.cost))
    for (a, b) in zip(history.validationCosts, expected.validationCosts) { #expect(abs(a.cost - b.cost) < 1e-12) }
    #expect(trainer.network == fitted)
    #expect(trainer.allreduceCalls == 0)
  }

  /// Training from a mapped file that is cut short stops with the file's
  /// problem at the next batch (no SIGBUS, no model of NaN).
  @Test func aMappedFileCutShortStopsTraining() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("x.npy").path
    let x = Matrix<Float>(rows: 4, columns: 64) { i, j in Float(sin(Double(7 * j + i))) }
    let y = Matrix<Float>(rows: 1, columns: 64) { _, j in j % 2 == 0 ? 1 : 0 }
    try x.write(npyFile: path)
    let examples = NPYExamples<Float>(try NPYArray(path: path))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: 300)
    try handle.close()
    var trainer = try Trainer(
      network: Network<Float>(sizes: [4, 3, 1], seed: 1), options: TrainingOptions(epochs: 3, batchSize: 16))
    #expect {
      try trainer.fit(LabelledExamples(examples, labels: y))
    } throws: { error in
      guard case .examplesUnavailable(let why) = error as? TrainingError else { return false }
      return why.hasPrefix("\(path) was cut short while it was being read: it has 300 bytes now")
    }
  }

  @Test func statisticsGatheredInBatchesAreThoseOfTheWhole() throws {
    let x = Matrix<Float>(rows: 3, columns: 1000) { i, j in Float(sin(Double(j * (i + 1)))) * 100 + Float(i * 1000) }
    let whole = Standardizer(fitting: x)
    var accumulator = Standardizer.Accumulator(features: 3)
    for range in [0..<1, 1..<333, 333..<334, 334..<1000] { accumulator.add(DataSplit.columns(x, Array(range))) }
    #expect(accumulator.count == 1000)
    let merged = accumulator.standardizer
    for i in 0..<3 {
      #expect(abs(merged.means[i] - whole.means[i]) <= 1e-12 * abs(whole.means[i]))
      #expect(abs(merged.standardDeviations[i] - whole.standardDeviations[i]) <= 1e-10 * whole.standardDeviations[i])
    }
    // By hand: 1, 2, 3, 6 has mean 3 and population variance (4 + 1 + 0 + 9) / 4 = 3.5.
    var small = Standardizer.Accumulator(features: 1)
    small.add(try Matrix<Double>([[1, 2]]))
    small.add(try Matrix<Double>([[3, 6]]))
    #expect(small.standardizer.means == [3] && abs(small.standardizer.standardDeviations[0] - 3.5.squareRoot()) < 1e-15)
  }

  @Test func subsetsAndStandardisationCompose() throws {
    let x = try Matrix<Double>([[1, 2, 3, 4], [10, 20, 30, 40]])
    let subset = ExampleSubset(x, indices: [3, 1])
    #expect(subset.exampleCount == 2 && subset.featureCount == 2)
    let scaled = StandardizedExamples(subset, standardizer: Standardizer(means: [2, 20], standardDeviations: [2, 0]))
    var out = Matrix<Double>.zeros(2, 3)
    scaled.gatherExamples([1, 0, 1], into: &out)
    // Column 1 of x is (2, 20) → (0, 0); column 3 is (4, 40) → (1, 20) (sd 0 divides by 1).
    #expect(out == (try Matrix([[0, 1, 0], [0, 20, 0]])))
  }
}
