import LinearAlgebra

/// RMSProp's hyperparameters: ``Optimizer/rmsProp(learningRate:rho:epsilon:)``.
public struct RMSPropSettings: OptimizerKind, Equatable {
  public static let name = "rmsprop"
  public var learningRate: Double
  public var rho: Double
  public var epsilon: Double
  public var problem: String? {
    Optimizer.outOfRange([("rho", rho, rho >= 0 && rho < 1), ("epsilon", epsilon, epsilon > 0)])
  }
  public var stateCopies: Int { 1 }

  public init(learningRate: Double, rho: Double = 0.9, epsilon: Double = 1e-8) {
    self.learningRate = learningRate
    self.rho = rho
    self.epsilon = epsilon
  }

  public func makeOptimizer<S: BLASScalar>(for network: Network<S>) -> any GradientOptimizer<S> {
    RMSProp(for: network, learningRate: learningRate, rho: rho, epsilon: epsilon)
  }
}

extension Optimizer {
  /// RMSProp: `s ← ρ·s + (1 − ρ)·dW²; W ← W − α·dW / (√s + ε)`.
  public static func rmsProp(learningRate: Double, rho: Double = 0.9, epsilon: Double = 1e-8) -> Optimizer {
    Optimizer(RMSPropSettings(learningRate: learningRate, rho: rho, epsilon: epsilon))
  }
}

/// RMSProp (Hinton's lecture 6e): a running mean of squared gradients scales
/// each step:
///
///     s ← ρ·s + (1 − ρ)·dW²;   W ← W − α·dW / (√s + ε)
///
/// Defaults ρ = 0.9 (as the lecture and Keras), ε = 1e-8 (added after the
/// square root, as PyTorch).
public struct RMSProp<Scalar: BLASScalar>: GradientOptimizer, Equatable, Sendable {
  public var learningRate: Double
  public var rho: Double
  public var epsilon: Double
  /// The running mean of squared gradients (`s["dW1"]`, …); starts at zero.
  public var s: Gradients<Scalar>

  /// RMSProp for `network` with s = 0.
  public init(for network: Network<Scalar>, learningRate: Double = 0.001, rho: Double = 0.9, epsilon: Double = 1e-8) {
    self.learningRate = learningRate
    self.rho = rho
    self.epsilon = epsilon
    self.s = Gradients(zerosLike: network)
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>) {
    gradients._checkShapes(like: network, "RMSProp.update")
    s._checkShapes(like: network, "RMSProp.update (s)")
    let (a, r, e) = (Scalar(learningRate), Scalar(rho), Scalar(epsilon))
    for l in network.layers.indices {
      _rmsPropStep(&network.layers[l].weights, gradients.weights[l], &s.weights[l], a, r, e)
      _rmsPropStep(&network.layers[l].bias, gradients.biases[l], &s.biases[l], a, r, e)
    }
  }
}

func _rmsPropStep<S: BLASScalar>(_ w: inout Matrix<S>, _ g: Matrix<S>, _ s: inout Matrix<S>, _ a: S, _ rho: S, _ e: S) {
  let oneMinus = 1 - rho
  g.withUnsafeBufferPointer { gp in
    s.withUnsafeMutableBufferPointer { sp in
      w.withUnsafeMutableBufferPointer { wp in
        for i in 0..<wp.count {
          let gi = gp[i]
          sp[i] = rho * sp[i] + oneMinus * gi * gi
          wp[i] -= a * gi / (sp[i].squareRoot() + e)
        }
      }
    }
  }
}
