// The course's step-by-step L-layer model, written with BLASNet's public API
// only (no @testable import): the functions of the notebook, then three
// training loops built from them, each checked against Trainer.fit.
// The article "The classic model, step by step" shows this code; a test below
// checks that every Swift block of the article appears here.
import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

// MARK: The notebook's functions

/// `initialize_parameters_deep`: W_l = randn(n_l, n_{l-1}) / √n_{l-1}, b_l = 0.
func initializeParametersDeep(_ layerDims: [Int], draws: [Matrix<Double>]) -> Network<Double> {
  Network(sizes: layerDims, initializer: .reference, standardNormalDraws: draws)
}

/// `linear_activation_forward`: Z = W·A_prev + b, A = g(Z), and the cache.
func linearActivationForward(_ aPrev: Matrix<Double>, _ layer: Layer<Double>) -> LayerCache<Double> {
  let (z, a) = layer.forward(aPrev)
  return LayerCache(aPrev: aPrev, z: z, a: a)
}

/// `L_model_forward`: ReLU layers, then the sigmoid output.
func lModelForward(_ x: Matrix<Double>, _ network: Network<Double>) -> (
  al: Matrix<Double>, caches: [LayerCache<Double>]
) {
  var caches: [LayerCache<Double>] = []
  var a = x
  for l in 1...network.depth {
    let cache = linearActivationForward(a, network.layer(l))
    caches.append(cache)
    a = cache.a
  }
  return (a, caches)
}

/// `compute_cost`: the cross-entropy of A_L against Y.
func computeCost(_ al: Matrix<Double>, _ y: Matrix<Double>) -> Double {
  Losses.binaryCrossEntropy(predictions: al, labels: y)
}

/// `L_model_backward`: from dAL = −(Y/AL − (1 − Y)/(1 − AL)) through every
/// layer's `linear_activation_backward`, newest layer first.
func lModelBackward(
  _ al: Matrix<Double>, _ y: Matrix<Double>, _ caches: [LayerCache<Double>], _ network: Network<Double>
)
  -> Gradients<Double>
{
  var dA = Losses.binaryCrossEntropyGradient(predictions: al, labels: y)
  var dW: [Matrix<Double>] = []
  var db: [Matrix<Double>] = []
  for l in stride(from: network.depth, through: 1, by: -1) {
    let cache = caches[l - 1]
    let step = network.layer(l).backward(dA: dA, z: cache.z, aPrev: cache.aPrev)
    dW.insert(step.dW, at: 0)
    db.insert(step.db, at: 0)
    dA = step.dAPrev
  }
  return Gradients(weights: dW, biases: db)
}

/// `update_parameters`: W_l ← W_l − α·dW_l, b_l ← b_l − α·db_l.
func updateParameters(_ network: inout Network<Double>, _ grads: Gradients<Double>, learningRate: Double) {
  var gd = GradientDescent<Double>(learningRate: learningRate)
  gd.update(&network, with: grads)
}

// MARK: The tests

@Suite struct ClassicModelTests {
  static let sizes = [5, 6, 4, 1]
  static let m = 40

  /// Inputs, labels from a fixed rule, and the standard-normal draws for the weights.
  func problem() -> (x: Matrix<Double>, y: Matrix<Double>, draws: [Matrix<Double>]) {
    let x = Matrix<Double>.randomNormal(Self.sizes[0], Self.m, seed: 21)
    let y = Matrix<Double>(rows: 1, columns: Self.m) { _, j in x[0, j] + 0.5 * x[1, j] - x[3, j] > 0 ? 1 : 0 }
    var g = Xoshiro256StarStar(seed: 22)
    let draws = (1..<Self.sizes.count).map { l in
      Matrix<Double>.randomNormal(Self.sizes[l], Self.sizes[l - 1], using: &g)
    }
    return (x, y, draws)
  }

  /// Every parameter of `a` within `relative`·max(1, |b|) of `b`'s.
  func expectSameParameters(_ a: Network<Double>, _ b: Network<Double>, relative: Double) {
    for l in 1...a.depth {
      for (p, q) in [(a.weights(l), b.weights(l)), (a.bias(l), b.bias(l))] {
        for (u, v) in zip(p.elements, q.elements) {
          #expect(abs(u - v) <= relative * max(1, abs(v)), "layer \(l): \(u) vs \(v)")
        }
      }
    }
  }

  /// `trainer.fit`, returning the cost of every epoch.
  func costsOfFit(_ trainer: inout Trainer<Double>, _ x: Matrix<Double>, _ y: Matrix<Double>) throws -> [Double] {
    var costs: [Double] = []
    _ = try trainer.fit(x: x, y: y) { p in
      costs.append(p.cost)
      return .proceed
    }
    return costs
  }

  func expectSameCosts(_ mine: [Double], _ trainer: [Double], relative: Double) {
    #expect(mine.count == trainer.count)
    for (k, (u, v)) in zip(mine, trainer).enumerated() {
      #expect(abs(u - v) <= relative * abs(v), "iteration \(k + 1): \(u) vs \(v)")
    }
  }

  @Test func initialisationScalesTheGivenDrawsByOneOverRootFanIn() {
    let (_, _, draws) = problem()
    let network = initializeParametersDeep(Self.sizes, draws: draws)
    for l in 1...network.depth {
      #expect(network.weights(l) == draws[l - 1] * (1 / Double(Self.sizes[l - 1]).squareRoot()))
      #expect(network.bias(l) == .zeros(Self.sizes[l], 1))
    }
  }

  @Test func theNotebookPiecesAgreeWithTheNetworkLevelPasses() {
    let (x, y, draws) = problem()
    let network = initializeParametersDeep(Self.sizes, draws: draws)
    let (al, caches) = lModelForward(x, network)
    let (output, networkCaches) = network.forward(x)
    #expect(al == output)
    #expect(caches == networkCaches)
    #expect(al == network.predict(x))
    let grads = lModelBackward(al, y, caches, network)
    // The network's own backward pass starts from dZ_L = A_L − Y (logits form).
    let fromLogits = network.gradients(x: x, y: y)
    for l in 1...network.depth {
      #expect(
        grads.dW(l).isApproximatelyEqual(to: fromLogits.dW(l), absoluteTolerance: 1e-14, relativeTolerance: 1e-10))
      #expect(
        grads.db(l).isApproximatelyEqual(to: fromLogits.db(l), absoluteTolerance: 1e-14, relativeTolerance: 1e-10))
    }
    expectClose(computeCost(al, y), network.cost(x: x, y: y), tolerance: 1e-12)
  }

  /// 50 iterations of full-batch gradient descent, by hand and by `Trainer.fit`.
  @Test func gradientDescentLoopMatchesFit() throws {
    let (x, y, draws) = problem()
    let learningRate = 0.3
    var network = initializeParametersDeep(Self.sizes, draws: draws)
    var costs: [Double] = []
    for _ in 0..<50 {
      let (al, caches) = lModelForward(x, network)
      costs.append(computeCost(al, y))
      let grads = lModelBackward(al, y, caches, network)
      updateParameters(&network, grads, learningRate: learningRate)
    }

    var trainer = try Trainer(
      network: initializeParametersDeep(Self.sizes, draws: draws),
      options: TrainingOptions(epochs: 50, optimizer: .gradientDescent(learningRate: learningRate)))
    let fitCosts = try costsOfFit(&trainer, x, y)
    expectSameCosts(costs, fitCosts, relative: 1e-6)
    expectSameParameters(network, trainer.network, relative: 1e-6)
    #expect(costs.last! < 0.6 * costs.first!, "the loop should learn: \(costs.first!) → \(costs.last!)")
  }

  /// Mini-batches of 16 (the last of 8) in the trainer's seeded orders, and L2.
  @Test func miniBatchLoopWithL2MatchesFit() throws {
    let (x, y, draws) = problem()
    let (learningRate, lambda, seed): (Double, Double, UInt64) = (0.2, 0.5, 77)
    var network = initializeParametersDeep(Self.sizes, draws: draws)
    var orders = Xoshiro256StarStar(seed: seed)
    var epochCosts: [Double] = []
    for _ in 0..<50 {
      var total = 0.0
      for batch in MiniBatches(x: x, y: y, batchSize: 16, order: orders.permutation(Self.m)) {
        let (bx, by) = (batch.x.copy(), batch.y.copy())
        let (al, caches) = lModelForward(bx, network)
        let cost = computeCost(al, by) + Losses.l2Penalty(of: network, lambda: lambda, examples: bx.columns)
        var grads = lModelBackward(al, by, caches, network)
        for l in 1...network.depth {
          Losses.addL2Gradient(
            weights: network.weights(l), lambda: lambda, examples: bx.columns, to: &grads.weights[l - 1])
        }
        updateParameters(&network, grads, learningRate: learningRate)
        total += cost * Double(bx.columns)
      }
      epochCosts.append(total / Double(Self.m))
    }

    var trainer = try Trainer(
      network: initializeParametersDeep(Self.sizes, draws: draws),
      options: TrainingOptions(
        epochs: 50, optimizer: .gradientDescent(learningRate: learningRate), batchSize: 16, l2: lambda, seed: seed))
    let fitCosts = try costsOfFit(&trainer, x, y)
    expectSameCosts(epochCosts, fitCosts, relative: 1e-6)
    expectSameParameters(network, trainer.network, relative: 1e-6)
  }

  /// Adam from an explicit state, and training resumed from that state by a trainer.
  @Test func adamLoopMatchesFitAndAStateCanBeHandedOver() throws {
    let (x, y, draws) = problem()
    let start = initializeParametersDeep(Self.sizes, draws: draws)
    var network = start
    var adam = Adam<Double>(for: network, learningRate: 0.02)
    adam.v = Gradients(zerosLike: network)
    adam.s = Gradients(zerosLike: network)
    adam.t = 0
    var costs: [Double] = []
    var halfway: (Network<Double>, Adam<Double>)?
    for i in 0..<50 {
      if i == 25 { halfway = (network, adam) }
      let (al, caches) = lModelForward(x, network)
      costs.append(computeCost(al, y))
      adam.update(&network, with: lModelBackward(al, y, caches, network))
    }
    #expect(adam.t == 50)

    let options = TrainingOptions(epochs: 50, optimizer: .adam(learningRate: 0.02))
    var trainer = try Trainer(network: start, options: options)
    let fitCosts = try costsOfFit(&trainer, x, y)
    expectSameCosts(costs, fitCosts, relative: 1e-6)
    expectSameParameters(network, trainer.network, relative: 1e-6)

    // Resume: a trainer given the loop's network and Adam state at iteration 25
    // ends where the loop ended.
    let (middle, state) = try #require(halfway)
    var resumed = try Trainer(
      network: middle, options: TrainingOptions(epochs: 25, optimizer: .adam(learningRate: 0.02)))
    resumed.optimizer = OptimizerState(state)
    _ = try resumed.fit(x: x, y: y)
    expectSameParameters(network, resumed.network, relative: 1e-6)
    guard let final = resumed.optimizer.state(as: Adam<Double>.self) else {
      Issue.record("the trainer's optimiser is not Adam")
      return
    }
    #expect(final.t == 50)
  }

  /// The article's Swift code blocks are this file's code, line for line.
  @Test func theArticleShowsThisCode() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let article = root.appendingPathComponent(
      "Sources/NeuralNetwork/NeuralNetwork.docc/ClassicModelStepByStep.md")
    let text = try String(contentsOf: article, encoding: .utf8)
    let source = try String(contentsOf: here, encoding: .utf8)
    let sourceLines = Set(source.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    var inSwift = false
    var checked = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("```") {
        inSwift = line.hasPrefix("```swift")
        continue
      }
      let code = line.trimmingCharacters(in: .whitespaces)
      guard inSwift, !code.isEmpty, !code.hasPrefix("//") else { continue }
      let present = sourceLines.contains(code)
      #expect(present, "the article's line \"\(code)\" is not in ClassicModelTests.swift")
      checked += 1
    }
    #expect(checked > 30, "the article should show the notebook's functions (\(checked) lines checked)")
  }
}
