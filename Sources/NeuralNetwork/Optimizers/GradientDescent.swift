import LinearAlgebra

/// Gradient descent's hyperparameter: ``Optimizer/gradientDescent(learningRate:)``.
public struct GradientDescentSettings: OptimizerKind, Equatable {
  public static let name = "gd"
  public var learningRate: Double
  public var problem: String? { nil }
  public var stateCopies: Int { 0 }

  public init(learningRate: Double) { self.learningRate = learningRate }

  public func makeOptimizer<S: BLASScalar>(for network: Network<S>) -> any GradientOptimizer<S> {
    GradientDescent(learningRate: learningRate)
  }
}

extension Optimizer {
  /// Plain gradient descent, `W ← W − α·dW`.
  public static func gradientDescent(learningRate: Double) -> Optimizer {
    Optimizer(GradientDescentSettings(learningRate: learningRate))
  }
}

/// Plain gradient descent, `W ← W − α·dW` (the course's `update_parameters`).
public struct GradientDescent<Scalar: BLASScalar>: GradientOptimizer, Equatable, Sendable {
  public var learningRate: Double

  public init(learningRate: Double) {
    self.learningRate = learningRate
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>) {
    gradients._checkShapes(like: network, "GradientDescent.update")
    let step = Scalar(-learningRate)
    for l in network.layers.indices {
      network.layers[l].weights.addScaled(gradients.weights[l], alpha: step)
      network.layers[l].bias.addScaled(gradients.biases[l], alpha: step)
    }
  }
}
