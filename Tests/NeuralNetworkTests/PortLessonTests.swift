import Foundation
import LinearAlgebra
import Testing

@testable import NeuralNetwork

/// Each lesson of the NumPy → TensorFlow port (see the project's seed notes), as a test.
@Suite struct PortLessonTests {
  // Lesson 2: strict rank and dimensions. Y = [[0.2]] (1×1) against a 1×4 output is refused.
  @Test func labelsMustBeShapedLikeTheOutput() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var net = Network<Float>(sizes: [1, 3, 1], seed: 1)
      let x = Matrix<Float>(row: [0, 1, 0, 1])
      let y = Matrix<Float>(row: [0.2])
      _ = try? net.train(x: x, y: y, options: TrainingOptions(epochs: 1))
    }
    let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
    #expect(stderr.contains("labels are 1×1"), "\(stderr.prefix(400))")
    #expect(stderr.contains("1×4"), "\(stderr.prefix(400))")
  }

  @Test func lossFunctionsRefuseMismatchedLabels() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Losses.binaryCrossEntropy(predictions: Matrix<Float>(row: [0.5, 0.5, 0.5]), labels: Matrix<Float>(row: [1]))
    }
    let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
    #expect(stderr.contains("predictions are 1×3 but labels are 1×1; both must be 1×m"), "\(stderr.prefix(400))")
  }

  @Test func transposedInputIsNamedAsSuch() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let net = Network<Float>(sizes: [3, 2, 1], seed: 1)
      _ = net.predict(Matrix<Float>.zeros(5, 3))
    }
    let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
    #expect(stderr.contains("X is 5×3 — it looks transposed"), "\(stderr.prefix(400))")
  }

  // Lesson 3: lists vs arrays. Ragged nested arrays throw with the row named; nothing is guessed.
  @Test func raggedNestedArraysThrow() {
    #expect(throws: MatrixError.raggedRow(row: 2, found: 1, expected: 2)) {
      try Matrix<Float>([[0, 1], [1, 0], [1]])
    }
  }

  // Lessons 4 and 6: a `let` network cannot be trained — `train` is mutating, so
  //     let net = Network<Float>(sizes: [2, 1]); try net.train(x: x, y: y)
  // does not compile ("cannot use mutating member on immutable value"). A `var`
  // network is updated in place: its parameters are stored properties.
  @Test func aVarNetworkIsUpdatedInPlace() throws {
    var net = Network<Float>(sizes: [2, 3, 1], seed: 4)
    let before = net
    let x = try Matrix<Float>([[0, 1, 0, 1], [0, 0, 1, 1]])
    let y = Matrix<Float>(row: [0, 1, 1, 1])
    try net.train(x: x, y: y, options: TrainingOptions(epochs: 5, optimizer: .gradientDescent(learningRate: 0.1)))
    #expect(net.weights(1) != before.weights(1))
    #expect(net.bias(2) != before.bias(2))
    // The copy taken before training is untouched (value semantics).
    #expect(before == Network<Float>(sizes: [2, 3, 1], seed: 4))
  }

  // Lesson 5: ReLU backward masks exactly where Z ≤ 0, as arithmetic, not by mutation of a copy.
  @Test func reluBackwardMasksExactlyWhereZIsNotPositive() throws {
    let z = try Matrix<Float>([[-2, 0, 3], [0.5, -0.0, -1e-30]])
    var g = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
    Activation.relu.backward(&g, z: z)
    #expect(g == (try Matrix<Float>([[0, 0, 3], [4, 0, 0]])))
    var leaky = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
    Activation.leakyReLU.backward(&leaky, z: z)
    #expect(leaky.isApproximatelyEqual(to: try Matrix([[0.01, 0.02, 3], [4, 0.05, 0.06]]), absoluteTolerance: 1e-7))
  }

  // Lesson 7: log(0). The cost stays finite for saturated outputs.
  @Test func costIsFiniteForSaturatedOutputs() {
    let z = Matrix<Float>(row: [1e4, -1e4, 1e4, -1e4, 0])
    let y = Matrix<Float>(row: [1, 0, 0, 1, 1])
    // Exact: two perfect predictions cost 0, two wrong ones cost 1e4 each, z = 0 costs ln 2.
    let logits = Losses.binaryCrossEntropy(logits: z, labels: y)
    #expect(logits.isFinite)
    #expect(abs(logits - (2e4 + Float(M_LN2)) / 5) < 1e-2)
    // The clipped reference form caps each wrong example: at −ln ε ≈ 16.118 for a = 0,
    // and at −ln(1 − (1 − ε)) for a = 1, where 1 − ε rounds to 1 − 2⁻²³ in Float (≈ 15.942).
    let a = Activation.sigmoid.apply(z)
    #expect(a.elements[0] == 1 && a.elements[1] == 0)
    let clipped = Losses.binaryCrossEntropy(predictions: a, labels: y)
    #expect(clipped.isFinite)
    let capLow = -log(Float(1e-7))
    let capHigh = -log(1 - (1 - Float(1e-7)))
    #expect(abs(clipped - (capLow + capHigh + Float(M_LN2)) / 5) < 1e-4)
    // Training from saturated outputs: costs stay finite, never NaN or ∞.
    var net = try! Network<Float>(
      parameters: ["W1": Matrix([[1e4]]), "b1": Matrix(column: [0])], activations: [.sigmoid])
    let history = try! net.train(
      x: Matrix(row: [1, -1, 1]), y: Matrix(row: [0, 1, 1]), options: TrainingOptions(epochs: 3, recordCostEvery: 1))
    #expect(history.costs.allSatisfy { $0.cost.isFinite })
    #expect(abs(history.costs[0].cost - 2e4 / 3) < 1)
  }

  @Test func softmaxCrossEntropyIsStable() {
    let z = try! Matrix<Double>([[1000, -1000], [0, 0], [-1000, 1000]])
    let y = DataSplit.oneHot([0, 0], classCount: 3) as Matrix<Double>
    // Column 1 is right with certainty (cost 0); column 2 scores class 0 at −1000
    // against 1000 for class 2: cost 2000. Mean over the two examples: 1000.
    #expect(abs(Losses.categoricalCrossEntropy(logits: z, labels: y) - 1000) < 1e-9)
    let p = Activation.softmax.apply(z)
    #expect(p.isFinite)
    #expect(abs(p.sumOfEachColumn()[0, 1] - 1) < 1e-12)
  }

  // Lesson 8: layers are numbered 1...L everywhere; networks of every depth train.
  @Test(arguments: 1...5)
  func everyDepthTrainsAndIsNumberedFromOne(depth: Int) throws {
    // 16 units a layer: with a handful, every ReLU of a layer can start dead on
    // one of the four points (a real local minimum, not a bug).
    let sizes = [2] + Array(repeating: 16, count: depth - 1) + [1]
    var net = Network<Float>(sizes: sizes, seed: UInt64(depth))
    #expect(net.depth == depth)
    #expect(net.parameterNames == (1...depth).flatMap { ["W\($0)", "b\($0)"] })
    #expect(Set(net.parameters.keys) == Set(net.parameterNames))
    for l in 1...depth { #expect(net.weights(l).shape == Shape(sizes[l], sizes[l - 1])) }
    // An OR-like problem that even a single layer can learn.
    let x = try Matrix<Float>([[0, 1, 0, 1], [0, 0, 1, 1]])
    let y = Matrix<Float>(row: [0, 1, 1, 1])
    let h = try net.train(x: x, y: y, options: TrainingOptions(epochs: 1000, optimizer: .adam(learningRate: 0.01)))
    let first = try #require(h.costs.first?.cost)
    let last = try #require(h.finalCost)
    #expect(last < first)
    #expect(net.classify(x) == [0, 1, 1, 1])
  }

  @Test func layerZeroDoesNotExist() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Network<Float>(sizes: [2, 3, 1]).weights(0)
    }
    let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
    #expect(stderr.contains("layer 0 does not exist: layers are numbered 1...2"))
  }

  // Lesson 9: with uninformative inputs the network predicts the mean label and the cost is ln 2.
  @Test func uninformativeInputsGiveTheMeanLabel() throws {
    var net = Network<Double>(sizes: [1, 4, 1], seed: 7)
    let x = Matrix<Double>.zeros(1, 4)
    let y = Matrix<Double>(row: [0.2, 0.8, 0.25, 0.75])
    let h = try net.train(
      x: x, y: y, options: TrainingOptions(epochs: 3000, optimizer: .gradientDescent(learningRate: 0.5)))
    let p = net.predict(x)
    for j in 0..<4 { expectClose(p[0, j], 0.5, tolerance: 1e-6) }
    // J = −mean[y ln 0.5 + (1 − y) ln 0.5] = ln 2, whatever the labels.
    expectClose(try #require(h.finalCost), log(2), tolerance: 1e-9)
  }
}
