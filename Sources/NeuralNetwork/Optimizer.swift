import LinearAlgebra

/// A kind of optimiser: its hyperparameters, and how to make the optimiser
/// itself (a ``GradientOptimizer``, which owns its state) for a network.
///
/// To add an optimiser, write one file with a type conforming to this
/// protocol, the ``GradientOptimizer`` it makes, and a static factory on
/// ``Optimizer`` (`Optimizer.lion(learningRate:)`, say); nothing else in the
/// library switches over the optimisers. The built-in ones:
/// ``GradientDescentSettings``, ``MomentumSettings``, ``AdamSettings`` (Adam
/// and AdamW) and ``RMSPropSettings``.
public protocol OptimizerKind: Sendable {
  /// Its name on a command line and in messages (`adam`).
  static var name: String { get }
  /// α.
  var learningRate: Double { get }
  /// What is wrong with the hyperparameters other than α, or nil.
  var problem: String? { get }
  /// How many copies of the parameters its state holds (2 for Adam's v and
  /// s): what ``TrainingMemory`` counts.
  var stateCopies: Int { get }
  /// The optimiser for `network`, with fresh state (zero moments, t = 0).
  func makeOptimizer<S: BLASScalar>(for network: Network<S>) -> any GradientOptimizer<S>
  /// Whether `other` is the same kind with the same hyperparameters.
  func isEqual(to other: any OptimizerKind) -> Bool
}

extension OptimizerKind where Self: Equatable {
  public func isEqual(to other: any OptimizerKind) -> Bool { (other as? Self) == self }
}

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
///
/// Each built-in update is one fused pass per parameter matrix (gradient
/// descent: one BLAS axpy), written in place: after the first update nothing
/// is allocated. Every update traps unless the gradients and the state have
/// the shapes of the network's parameters.
public struct Optimizer: Sendable, Equatable {
  /// The kind and its hyperparameters.
  public let kind: any OptimizerKind

  public init(_ kind: some OptimizerKind) { self.kind = kind }

  /// α.
  public var learningRate: Double { kind.learningRate }

  /// Its name (`adam`; AdamW is `adamw`).
  public var name: String {
    if let adam = kind as? AdamSettings, adam.weightDecay > 0 { return "adamw" }
    return type(of: kind).name
  }

  /// What is wrong with the hyperparameters, or nil: α > 0, β's and ρ in [0, 1), ε > 0, λ ≥ 0, all finite.
  public var problem: String? {
    let alpha = learningRate
    if !(alpha > 0) || !alpha.isFinite { return "the learning rate must be a positive number, got \(alpha)" }
    return kind.problem
  }

  /// The optimiser for `network` with fresh state (zero moments, t = 0).
  public func makeState<S: BLASScalar>(for network: Network<S>) -> OptimizerState<S> {
    OptimizerState(kind.makeOptimizer(for: network))
  }

  public static func == (a: Optimizer, b: Optimizer) -> Bool { a.kind.isEqual(to: b.kind) }

  /// The first of `checks` (name, value, whether it is in range) that fails, as
  /// ``OptimizerKind/problem``'s message; nil when all pass and are finite.
  public static func outOfRange(_ checks: [(name: String, value: Double, ok: Bool)]) -> String? {
    guard let bad = checks.first(where: { !($0.ok && $0.value.isFinite) }) else { return nil }
    return "optimizer setting out of range: \(bad.name) \(bad.value) (β and ρ in [0, 1), ε > 0, λ ≥ 0)"
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
public protocol GradientOptimizer<Scalar>: Sendable {
  associatedtype Scalar: BLASScalar
  /// α; settable between updates (a learning-rate schedule).
  var learningRate: Double { get set }
  /// One update of every `Wl` and `bl` of `network` from `gradients`, in place.
  mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>)
}

extension GradientOptimizer {
  /// One update of a plain parameter dictionary (`W1`…`WL`, `b1`…`bL`, the
  /// course's `parameters`) from a gradient dictionary (`dW1`…`dWL`,
  /// `db1`…`dbL`, the course's `grads`): the course's
  /// `update_parameters_with_adam(parameters, grads, v, s, t, …)` with this
  /// optimiser's state in place of `v`, `s` and `t`. Traps when a parameter
  /// or a gradient is missing or misshapen.
  public mutating func update(_ parameters: inout [String: Matrix<Scalar>], with gradients: [String: Matrix<Scalar>]) {
    let depth = parameters.count / 2
    var network: Network<Scalar>
    do {
      network = try Network(parameters: parameters, activations: Array(repeating: .identity, count: depth))
    } catch {
      shapeFailure("GradientOptimizer.update: the parameters do not make a network: \(error)")
    }
    var weights: [Matrix<Scalar>] = []
    var biases: [Matrix<Scalar>] = []
    for l in 1...depth {
      guard let dW = gradients["dW\(l)"], let db = gradients["db\(l)"] else {
        shapeFailure(
          "GradientOptimizer.update: grads must hold dW\(l) and db\(l) for W\(l) and b\(l); it has \(gradients.keys.sorted())"
        )
      }
      weights.append(dW)
      biases.append(db)
    }
    update(&network, with: Gradients(weights: weights, biases: biases))
    parameters = network.parameters
  }
}

/// The optimiser a ``Trainer`` holds, whatever its kind (readable and
/// settable as ``Trainer/optimizer``); ``base`` is the optimiser itself, with
/// its state: `trainer.optimizer.base as? Adam<Float>` reads Adam's v, s and t.
public struct OptimizerState<Scalar: BLASScalar>: GradientOptimizer {
  /// The optimiser, with its state.
  public var base: any GradientOptimizer<Scalar>

  public init(_ base: any GradientOptimizer<Scalar>) { self.base = base }

  public var learningRate: Double {
    get { base.learningRate }
    set { base.learningRate = newValue }
  }

  /// The optimiser as its own type (`Adam<Float>`), or nil when it is of another.
  public func state<T: GradientOptimizer<Scalar>>(as type: T.Type) -> T? { base as? T }

  /// Applies the optimiser's update. The optimiser is updated in place in
  /// its box, so its buffers stay uniquely held (no copy, no allocation).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>) {
    base.update(&network, with: gradients)
  }
}
