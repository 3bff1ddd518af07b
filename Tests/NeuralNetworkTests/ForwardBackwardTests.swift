import Foundation
import LinearAlgebra
import Testing

@testable import NeuralNetwork

@Suite struct ForwardBackwardTests {
  /// [2, 2, 1]: W1 = [[1, −1], [0.5, 2]], b1 = [0, −1], W2 = [[1, −2]], b2 = [0.5].
  func handNetwork() throws -> Network<Double> {
    try Network(
      parameters: [
        "W1": Matrix([[1, -1], [0.5, 2]]), "b1": Matrix(column: [0, -1]),
        "W2": Matrix([[1, -2]]), "b2": Matrix(column: [0.5]),
      ], activations: [.relu, .sigmoid])
  }

  @Test func forwardMatchesHandComputation() throws {
    let net = try handNetwork()
    #expect(net.description == "Network [2 → 2 ReLU → 1 sigmoid]")
    // Example x = (1, 2): Z1 = (1 − 2, 0.5 + 4 − 1) = (−1, 3.5), A1 = (0, 3.5)
    // Z2 = 0 − 7 + 0.5 = −6.5, A2 = σ(−6.5) = 1/(1 + e^6.5)
    // Example x = (3, 0): Z1 = (3, 0.5), A1 = (3, 0.5); Z2 = 3 − 1 + 0.5 = 2.5
    let x = try Matrix<Double>([[1, 3], [2, 0]])
    let a = net.predict(x)
    expectClose(a[0, 0], 1 / (1 + exp(6.5)), tolerance: 1e-15)
    expectClose(a[0, 1], 1 / (1 + exp(-2.5)), tolerance: 1e-15)
    #expect(net.classify(x) == [0, 1])
  }

  @Test func gradientsMatchHandComputation() throws {
    var trainer = try Trainer(network: try handNetwork())
    let x = try Matrix<Double>([[1, 3], [2, 0]])
    let y = Matrix<Double>(row: [1, 0])
    let (cost, g) = trainer.costAndGradients(x: x, y: y)
    let a1 = 1 / (1 + exp(6.5))
    let a2 = 1 / (1 + exp(-2.5))
    // J = −(1/2)[ln a1 + ln(1 − a2)]
    expectClose(Double(cost), -(log(a1) + log(1 - a2)) / 2, tolerance: 1e-12)
    // dZ2 = A2 − Y = (a1 − 1, a2); dW2 = (1/2)·dZ2·A1ᵀ with A1 = [[0, 3], [3.5, 0.5]]
    let dz = (a1 - 1, a2)
    let dW2 = try #require(g["W2"])
    expectClose(dW2[0, 0], (dz.0 * 0 + dz.1 * 3) / 2, tolerance: 1e-12)
    expectClose(dW2[0, 1], (dz.0 * 3.5 + dz.1 * 0.5) / 2, tolerance: 1e-12)
    expectClose(try #require(g["b2"])[0, 0], (dz.0 + dz.1) / 2, tolerance: 1e-12)
    // dA1 = W2ᵀ·dZ2 = [[dz0, dz1], [−2dz0, −2dz1]]; ReLU mask: Z1 = [[−1, 3], [3.5, 0.5]] → unit 1 of example 1 is off.
    // dZ1 = [[0, dz1], [−2dz0, −2dz1]]; dW1 = (1/2)·dZ1·Xᵀ with X = [[1, 3], [2, 0]]
    let dW1 = try #require(g["W1"])
    expectClose(dW1[0, 0], (0 * 1 + dz.1 * 3) / 2, tolerance: 1e-12)
    expectClose(dW1[0, 1], (0 * 2 + dz.1 * 0) / 2, tolerance: 1e-12)
    expectClose(dW1[1, 0], (-2 * dz.0 * 1 + -2 * dz.1 * 3) / 2, tolerance: 1e-12)
    expectClose(dW1[1, 1], (-2 * dz.0 * 2 + -2 * dz.1 * 0) / 2, tolerance: 1e-12)
    let db1 = try #require(g["b1"])
    expectClose(db1[0, 0], dz.1 / 2, tolerance: 1e-12)
    expectClose(db1[1, 0], -2 * (dz.0 + dz.1) / 2, tolerance: 1e-12)
  }

  static let checks: [(sizes: [Int], hidden: Activation, output: Activation, l2: Double)] = [
    ([5, 4, 3, 1], .relu, .sigmoid, 0), ([5, 4, 3, 1], .relu, .sigmoid, 0.7),
    ([4, 5, 3], .relu, .softmax, 0), ([4, 5, 3], .relu, .softmax, 0.7),
    ([3, 4, 2], .tanh, .identity, 0), ([3, 6, 1], .leakyReLU, .sigmoid, 0.1), ([3, 4, 1], .sigmoid, .tanh, 0),
  ]

  @Test(arguments: checks)
  func gradientCheckBelow1e7(check: (sizes: [Int], hidden: Activation, output: Activation, l2: Double)) throws {
    var net = Network<Double>(
      sizes: check.sizes, hiddenActivation: check.hidden, outputActivation: check.output, initializer: .he, seed: 3)
    // Non-zero biases: with zero biases a layer whose inputs are all cut off
    // by ReLU has Z exactly 0, where ReLU has a kink and finite differences
    // see half a slope.
    for l in 1...net.depth {
      net.setBias(l, Matrix.randomNormal(check.sizes[l], 1, standardDeviation: 0.5, seed: UInt64(l)))
    }
    let m = 7
    let x = Matrix<Double>.randomNormal(check.sizes[0], m, seed: 10)
    let y: Matrix<Double>
    switch check.output {
    case .softmax: y = DataSplit.oneHot([0, 1, 2, 2, 1, 0, 1], classCount: 3)
    case .sigmoid: y = Matrix(row: [0, 1, 1, 0, 1, 0, 0])
    default: y = Matrix<Double>.randomUniform(check.sizes.last!, m, in: -0.5..<0.5, seed: 4)
    }
    let difference = try GradientCheck.relativeDifference(network: net, x: x, y: y, l2: check.l2)
    #expect(difference < 1e-7, "relative difference \(difference) for \(net), l2 \(check.l2)")
  }

  @Test func gradientCheckCanFail() throws {
    // Backpropagated MSE gradients are not the numerical BCE gradients: the
    // measure must say so, or a passing check above would mean nothing.
    let net = Network<Double>(sizes: [3, 4, 1], seed: 2)
    let x = Matrix<Double>.randomNormal(3, 5, seed: 1)
    let y = Matrix<Double>(row: [0, 1, 1, 0, 1])
    var mse = try Trainer(network: net, options: TrainingOptions(loss: .meanSquaredError))
    let analyticMSE = mse.costAndGradients(x: x, y: y).gradients
    let numericBCE = try GradientCheck.numericalGradients(network: net, x: x, y: y)
    #expect(GradientCheck.relativeDifference(analyticMSE, numericBCE) > 1e-2)
    var bce = try Trainer(network: net)
    #expect(GradientCheck.relativeDifference(bce.costAndGradients(x: x, y: y).gradients, numericBCE) < 1e-7)
  }
}

/// The fused layer products (bias and activation applied to each block of
/// W·A_prev as it is produced; mask and g' applied to each block of Wᵀ·dZ)
/// against the unfused pieces on the naive path, for every activation and
/// odd sizes, in Float and Double.
@Suite struct FusedLayerProductTests {
  static let sizes: [(inputs: Int, units: Int, m: Int)] = [(30, 16, 455), (7, 3, 1), (5, 9, 1001), (8, 1, 13)]

  func check<S: BLASScalar>(_: S.Type, tolerance: S) {
    for (index, (inputs, units, m)) in Self.sizes.enumerated() {
      for activation in [Activation.relu, .leakyReLU, .sigmoid, .tanh, .identity, .softmax] {
        var g = Xoshiro256StarStar(seed: UInt64(index + 1))
        let layer = Layer<S>(
          weights: .randomUniform(units, inputs, in: -1..<1, using: &g),
          bias: .randomUniform(units, 1, in: -1..<1, using: &g),
          activation: activation)
        let aPrev = Matrix<S>.randomUniform(inputs, m, in: -1..<1, using: &g)
        var z = Matrix<S>.zeros(units, m)
        var a = Matrix<S>.zeros(units, m)
        layer.forward(aPrev, z: &z, a: &a)
        var zNaive = Naive.matmul(layer.weights, aPrev)
        var aNaive = zNaive
        activation.biasAndActivate(z: &zNaive, bias: layer.bias, a: &aNaive)
        let bound = tolerance * S(inputs + 2)
        #expect(z.isApproximatelyEqual(to: zNaive, absoluteTolerance: bound), "\(activation) Z \(units)×\(m)")
        #expect(a.isApproximatelyEqual(to: aNaive, absoluteTolerance: bound), "\(activation) A \(units)×\(m)")

        // Backward into a layer below of `inputs` units with this activation
        // (softmax only on an output layer, so not below).
        if activation == .softmax { continue }
        let dZ = Matrix<S>.randomUniform(units, m, in: -1..<1, using: &g)
        let zPrev = Matrix<S>.randomUniform(inputs, m, in: -2..<2, using: &g)
        let mask = Matrix<S>.randomUniform(inputs, m, in: 0..<2, using: &g)
        for withMask in [false, true] {
          var fused = Matrix<S>.zeros(inputs, m)
          layer.inputGradient(dZ: dZ, into: &fused, below: activation, zPrev: zPrev, mask: withMask ? mask : nil)
          var unfused = Naive.matmul(layer.weights, dZ, transposeA: true)
          if withMask { unfused *= mask }
          activation.backward(&unfused, z: zPrev)
          #expect(
            fused.isApproximatelyEqual(to: unfused, absoluteTolerance: tolerance * S(units + 2) * 4),
            "\(activation) dZ_prev \(inputs)×\(m) mask \(withMask): \(fused.maxAbsoluteDifference(unfused))")
        }
      }
    }
  }

  /// No examples: the fused passes have nothing to do and must not touch a buffer.
  @Test func noExamplesIsNotATrap() {
    let layer = Layer<Float>(weights: .ones(3, 2), bias: .zeros(3, 1), activation: .relu)
    var z = Matrix<Float>.zeros(3, 0)
    var a = Matrix<Float>.zeros(3, 0)
    layer.forward(Matrix<Float>.zeros(2, 0), z: &z, a: &a)
    var dZPrev = Matrix<Float>.zeros(2, 0)
    layer.inputGradient(dZ: .zeros(3, 0), into: &dZPrev, below: .relu, zPrev: .zeros(2, 0), mask: .zeros(2, 0))
    #expect(z.shape == Shape(3, 0) && a.shape == Shape(3, 0) && dZPrev.shape == Shape(2, 0))
  }

  @Test func fusedEqualsUnfusedInFloat() { check(Float.self, tolerance: 8 * Float.ulpOfOne) }
  @Test func fusedEqualsUnfusedInDouble() { check(Double.self, tolerance: 8 * Double.ulpOfOne) }
}

@Suite struct DropoutMaskTests {
  /// The masks of one step with `examples` as the batch's example indices;
  /// x's columns are those examples' inputs.
  func masks(_ examples: [Int], steps: Int = 1) throws -> [Matrix<Float>] {
    let network = Network<Float>(sizes: [4, 64, 32, 1], seed: 7)
    var trainer = try Trainer(network: network, options: TrainingOptions(keepProbability: 0.5, seed: 3))
    let x = Matrix<Float>(rows: 4, columns: examples.count) { i, j in Float(examples[j] * 4 + i) / 100 }
    let y = Matrix<Float>(rows: 1, columns: examples.count) { _, j in Float(examples[j] % 2) }
    trainer.dropoutExamples = examples[...]
    for _ in 0..<steps { trainer.computeGradients(x: x, y: y) }
    return try #require(trainer.batchBuffers[examples.count]).dropLast().map(\.mask)
  }

  /// An example's mask depends on the example, the step and the layer, not
  /// on the column it sits in: a data-parallel process holding only some of
  /// a batch's examples draws the masks one process would for them.
  @Test func anExamplesMaskIsItsOwnWhereverItSitsInTheBatch() throws {
    let inOrder = try masks([10, 11, 12, 13])
    let shuffled = try masks([12, 10, 13, 11])
    let alone = try masks([13])
    for (l, (a, b)) in zip(inOrder, shuffled).enumerated() {
      for (j, example) in [12, 10, 13, 11].enumerated() {
        #expect(b.column(j) == a.column(example - 10), "layer \(l + 1), example \(example)")
      }
      #expect(alone[l].column(0) == a.column(3), "layer \(l + 1), example 13 alone")
      // Inverted dropout at keep 0.5: each entry 0 or 2, about half kept.
      #expect(a.elements.allSatisfy { $0 == 0 || $0 == 2 })
      let kept = Double(a.elements.count { $0 == 2 }) / Double(a.elements.count)
      #expect(abs(kept - 0.5) < 0.15, "layer \(l + 1): \(kept) kept")
    }
    // Another step, other masks; another layer, another mask for the same example.
    let second = try masks([10, 11, 12, 13], steps: 2)
    #expect(second[0] != inOrder[0])
    #expect(inOrder[0].rows(0..<32) != inOrder[1])
  }
}
