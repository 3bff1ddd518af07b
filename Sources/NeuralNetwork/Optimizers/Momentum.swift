import LinearAlgebra

/// Momentum's hyperparameters: ``Optimizer/momentum(learningRate:beta:)``.
public struct MomentumSettings: OptimizerKind, Equatable {
  public static let name = "momentum"
  public var learningRate: Double
  public var beta: Double
  public var problem: String? { Optimizer.outOfRange([("beta", beta, beta >= 0 && beta < 1)]) }
  public var stateCopies: Int { 1 }

  public init(learningRate: Double, beta: Double = 0.9) {
    self.learningRate = learningRate
    self.beta = beta
  }

  public func makeOptimizer<S: BLASScalar>(for network: Network<S>) -> any GradientOptimizer<S> {
    Momentum(for: network, learningRate: learningRate, beta: beta)
  }
}

extension Optimizer {
  /// Gradient descent with momentum: `v ← β·v + (1 − β)·dW; W ← W − α·v`.
  public static func momentum(learningRate: Double, beta: Double = 0.9) -> Optimizer {
    Optimizer(MomentumSettings(learningRate: learningRate, beta: beta))
  }
}

/// Gradient descent with momentum in the course's form (an exponentially
/// weighted average of the gradients):
///
///     v ← β·v + (1 − β)·dW;   W ← W − α·v
public struct Momentum<Scalar: BLASScalar>: GradientOptimizer, Equatable, Sendable {
  public var learningRate: Double
  /// β, default 0.9.
  public var beta: Double
  /// The velocity v, one matrix per parameter (`v["dW1"]`, …); starts at zero.
  public var v: Gradients<Scalar>

  /// Momentum for `network` with zero velocity.
  public init(for network: Network<Scalar>, learningRate: Double, beta: Double = 0.9) {
    self.learningRate = learningRate
    self.beta = beta
    self.v = Gradients(zerosLike: network)
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>) {
    gradients._checkShapes(like: network, "Momentum.update")
    v._checkShapes(like: network, "Momentum.update (v)")
    let (a, b) = (Scalar(learningRate), Scalar(beta))
    for l in network.layers.indices {
      _momentumStep(&network.layers[l].weights, gradients.weights[l], &v.weights[l], a, b)
      _momentumStep(&network.layers[l].bias, gradients.biases[l], &v.biases[l], a, b)
    }
  }
}

func _momentumStep<S: BLASScalar>(_ w: inout Matrix<S>, _ g: Matrix<S>, _ v: inout Matrix<S>, _ alpha: S, _ beta: S) {
  let oneMinus = 1 - beta
  g.withUnsafeBufferPointer { gp in
    v.withUnsafeMutableBufferPointer { vp in
      w.withUnsafeMutableBufferPointer { wp in
        for i in 0..<wp.count {
          vp[i] = beta * vp[i] + oneMinus * gp[i]
          wp[i] -= alpha * vp[i]
        }
      }
    }
  }
}
