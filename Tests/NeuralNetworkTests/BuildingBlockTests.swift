import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

/// Central differences of `f` with respect to every element of `at`.
func numericalGradient(of f: (Matrix<Double>) -> Double, at x: Matrix<Double>, epsilon: Double = 1e-6) -> Matrix<Double>
{
  var g = Matrix<Double>.zeros(x.rows, x.columns)
  for i in 0..<x.rows {
    for j in 0..<x.columns {
      var plus = x
      var minus = x
      plus[i, j] += epsilon
      minus[i, j] -= epsilon
      g[i, j] = (f(plus) - f(minus)) / (2 * epsilon)
    }
  }
  return g
}

func expectMatrixClose(
  _ observed: Matrix<Double>, _ expected: Matrix<Double>, tolerance: Double, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let d = observed.maxAbsoluteDifference(expected)
  #expect(d <= tolerance, "\(what): max difference \(d) > \(tolerance)", sourceLocation: sourceLocation)
}

@Suite struct LayerTests {
  /// W = [[1, −1, 2], [0.5, 0, −1]], b = [0.1, −0.2], A_prev 3×2, dZ 2×2, all by hand.
  @Test func backwardFromDZMatchesHandComputation() throws {
    let layer = Layer<Double>(
      weights: try Matrix([[1, -1, 2], [0.5, 0, -1]]), bias: Matrix(column: [0.1, -0.2]), activation: .relu)
    let aPrev = try Matrix<Double>([[1, 2], [0, -1], [3, 1]])
    let dZ = try Matrix<Double>([[0.5, -1], [2, 1]])
    let (dAPrev, dW, db) = layer.backward(dZ: dZ, aPrev: aPrev)
    // dW = (1/2)·dZ·A_prevᵀ: row 1 = ½(0.5·(1, 0, 3) − 1·(2, −1, 1)) = (−0.75, 0.5, 0.25)
    //                        row 2 = ½(2·(1, 0, 3) + 1·(2, −1, 1)) = (2, −0.5, 3.5)
    #expect(dW == (try Matrix([[-0.75, 0.5, 0.25], [2, -0.5, 3.5]])))
    #expect(db == Matrix(column: [-0.25, 1.5]))
    // dA_prev = Wᵀ·dZ: column 1 = 0.5·(1, −1, 2) + 2·(0.5, 0, −1) = (1.5, −0.5, −1)
    //                  column 2 = −1·(1, −1, 2) + 1·(0.5, 0, −1) = (−0.5, 1, −3)
    #expect(dAPrev == (try Matrix([[1.5, -0.5], [-0.5, 1], [-1, -3]])))
    // Forward: Z = W·A_prev + b.
    let (z, a) = layer.forward(aPrev)
    #expect(z == (try Matrix([[7.1, 5.1], [-2.7, -0.2]])))
    #expect(a == (try Matrix([[7.1, 5.1], [0, 0]])))
    #expect(layer.linear(aPrev) == z)
  }

  /// For J = (1/m)·Σ dA ⊙ g(W·A_prev + b), backprop from dA must give ∂J/∂W, ∂J/∂b
  /// and m·∂J/∂A_prev (the summed-loss convention): checked by finite differences.
  @Test(arguments: [Activation.relu, .leakyReLU, .sigmoid, .tanh, .identity, .softmax])
  func backwardFromDAMatchesFiniteDifferences(activation: Activation) throws {
    let w = Matrix<Double>.randomNormal(3, 4, seed: 1)
    let b = Matrix<Double>.randomNormal(3, 1, standardDeviation: 0.5, seed: 2)
    let aPrev = Matrix<Double>.randomNormal(4, 5, seed: 3)
    let dA = Matrix<Double>.randomNormal(3, 5, seed: 4)
    let m = 5.0
    func j(_ w: Matrix<Double>, _ b: Matrix<Double>, _ aPrev: Matrix<Double>) -> Double {
      let a = Layer(weights: w, bias: b, activation: activation).forward(aPrev).a
      return (dA * a).sum() / m
    }
    let layer = Layer(weights: w, bias: b, activation: activation)
    let z = layer.forward(aPrev).z
    let (dAPrev, dW, db, dZ) = layer.backward(dA: dA, z: z, aPrev: aPrev)
    // dZ = ∂(Σ dA ⊙ g(Z)) / ∂Z, the course's dZ of linear_activation_backward.
    expectMatrixClose(
      dZ, numericalGradient(of: { (dA * activation.apply($0)).sum() }, at: z), tolerance: 1e-8, "dZ, \(activation)")
    expectMatrixClose(dW, numericalGradient(of: { j($0, b, aPrev) }, at: w), tolerance: 1e-8, "dW, \(activation)")
    expectMatrixClose(db, numericalGradient(of: { j(w, $0, aPrev) }, at: b), tolerance: 1e-8, "db, \(activation)")
    expectMatrixClose(
      dAPrev, numericalGradient(of: { j(w, b, $0) }, at: aPrev) * m, tolerance: 1e-7, "dA_prev, \(activation)")
  }

  @Test func derivativesAtZero() {
    let z = Matrix<Double>.zeros(1, 1)
    #expect(Activation.relu.derivative(z)[0, 0] == 0)
    #expect(Activation.leakyReLU.derivative(z)[0, 0] == 0.01)
    #expect(Activation.sigmoid.derivative(z)[0, 0] == 0.25)
    #expect(Activation.tanh.derivative(z)[0, 0] == 1)
    #expect(Activation.identity.derivative(z)[0, 0] == 1)
    // And away from zero, against the formulas.
    let x = Matrix<Double>(row: [-2, 0.5])
    #expect(Activation.relu.derivative(x) == Matrix(row: [0, 1]))
    #expect(Activation.leakyReLU.derivative(x) == Matrix(row: [0.01, 1]))
    let s = 1 / (1 + exp(2.0))
    expectClose(Activation.sigmoid.derivative(x)[0, 0], s * (1 - s), tolerance: 1e-16)
    expectClose(Activation.tanh.derivative(x)[0, 1], 1 - tanh(0.5) * tanh(0.5), tolerance: 1e-16)
  }

  @Test func softmaxHasNoElementwiseDerivative() async {
    await #expect(processExitsWith: .failure) {
      _ = Activation.softmax.derivative(Matrix<Double>.zeros(2, 1))
    }
  }
}

@Suite struct LossTests {
  static let m = 4

  static func data(rows: Int) -> (a: Matrix<Double>, z: Matrix<Double>, y: Matrix<Double>, w: Matrix<Double>) {
    let z = Matrix<Double>.randomNormal(rows, m, seed: 5)
    let a = Activation.sigmoid.apply(z)
    let y: Matrix<Double> =
      rows == 1 ? Matrix(row: [1, 0, 1, 0]) : DataSplit.oneHot([0, 2, 1, 2], classCount: rows)
    return (a, z, y, Matrix(row: [1, 0.5, 2, 0.25]))
  }

  /// Each gradient is that of the summed loss, m·J, with the weights applied.
  @Test(arguments: [false, true])
  func gradientsMatchFiniteDifferences(weighted: Bool) {
    let m = Double(Self.m)
    let (a, z, y, w0) = Self.data(rows: 1)
    let w: Matrix<Double>? = weighted ? w0 : nil
    expectMatrixClose(
      Losses.binaryCrossEntropyGradient(predictions: a, labels: y, weights: w),
      numericalGradient(of: { m * Losses.binaryCrossEntropy(predictions: $0, labels: y, weights: w) }, at: a),
      tolerance: 1e-6, "BCE dA")
    expectMatrixClose(
      Losses.binaryCrossEntropyGradient(logits: z, labels: y, weights: w),
      numericalGradient(of: { m * Losses.binaryCrossEntropy(logits: $0, labels: y, weights: w) }, at: z),
      tolerance: 1e-8, "BCE dZ")
    let (_, zk, yk, _) = Self.data(rows: 3)
    let probabilities = Activation.softmax.apply(zk)
    expectMatrixClose(
      Losses.categoricalCrossEntropyGradient(logits: zk, labels: yk, weights: w),
      numericalGradient(of: { m * Losses.categoricalCrossEntropy(logits: $0, labels: yk, weights: w) }, at: zk),
      tolerance: 1e-8, "CCE dZ")
    expectMatrixClose(
      Losses.categoricalCrossEntropyGradient(probabilities: probabilities, labels: yk, weights: w),
      numericalGradient(
        of: { m * Losses.categoricalCrossEntropy(probabilities: $0, labels: yk, weights: w) }, at: probabilities),
      tolerance: 1e-6, "CCE dA")
    let targets = Matrix<Double>.randomNormal(3, Self.m, seed: 6)
    expectMatrixClose(
      Losses.meanSquaredErrorGradient(predictions: zk, labels: targets, weights: w),
      numericalGradient(of: { m * Losses.meanSquaredError(predictions: $0, labels: targets, weights: w) }, at: zk),
      tolerance: 1e-8, "MSE dA")
  }

  @Test func valuesMatchTheirFormulas() {
    let (a, z, y, w) = Self.data(rows: 1)
    var bce = 0.0
    var weighted = 0.0
    for j in 0..<Self.m {
      let term = -(y[0, j] * log(a[0, j]) + (1 - y[0, j]) * log(1 - a[0, j]))
      bce += term
      weighted += w[0, j] * term
    }
    expectClose(Losses.binaryCrossEntropy(predictions: a, labels: y), bce / 4, tolerance: 1e-12)
    expectClose(Losses.binaryCrossEntropy(logits: z, labels: y), bce / 4, tolerance: 1e-12)
    expectClose(Losses.binaryCrossEntropy(logits: z, labels: y, weights: w), weighted / 4, tolerance: 1e-12)
    // dZ = A − Y, and the clipped gradient form's chain through σ' gives the same.
    expectMatrixClose(Losses.binaryCrossEntropyGradient(logits: z, labels: y), a - y, tolerance: 1e-15, "A − Y")
    let chained = Activation.sigmoid.backward(dA: Losses.binaryCrossEntropyGradient(predictions: a, labels: y), z: z)
    expectMatrixClose(chained, a - y, tolerance: 1e-14, "dA ⊙ σ'(Z)")
    // Softmax + CCE: dZ = softmax(Z) − Y.
    let (_, zk, yk, _) = Self.data(rows: 3)
    expectMatrixClose(
      Losses.categoricalCrossEntropyGradient(logits: zk, labels: yk), Activation.softmax.apply(zk) - yk,
      tolerance: 1e-15, "softmax − Y")
    // MSE: (1/(m·n)) Σ (a − y)².
    let d = zk - yk
    expectClose(Losses.meanSquaredError(predictions: zk, labels: yk), (d * d).sum() / 12, tolerance: 1e-15)
  }

  @Test func l2PenaltyAndGradient() throws {
    let network = try Network<Double>(
      parameters: [
        "W1": Matrix([[1, -2], [3, 0]]), "b1": Matrix(column: [5, 5]), "W2": Matrix([[0.5, -1]]),
        "b2": Matrix(column: [7]),
      ], activations: [.relu, .sigmoid])
    // (λ/2m)·(1 + 4 + 9 + 0.25 + 1) with λ = 0.6, m = 3; biases are not penalised.
    expectClose(Losses.l2Penalty(of: network, lambda: 0.6, examples: 3), 0.1 * 15.25, tolerance: 1e-14)
    expectMatrixClose(
      Losses.l2Gradient(weights: network.weights(1), lambda: 0.6, examples: 3), network.weights(1) * 0.2,
      tolerance: 1e-15, "(λ/m)·W1")
    var dW = Matrix<Double>.ones(1, 2)
    Losses.addL2Gradient(weights: network.weights(2), lambda: 0.6, examples: 3, to: &dW)
    expectMatrixClose(dW, Matrix(row: [1.1, 0.8]), tolerance: 1e-15, "dW + (λ/m)·W2")
  }

  /// A Float sigmoid output of eight or more examples goes through the
  /// eight-lane kernel (polynomial e^−|z| and ln(1 + e)); checked against
  /// the formulas in Double, value by value and over 1003 random examples.
  @Test func theEightWideFloatKernelMatchesTheFormulasInDouble() throws {
    func exact(_ z: Double, _ y: Double) -> (cost: Double, gradient: Double) {
      let e = Foundation.exp(-Swift.abs(z))
      return (Swift.max(z, 0) - z * y + Foundation.log1p(e), (z >= 0 ? 1 : e) / (1 + e) - y)
    }
    // One value in all eight lanes: the cost is that value's term, to a few ulps of it.
    let specials: [Float] = [
      0, 1e-30, -1e-30, 0.3, -0.3, 1, -1, 5, -5, 20, -20, 40, -40, 87, -87, 88.7, -88.7, 100, -100,
    ]
    for v in specials {
      for label: Float in [0, 1] {
        let z = Matrix<Float>(row: Array(repeating: v, count: 8))
        let y = Matrix<Float>(row: Array(repeating: label, count: 8))
        var dz = Matrix<Float>.zeros(1, 8)
        let cost = Double(Losses.binaryCrossEntropy(logits: z, labels: y, gradient: &dz))
        let want = exact(Double(v), Double(label))
        #expect(Swift.abs(cost - want.cost) <= 4e-7 * want.cost + 1e-37, "z \(v), y \(label): \(cost) vs \(want.cost)")
        #expect(
          Swift.abs(Double(dz[0, 3]) - want.gradient) <= 2.5e-7, "z \(v), y \(label): \(dz[0, 3]) vs \(want.gradient)")
      }
    }
    // 1003 examples (125 chunks of eight and 3 left for the scalar loop), weighted.
    var g = Xoshiro256StarStar(seed: 9)
    let m = 1003
    let z = Matrix<Float>(rows: 1, columns: m) { _, _ in Float(g.nextStandardNormal() * 12) }
    let y = Matrix<Float>(rows: 1, columns: m) { _, _ in g.nextUnitDouble() < 0.5 ? 0 : 1 }
    let w = Matrix<Float>(rows: 1, columns: m) { _, _ in Float(3 * g.nextUnitDouble()) }
    var dz = Matrix<Float>.zeros(1, m)
    let cost = Double(Losses.binaryCrossEntropy(logits: z, labels: y, weights: w, gradient: &dz))
    var total = 0.0
    for j in 0..<m {
      let want = exact(Double(z[0, j]), Double(y[0, j]))
      total += Double(w[0, j]) * want.cost
      #expect(Swift.abs(Double(dz[0, j]) - Double(w[0, j]) * want.gradient) <= 1e-6, "example \(j)")
    }
    #expect(Swift.abs(cost - total / Double(m)) <= 1e-5 * total / Double(m), "\(cost) vs \(total / Double(m))")
    // A NaN logit in a chunk: the cost is NaN, the other lanes' gradients are right.
    var poisoned = z
    poisoned[0, 10] = .nan
    var dzNaN = Matrix<Float>.zeros(1, m)
    #expect(Losses.binaryCrossEntropy(logits: poisoned, labels: y, weights: w, gradient: &dzNaN).isNaN)
    #expect(dzNaN[0, 10].isNaN && Swift.abs(dzNaN[0, 11] - dz[0, 11]) <= 1e-6 && dzNaN[0, 9] == dz[0, 9])
  }

  /// Logits of magnitude 20 with matching labels: the exact cost is
  /// ln(1 + e^−20) ≈ 2.06e-9 per example; reported in Float within 1e-3.
  @Test func smallCostsKeepTheirRelativeAccuracyInFloat() throws {
    let exact = log1p(exp(-20.0))
    let z = Matrix<Float>(row: [20, -20, 20, -20])
    let y = Matrix<Float>(row: [1, 0, 1, 0])
    let bce = Double(Losses.binaryCrossEntropy(logits: z, labels: y))
    #expect(abs(bce - exact) <= 1e-3 * exact, "BCE \(bce) vs \(exact)")
    // The same through the network and the trainer: W = 20, b = 0, x = ±1.
    let network = try Network<Float>(
      parameters: ["W1": Matrix([[20]]), "b1": Matrix(column: [0])], activations: [.sigmoid])
    let x = Matrix<Float>(row: [1, -1, 1, -1])
    let viaNetwork = Double(network.cost(x: x, y: y))
    #expect(abs(viaNetwork - exact) <= 1e-3 * exact, "Network.cost \(viaNetwork) vs \(exact)")
    var trainer = try Trainer(network: network)
    let viaTrainer = Double(trainer.step(x: x, y: y))
    #expect(abs(viaTrainer - exact) <= 1e-3 * exact, "Trainer.step \(viaTrainer) vs \(exact)")
    // Softmax: the true class 20 above the others.
    let zk = try Matrix<Float>([[20, 0], [0, 20], [0, 0]])
    let yk = try Matrix<Float>([[1, 0], [0, 1], [0, 0]])
    let exactK = log1p(2 * exp(-20.0))
    let cce = Double(Losses.categoricalCrossEntropy(logits: zk, labels: yk))
    #expect(abs(cce - exactK) <= 1e-3 * exactK, "CCE \(cce) vs \(exactK)")
  }
}

@Suite struct OptimizerUpdateTests {
  /// A one-layer network W = [[1, −2]], b = [0.5], gradients dW = [[0.1, −0.2]], db = [0.3].
  func setUp() throws -> (Network<Double>, Gradients<Double>) {
    let network = try Network<Double>(
      parameters: ["W1": Matrix([[1, -2]]), "b1": Matrix(column: [0.5])], activations: [.sigmoid])
    return (network, Gradients(weights: [try Matrix([[0.1, -0.2]])], biases: [Matrix(column: [0.3])]))
  }

  func parameters(_ n: Network<Double>) -> [Double] { n.weights(1).elements + n.bias(1).elements }
  let gradient = [0.1, -0.2, 0.3]

  func expectParameters(_ n: Network<Double>, _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
    for (o, e) in zip(parameters(n), expected) {
      #expect(abs(o - e) <= 1e-15 * max(1, abs(e)), "\(o) vs \(e)", sourceLocation: sourceLocation)
    }
  }

  @Test func gradientDescent() throws {
    var (n, g) = try setUp()
    var gd = GradientDescent<Double>(learningRate: 0.1)
    gd.update(&n, with: g)
    expectParameters(n, [1 - 0.01, -2 + 0.02, 0.5 - 0.03])
  }

  @Test func momentumFromAGivenVelocity() throws {
    var (n, g) = try setUp()
    var momentum = Momentum(for: n, learningRate: 0.1, beta: 0.9)
    momentum.v = Gradients(weights: [try Matrix([[0.05, 0]])], biases: [Matrix(column: [-0.1])])
    momentum.update(&n, with: g)
    let v = [0.05, 0, -0.1].enumerated().map { k, v0 in 0.9 * v0 + (1 - 0.9) * gradient[k] }
    expectMatrixClose(momentum.v.dW(1), Matrix(row: [v[0], v[1]]), tolerance: 1e-16, "v")
    expectParameters(n, [1 - 0.1 * v[0], -2 - 0.1 * v[1], 0.5 - 0.1 * v[2]])
  }

  /// Adam with t = 1 already done and zero moments: this update uses t = 2.
  @Test func adamAtStepTwoOnZeroMoments() throws {
    var (n, g) = try setUp()
    var adam = Adam(for: n, learningRate: 0.01)
    adam.t = 1
    adam.update(&n, with: g)
    #expect(adam.t == 2)
    let start = [1.0, -2, 0.5]
    var expected: [Double] = []
    for (p, d) in zip(start, gradient) {
      let v = 0.1 * d
      let s = 0.001 * d * d
      let vHat = v / (1 - 0.9 * 0.9)
      let sHat = s / (1 - 0.999 * 0.999)
      expected.append(p - 0.01 * vHat / (sHat.squareRoot() + 1e-8))
    }
    expectParameters(n, expected)
    expectClose(adam.s.db(1)[0, 0], 0.001 * 0.09, tolerance: 1e-18)
  }

  @Test func adamFromGivenMoments() throws {
    var (n, g) = try setUp()
    var adam = Adam(for: n, learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6)
    adam.v = Gradients(weights: [try Matrix([[0.2, 0.1]])], biases: [Matrix(column: [-0.05])])
    adam.s = Gradients(weights: [try Matrix([[0.04, 0.01]])], biases: [Matrix(column: [0.02])])
    adam.t = 4
    adam.update(&n, with: g)
    let (v0, s0) = ([0.2, 0.1, -0.05], [0.04, 0.01, 0.02])
    var expected: [Double] = []
    for k in 0..<3 {
      let v = 0.8 * v0[k] + 0.2 * gradient[k]
      let s = 0.99 * s0[k] + 0.01 * gradient[k] * gradient[k]
      let step = (v / (1 - pow(0.8, 5))) / ((s / (1 - pow(0.99, 5))).squareRoot() + 1e-6)
      expected.append([1.0, -2, 0.5][k] - 0.01 * step)
    }
    expectParameters(n, expected)
  }

  /// The update runs in vector instructions; it must give the scalar
  /// formula's bits, in every lane and in the tail (W1 has 35 elements:
  /// 8 lanes of 4 floats and 3 more), for Float and Double, with decay.
  @Test func adamInVectorLanesIsTheScalarFormulaBitForBit() {
    func check<S: BLASScalar>(_: S.Type, weightDecay: Double) {
      var network = Network<S>(sizes: [7, 5, 3], seed: 3)
      let start = network
      var adam = Adam(for: network, learningRate: 0.003, beta1: 0.85, beta2: 0.995, weightDecay: weightDecay)
      adam.t = 6
      adam.v = Gradients(
        weights: network.layers.map { Matrix<S>.randomNormal($0.weights.rows, $0.weights.columns, seed: 4) },
        biases: network.layers.map { Matrix<S>.randomNormal($0.bias.rows, 1, seed: 5) })
      adam.s = Gradients(
        weights: network.layers.map { Matrix<S>.randomUniform($0.weights.rows, $0.weights.columns, seed: 6) },
        biases: network.layers.map { Matrix<S>.randomUniform($0.bias.rows, 1, seed: 7) })
      let (v0, s0) = (adam.v, adam.s)
      let g = Gradients(
        weights: network.layers.map { Matrix<S>.randomNormal($0.weights.rows, $0.weights.columns, seed: 8) },
        biases: network.layers.map { Matrix<S>.randomNormal($0.bias.rows, 1, seed: 9) })
      adam.update(&network, with: g)
      // The scalar formula, one element at a time, in the scalar type.
      let (b1, b2, alpha, eps) = (S(0.85), S(0.995), S(0.003), S(1e-8))
      // β⁷ as the update forms it, by squaring: β · β² · β⁴.
      func power7(_ x: Double) -> Double { x * (x * x) * ((x * x) * (x * x)) }
      let invC1 = S(1 / (1 - power7(0.85)))
      let invC2 = S(1 / (1 - power7(0.995)))
      func expected(_ w: S, _ g: S, _ v: S, _ s: S, decay: S) -> (S, S, S) {
        let v1 = b1 * v + (1 - b1) * g
        let s1 = b2 * s + (1 - b2) * g * g
        return (decay * w - alpha * (v1 * invC1) / ((s1 * invC2).squareRoot() + eps), v1, s1)
      }
      let decay = S(1 - 0.003 * weightDecay)
      for l in network.layers.indices {
        for (name, got, was, grad, v, s, d, vGot, sGot) in [
          (
            "W", network.layers[l].weights, start.layers[l].weights, g.weights[l], v0.weights[l], s0.weights[l],
            decay, adam.v.weights[l], adam.s.weights[l]
          ),
          (
            "b", network.layers[l].bias, start.layers[l].bias, g.biases[l], v0.biases[l], s0.biases[l], S(1),
            adam.v.biases[l], adam.s.biases[l]
          ),
        ] {
          for i in 0..<got.rows {
            for j in 0..<got.columns {
              let (w1, v1, s1) = expected(was[i, j], grad[i, j], v[i, j], s[i, j], decay: d)
              #expect(got[i, j] == w1 && vGot[i, j] == v1 && sGot[i, j] == s1, "\(S.self) \(name)\(l + 1)[\(i), \(j)]")
            }
          }
        }
      }
    }
    check(Float.self, weightDecay: 0)
    check(Float.self, weightDecay: 0.1)
    check(Double.self, weightDecay: 0)
    check(Double.self, weightDecay: 0.1)
  }

  /// The L2 penalty sums its squares by BLAS's dot: equal to a sum in
  /// Double within Float's rounding, for sizes that are no multiple of a vector.
  @Test func l2PenaltyByBLASMatchesTheSumInDouble() {
    let network = Network<Float>(sizes: [13, 7, 3], seed: 11)
    var squares = 0.0
    for layer in network.layers {
      for i in 0..<layer.weights.rows {
        for j in 0..<layer.weights.columns { squares += Double(layer.weights[i, j]) * Double(layer.weights[i, j]) }
      }
    }
    let penalty = Double(Losses.l2Penalty(of: network, lambda: 0.7, examples: 5))
    expectClose(penalty, 0.7 / 10 * squares, tolerance: 1e-6 * squares)
    #expect(squares > 1)
  }

  /// RMSProp (Hinton, lecture 6e): s ← ρs + (1 − ρ)g², θ ← θ − α·g/(√s + ε).
  @Test func rmsPropFollowsItsPublishedRule() throws {
    var (n, g) = try setUp()
    var rms = RMSProp(for: n, learningRate: 0.01, rho: 0.9, epsilon: 1e-8)
    rms.s = Gradients(weights: [try Matrix([[0.5, 0.1]])], biases: [Matrix(column: [0])])
    rms.update(&n, with: g)
    let s0 = [0.5, 0.1, 0]
    var expected: [Double] = []
    for k in 0..<3 {
      let s = 0.9 * s0[k] + 0.1 * gradient[k] * gradient[k]
      expected.append([1.0, -2, 0.5][k] - 0.01 * gradient[k] / (s.squareRoot() + 1e-8))
    }
    expectParameters(n, expected)
  }

  /// AdamW (Loshchilov and Hutter; PyTorch's form): θ ← θ·(1 − αλ), then Adam's step;
  /// biases are not decayed.
  @Test func adamWFollowsItsPublishedRule() throws {
    var (n, g) = try setUp()
    var adamW = AdamW(for: n, learningRate: 0.01, weightDecay: 0.1)
    adamW.update(&n, with: g)
    adamW.update(&n, with: g)
    var expected: [Double] = []
    for k in 0..<3 {
      var theta = [1.0, -2, 0.5][k]
      var (v, s) = (0.0, 0.0)
      for t in 1...2 {
        if k < 2 { theta *= 1 - 0.01 * 0.1 }
        v = 0.9 * v + 0.1 * gradient[k]
        s = 0.999 * s + 0.001 * gradient[k] * gradient[k]
        let vHat = v / (1 - pow(0.9, Double(t)))
        let sHat = s / (1 - pow(0.999, Double(t)))
        theta -= 0.01 * vHat / (sHat.squareRoot() + 1e-8)
      }
      expected.append(theta)
    }
    expectParameters(n, expected)
    // Without decay it is Adam exactly.
    var (a, _) = try setUp()
    var (b, _) = try setUp()
    var plain = Adam(for: a, learningRate: 0.01)
    var noDecay = AdamW(for: b, learningRate: 0.01, weightDecay: 0)
    plain.update(&a, with: g)
    noDecay.update(&b, with: g)
    #expect(a == b)
  }

  @Test func theTrainerRunsEveryOptimizerAndKeepsItsState() throws {
    let x = Matrix<Float>.randomNormal(3, 20, seed: 1)
    let y = Matrix<Float>(rows: 1, columns: 20) { _, j in x[0, j] > 0 ? 1 : 0 }
    for optimizer in [
      Optimizer.gradientDescent(learningRate: 0.5), .momentum(learningRate: 0.5), .adam(learningRate: 0.05),
      .rmsProp(learningRate: 0.01), .adamW(learningRate: 0.05, weightDecay: 0.01),
    ] {
      var trainer = try Trainer(
        network: Network<Float>(sizes: [3, 4, 1], seed: 2), options: TrainingOptions(epochs: 40, optimizer: optimizer))
      let history = try trainer.fit(x: x, y: y)
      #expect(history.costs.last!.cost < 0.6 * history.costs.first!.cost, "\(optimizer): \(history.costs)")
      #expect(trainer.optimizer.learningRate == optimizer.learningRate)
      if let adam = trainer.optimizer.state(as: Adam<Float>.self) { #expect(adam.t == 40) }
      if let adamW = trainer.optimizer.state(as: AdamW<Float>.self) { #expect(adamW.t == 40) }
      let made: [String: Any.Type] = [
        "gd": GradientDescent<Float>.self, "momentum": Momentum<Float>.self, "adam": Adam<Float>.self,
        "rmsprop": RMSProp<Float>.self, "adamw": AdamW<Float>.self,
      ]
      #expect(type(of: trainer.optimizer.base) == made[optimizer.name]!, "\(optimizer.name)")
    }
    #expect(throws: TrainingError.self) {
      try Trainer(
        network: Network<Float>(sizes: [3, 1]), options: TrainingOptions(optimizer: .adam(learningRate: 0.1, beta1: 1)))
    }
  }

  /// The course's `update_parameters_with_adam(parameters, grads, v, s, t, …)`
  /// on plain dictionaries, checked by hand: from zero moments the first
  /// Adam step is α·dW/(|dW| + ε) ≈ α·sign(dW); gradient descent is W − α·dW.
  @Test func optimisersUpdateAParameterDictionaryAsTheCourseDoes() throws {
    let start: [String: Matrix<Double>] = [
      "W1": try Matrix(rows: 1, columns: 2, columnMajor: [1, 2]),
      "b1": try Matrix(rows: 1, columns: 1, columnMajor: [0.5]),
    ]
    let grads: [String: Matrix<Double>] = [
      "dW1": try Matrix(rows: 1, columns: 2, columnMajor: [0.1, -0.2]),
      "db1": try Matrix(rows: 1, columns: 1, columnMajor: [1]),
    ]
    var parameters = start
    var gd = GradientDescent<Double>(learningRate: 0.5)
    gd.update(&parameters, with: grads)
    #expect(parameters["W1"]!.elements == [0.95, 2.1] && parameters["b1"]!.elements == [0])

    parameters = start
    let network = try Network<Double>(parameters: start, activations: [.sigmoid])
    var adam = Adam(for: network, learningRate: 0.01)
    #expect(adam.t == 0)
    adam.update(&parameters, with: grads)
    #expect(adam.t == 1)  // the course's t after its first update
    #expect(Swift.abs(parameters["W1"]![0, 0] - 0.99) < 1e-6 && Swift.abs(parameters["W1"]![0, 1] - 2.01) < 1e-6)
    #expect(Swift.abs(parameters["b1"]![0, 0] - 0.49) < 1e-6)
    #expect(adam.v.dW(1).elements.map { ($0 * 1e6).rounded() } == [1e4, -2e4])  // (1 − β₁)·dW
    #expect(Swift.abs(adam.s.db(1)[0, 0] - 0.001) < 1e-12)  // (1 − β₂)·db²
  }

  /// The course's compute_cost_with_regularization, by hand: AL = [0.8, 0.1],
  /// Y = [1, 0], W1 = [[1, 2]], W2 = [[3]], λ = 0.5, m = 2:
  /// −(ln 0.8 + ln 0.9)/2 + (0.5/4)·(1 + 4 + 9).
  @Test func theL2RegularisedCostFromAnOutputAndParameters() throws {
    let al = Matrix<Double>(row: [0.8, 0.1])
    let y = Matrix<Double>(row: [1, 0])
    let parameters: [String: Matrix<Double>] = [
      "W1": Matrix(row: [1, 2]), "b1": Matrix(row: [100]), "W2": Matrix(row: [3]), "b2": Matrix(row: [-7]),
    ]
    let expected = -(log(0.8) + log(0.9)) / 2 + 0.125 * 14
    let cost = Losses.binaryCrossEntropy(predictions: al, labels: y, parameters: parameters, lambda: 0.5)
    #expect(Swift.abs(cost - expected) < 1e-12, "\(cost) vs \(expected)")
    // The same penalty as a network with these weights has.
    let network = try Network<Double>(parameters: parameters, activations: [.relu, .sigmoid])
    #expect(
      Losses.l2Penalty(parameters: parameters, lambda: 0.5, examples: 2)
        == Losses.l2Penalty(of: network, lambda: 0.5, examples: 2))
  }

  /// Cost and gradients on a column view (a mini-batch of a larger matrix)
  /// equal those on a copy of the same columns.
  @Test func costAndGradientsTakeColumnViews() {
    let x = Matrix<Double>.randomNormal(4, 30, seed: 5)
    let y = Matrix<Double>(rows: 1, columns: 30) { _, j in j % 3 == 0 ? 1 : 0 }
    let network = Network<Double>(sizes: [4, 5, 1], seed: 6)
    let (bx, by) = (x.columnRange(10..<26), y.columnRange(10..<26))
    let (cx, cy) = (DataSplit.columns(x, Array(10..<26)), DataSplit.columns(y, Array(10..<26)))
    let view = network.costAndGradients(x: bx, y: by, l2: 0.1)
    let copy = network.costAndGradients(x: cx, y: cy, l2: 0.1)
    #expect(view.cost == copy.cost && view.gradients == copy.gradients)
    #expect(network.cost(x: bx, y: by) == network.cost(x: cx, y: cy))
    #expect(network.gradients(x: bx, y: by) == network.gradients(x: cx, y: cy))
  }
}

@Suite struct MiniBatchAndInitializerTests {
  @Test func batchesAreConsecutiveBlocksOfThePermutedColumns() {
    let x = Matrix<Double>(rows: 2, columns: 7) { i, j in Double(10 * j + i) }
    let y = Matrix<Double>(rows: 1, columns: 7) { _, j in Double(j) }
    let order = [3, 6, 0, 5, 1, 2, 4]
    let batches = MiniBatches(x: x, y: y, batchSize: 3, order: order)
    #expect(batches.count == 3)
    #expect(batches.map { $0.x.columns } == [3, 3, 1])
    var seen: [Double] = []
    for batch in batches {
      for j in 0..<batch.x.columns {
        #expect(batch.x[1, j] == batch.y[0, j] * 10 + 1)
        seen.append(batch.y[0, j])
      }
    }
    #expect(seen == order.map(Double.init))
    // No order: views of x itself, in stored order.
    let plain = MiniBatches(x: x, y: y, batchSize: 4)
    #expect(plain[1].x.copy() == DataSplit.columns(x, [4, 5, 6]))
    #expect(plain.orderedX == x)
    // The seeded form is the permutation drawn from the same generator.
    var g1 = Xoshiro256StarStar(seed: 3)
    var g2 = Xoshiro256StarStar(seed: 3)
    let shuffled = MiniBatches(x: x, y: y, batchSize: 2, shuffledBy: &g1)
    #expect(shuffled.orderedY.elements == g2.permutation(7).map(Double.init))
  }

  @Test func initialisationFromAnyGeneratorAndFromGivenDraws() throws {
    // The seed form is the generator form with xoshiro256**.
    var g = Xoshiro256StarStar(seed: 5)
    #expect(
      Network<Float>(sizes: [4, 3, 1], seed: 5) == Network<Float>(sizes: [4, 3, 1], using: &g))
    // Another generator gives other weights, reproducibly.
    var s1 = SplitMix64(seed: 9)
    var s2 = SplitMix64(seed: 9)
    let a = Network<Float>(sizes: [4, 3, 1], initializer: .xavier, using: &s1)
    #expect(a == Network<Float>(sizes: [4, 3, 1], initializer: .xavier, using: &s2))
    #expect(a != Network<Float>(sizes: [4, 3, 1], initializer: .xavier, seed: 9))
    // Given draws are scaled by each rule.
    let draws = [Matrix<Double>.randomNormal(3, 4, seed: 1), Matrix<Double>.randomNormal(1, 3, seed: 2)]
    for (rule, scale) in [
      (Initializer.he, (2.0 / 4).squareRoot()), (.xavier, (2.0 / 7).squareRoot()), (.reference, 0.5),
      (.smallNormal, 0.01), (.smallNormal(scale: 0.5), 0.5),
    ] {
      let n = Network<Double>(sizes: [4, 3, 1], initializer: rule, standardNormalDraws: draws)
      #expect(n.weights(1) == draws[0] * scale, "\(rule)")
      #expect(n.bias(2) == .zeros(1, 1))
    }
    let orthogonal = Network<Double>(sizes: [4, 3, 1], initializer: .orthogonal, standardNormalDraws: draws)
    let w = orthogonal.weights(1)  // 3×4: orthogonal rows scaled by √2
    let gram = matmul(w, w, transposeB: true)
    #expect(gram.isApproximatelyEqual(to: Matrix<Double>.identity(3) * 2, absoluteTolerance: 1e-12))
  }

  @Test func gradientsHaveTheCourseNames() throws {
    let network = Network<Double>(sizes: [3, 4, 2, 1], seed: 4)
    let x = Matrix<Double>.randomNormal(3, 6, seed: 5)
    let y = Matrix<Double>(row: [1, 0, 0, 1, 1, 0])
    let g = network.gradients(x: x, y: y, keepIntermediates: true)
    #expect(
      Set(g.named.keys)
        == ["dW1", "db1", "dW2", "db2", "dW3", "db3", "dZ1", "dZ2", "dZ3", "dA0", "dA1", "dA2"])
    #expect(g["dW2"] == g.dW(2))
    #expect(g["W2"] == g.dW(2))
    #expect(g["db3"] == g.db(3))
    #expect(g["dW9"] == nil)
    // dA0 is m·∂J/∂X, checked by finite differences.
    let dA0 = try #require(g["dA0"])
    expectMatrixClose(dA0, numericalGradient(of: { network.cost(x: $0, y: y) }, at: x) * 6, tolerance: 1e-7, "dA0")
    // Without intermediates there are none, and the parameter gradients are the same.
    let lean = network.gradients(x: x, y: y)
    #expect(lean.intermediates.isEmpty)
    #expect(lean.weights == g.weights && lean.biases == g.biases)
  }
}

@Suite struct DivergenceTests {
  let x = Matrix<Float>.randomNormal(4, 60, seed: 1)
  var y: Matrix<Float> { Matrix(rows: 3, columns: 60) { i, j in j % 3 == i ? 1 : 0 } }

  @Test func aDivergingRunThrowsAndLeavesTheNetworkAsItWas() throws {
    let start = Network<Float>(sizes: [4, 8, 3], outputActivation: .softmax, seed: 2)
    var network = start
    let options = TrainingOptions(epochs: 20, optimizer: .gradientDescent(learningRate: 1e6), batchSize: 16)
    #expect {
      try network.train(x: x, y: y, options: options)
    } throws: { error in
      guard case .diverged(let epoch, let batch, let cost, let first) = error as? TrainingError else { return false }
      return epoch == 1 && batch != nil && (!cost.isFinite || cost > 1e4 * (first + 1))
    }
    #expect(network == start)
    // A caller who wants to watch the divergence can keep going.
    var research = start
    var keepGoing = options
    keepGoing.stopOnDivergence = false
    let history = try research.train(x: x, y: y, options: keepGoing)
    #expect(history.epochsRun == 20)
    #expect(history.costs.contains { !$0.cost.isFinite || $0.cost > 1e4 })
  }

  @Test func aHealthyRunIsNotStopped() throws {
    var network = Network<Float>(sizes: [4, 8, 3], outputActivation: .softmax, seed: 2)
    let history = try network.train(
      x: x, y: y, options: TrainingOptions(epochs: 50, optimizer: .adam(learningRate: 0.05), batchSize: 16))
    #expect(history.epochsRun == 50)
  }

  /// NaN is never turned into a valid number by an activation (SIMD rows and the scalar tail alike).
  @Test(arguments: [Activation.relu, .leakyReLU, .identity, .sigmoid, .tanh])
  func nanPropagatesThroughActivations(activation: Activation) {
    for rows in [3, 8, 11] {
      var z = Matrix<Float>(rows: rows, columns: 2) { i, j in i == rows - 1 || j == 0 && i == 0 ? .nan : -1 }
      var a = z
      activation.biasAndActivate(z: &z, bias: .zeros(rows, 1), a: &a)
      #expect(a[rows - 1, 0].isNaN && a[rows - 1, 1].isNaN && a[0, 0].isNaN, "\(activation), \(rows) rows")
      #expect(!a[1, 1].isNaN)
    }
    #expect(Activation.relu.apply(Matrix<Float>(row: [-2, 0, 3])) == Matrix(row: [0, 0, 3]))
  }
}
