import LinearAlgebra

/// Which optimiser trains a network, with its hyperparameters: what
/// ``TrainingOptions`` names. ``makeState(for:)`` gives the optimiser itself,
/// a value that owns its state (see ``GradientOptimizer``).
///
///     gradientDescent  W ← W − α·dW
///     momentum         v ← β·v + (1 − β)·dW;                W ← W − α·v
///     adam             v ← β₁·v + (1 − β₁)·dW;  s ← β₂·s + (1 − β₂)·dW²
///                      W ← W − α·(v / (1 − β₁ᵗ)) / (√(s / (1 − β₂ᵗ)) + ε)
///     rmsProp          s ← ρ·s + (1 − ρ)·dW²;               W ← W − α·dW / (√s + ε)
///     adamW            Adam's step, plus W ← W − α·λ·W on the weights (decoupled decay)
public enum Optimizer: Sendable, Equatable {
  case gradientDescent(learningRate: Double)
  case momentum(learningRate: Double, beta: Double = 0.9)
  case adam(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)
  case rmsProp(learningRate: Double, rho: Double = 0.9, epsilon: Double = 1e-8)
  case adamW(
    learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 0.01)

  /// α.
  public var learningRate: Double {
    switch self {
    case .gradientDescent(let a), .momentum(let a, _), .adam(let a, _, _, _), .rmsProp(let a, _, _),
      .adamW(let a, _, _, _, _):
      return a
    }
  }

  /// What is wrong with the hyperparameters, or nil: α > 0, β's and ρ in [0, 1), ε > 0, λ ≥ 0, all finite.
  public var problem: String? {
    func bad(_ name: String, _ v: Double, _ ok: Bool) -> String? { ok && v.isFinite ? nil : "\(name) \(v)" }
    let alpha = learningRate
    if !(alpha > 0) || !alpha.isFinite { return "the learning rate must be a positive number, got \(alpha)" }
    let checks: [String?]
    switch self {
    case .gradientDescent: checks = []
    case .momentum(_, let b): checks = [bad("beta", b, b >= 0 && b < 1)]
    case .adam(_, let b1, let b2, let e):
      checks = [bad("beta1", b1, b1 >= 0 && b1 < 1), bad("beta2", b2, b2 >= 0 && b2 < 1), bad("epsilon", e, e > 0)]
    case .rmsProp(_, let r, let e): checks = [bad("rho", r, r >= 0 && r < 1), bad("epsilon", e, e > 0)]
    case .adamW(_, let b1, let b2, let e, let d):
      checks = [
        bad("beta1", b1, b1 >= 0 && b1 < 1), bad("beta2", b2, b2 >= 0 && b2 < 1), bad("epsilon", e, e > 0),
        bad("weight decay", d, d >= 0),
      ]
    }
    return checks.compactMap { $0 }.first.map {
      "optimizer setting out of range: \($0) (β and ρ in [0, 1), ε > 0, λ ≥ 0)"
    }
  }

  /// The optimiser for `network` with fresh state (zero moments, t = 0).
  public func makeState<S: BLASScalar>(for network: Network<S>) -> OptimizerState<S> {
    switch self {
    case .gradientDescent(let a): return .gradientDescent(GradientDescent(learningRate: a))
    case .momentum(let a, let b): return .momentum(Momentum(for: network, learningRate: a, beta: b))
    case .adam(let a, let b1, let b2, let e):
      return .adam(Adam(for: network, learningRate: a, beta1: b1, beta2: b2, epsilon: e))
    case .rmsProp(let a, let r, let e): return .rmsProp(RMSProp(for: network, learningRate: a, rho: r, epsilon: e))
    case .adamW(let a, let b1, let b2, let e, let d):
      return .adamW(AdamW(for: network, learningRate: a, beta1: b1, beta2: b2, epsilon: e, weightDecay: d))
    }
  }
}

/// An optimiser: a value that owns its state and applies one update to a
/// network's parameters from given gradients.
///
///     var adam = Adam(for: network, learningRate: 0.01)
///     for _ in 0..<100 {
///       let g = network.gradients(x: x, y: y)
///       adam.update(&network, with: g)
///     }
///     adam.t        // 100 updates applied
///     adam.v.dW(1)  // the first moment of dW1
///
/// The state is public and settable, so training can resume where it stopped,
/// and one update can be checked by hand. `update` traps unless the gradients
/// (and the state) have the shapes of the network's parameters.
public protocol GradientOptimizer<Scalar> {
  associatedtype Scalar: BLASScalar
  /// α; settable between updates (a learning-rate schedule).
  var learningRate: Double { get set }
  /// One update of every `Wl` and `bl` of `network` from `gradients`, in place.
  mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>)
}

/// Any of the built-in optimisers with its state: what a ``Trainer`` holds
/// (readable and settable as ``Trainer/optimizer``).
public enum OptimizerState<Scalar: BLASScalar>: GradientOptimizer, Equatable, Sendable {
  case gradientDescent(GradientDescent<Scalar>)
  case momentum(Momentum<Scalar>)
  case adam(Adam<Scalar>)
  case rmsProp(RMSProp<Scalar>)
  case adamW(AdamW<Scalar>)

  public var learningRate: Double {
    get {
      switch self {
      case .gradientDescent(let o): return o.learningRate
      case .momentum(let o): return o.learningRate
      case .adam(let o): return o.learningRate
      case .rmsProp(let o): return o.learningRate
      case .adamW(let o): return o.learningRate
      }
    }
    set {
      switch self {
      case .gradientDescent(var o):
        o.learningRate = newValue
        self = .gradientDescent(o)
      case .momentum(var o):
        o.learningRate = newValue
        self = .momentum(o)
      case .adam(var o):
        o.learningRate = newValue
        self = .adam(o)
      case .rmsProp(var o):
        o.learningRate = newValue
        self = .rmsProp(o)
      case .adamW(var o):
        o.learningRate = newValue
        self = .adamW(o)
      }
    }
  }

  /// Applies the wrapped optimiser's update. The state is moved out of the
  /// enum while it is updated, so its buffers stay uniquely held and are
  /// written in place (no copy, no allocation).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>) {
    let placeholder = OptimizerState.gradientDescent(GradientDescent(learningRate: 1))
    switch self {
    case .gradientDescent(var o):
      self = placeholder
      o.update(&network, with: gradients)
      self = .gradientDescent(o)
    case .momentum(var o):
      self = placeholder
      o.update(&network, with: gradients)
      self = .momentum(o)
    case .adam(var o):
      self = placeholder
      o.update(&network, with: gradients)
      self = .adam(o)
    case .rmsProp(var o):
      self = placeholder
      o.update(&network, with: gradients)
      self = .rmsProp(o)
    case .adamW(var o):
      self = placeholder
      o.update(&network, with: gradients)
      self = .adamW(o)
    }
  }
}
