import CElementwise
import LinearAlgebra

/// Adam's hyperparameters, and AdamW's with a weight decay λ > 0:
/// ``Optimizer/adam(learningRate:beta1:beta2:epsilon:)`` and
/// ``Optimizer/adamW(learningRate:beta1:beta2:epsilon:weightDecay:)``. Both
/// make an ``Adam``, which is AdamW when λ > 0.
public struct AdamSettings: OptimizerKind, Equatable {
  public static let name = "adam"
  public var learningRate: Double
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  /// AdamW's decoupled weight decay λ; 0 is Adam.
  public var weightDecay: Double

  public init(
    learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  public var problem: String? {
    Optimizer.outOfRange([
      ("beta1", beta1, beta1 >= 0 && beta1 < 1), ("beta2", beta2, beta2 >= 0 && beta2 < 1),
      ("epsilon", epsilon, epsilon > 0), ("weight decay", weightDecay, weightDecay >= 0),
    ])
  }

  public var stateCopies: Int { 2 }

  public func makeOptimizer<S: BLASScalar>(for network: Network<S>) -> any GradientOptimizer<S> {
    Adam(
      for: network, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
  }
}

extension Optimizer {
  /// Adam with bias correction (β₁ 0.9, β₂ 0.999, ε 1e-8 by default).
  public static func adam(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)
    -> Optimizer
  {
    Optimizer(AdamSettings(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon))
  }

  /// AdamW: Adam with a decoupled weight decay λ on the weights (0.01 by default).
  public static func adamW(
    learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 0.01
  ) -> Optimizer {
    Optimizer(
      AdamSettings(
        learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay))
  }
}

/// Adam (Kingma and Ba, 2015) with bias correction, in the course's form:
///
///     t ← t + 1
///     v ← β₁·v + (1 − β₁)·dW;   s ← β₂·s + (1 − β₂)·dW²
///     W ← W − α·v̂ / (√ŝ + ε),   v̂ = v / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ)
///
/// `t` counts the updates applied so far; an update increments it first, so
/// the first update uses t = 1.
///
/// With a weight decay λ > 0 it is AdamW (Loshchilov and Hutter, 2019), the
/// decay decoupled from the gradient, with the same v, s and t:
///
///     W ← W − α·(v̂ / (√ŝ + ε) + λ·W)      for the weights W1…WL
///     b ← b − α·v̂ / (√ŝ + ε)              for the biases (not decayed)
///
/// (PyTorch's `AdamW` computes the same for the weights, `W·(1 − αλ)` then
/// the Adam step; it decays every parameter it is given, biases included,
/// unless they are put in a parameter group with `weight_decay=0`, as is
/// common practice and as here.)
/// Unlike an L2 term, the decay is not scaled by Adam's per-parameter step size.
public struct Adam<Scalar: BLASScalar>: GradientOptimizer, Equatable, Sendable {
  public var learningRate: Double
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  /// AdamW's λ; 0 (the default) is Adam.
  public var weightDecay: Double
  /// The first moment v (`v["dW1"]`, …); starts at zero.
  public var v: Gradients<Scalar>
  /// The second moment s (`s["dW1"]`, …); starts at zero.
  public var s: Gradients<Scalar>
  /// Updates applied so far.
  public var t: Int

  /// Adam (AdamW with `weightDecay` > 0) for `network` with zero moments and t = 0.
  public init(
    for network: Network<Scalar>, learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8, weightDecay: Double = 0
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.v = Gradients(zerosLike: network)
    self.s = Gradients(zerosLike: network)
    self.t = 0
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func update(_ network: inout Network<Scalar>, with gradients: Gradients<Scalar>) {
    _adamUpdate(
      &network, gradients, &v, &s, &t, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      weightDecay: weightDecay, weightDecay > 0 ? "AdamW.update" : "Adam.update")
  }
}

/// AdamW is ``Adam`` with a weight decay: `AdamW(for: network, learningRate: 0.001, weightDecay: 0.01)`.
public typealias AdamW<Scalar: BLASScalar> = Adam<Scalar>

func _adamUpdate<S: BLASScalar>(
  _ network: inout Network<S>, _ gradients: Gradients<S>, _ v: inout Gradients<S>, _ s: inout Gradients<S>,
  _ t: inout Int, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
  _ operation: String
) {
  gradients._checkShapes(like: network, operation)
  v._checkShapes(like: network, operation + " (v)")
  s._checkShapes(like: network, operation + " (s)")
  t += 1
  // The bias corrections, folded into two factors.
  let k = _AdamConstants<S>(
    alpha: S(learningRate), beta1: S(beta1), beta2: S(beta2), epsilon: S(epsilon),
    invC1: S(1 / (1 - _power(beta1, t))), invC2: S(1 / (1 - _power(beta2, t))))
  let decay = S(1 - learningRate * weightDecay)
  for l in network.layers.indices {
    _adamStep(&network.layers[l].weights, gradients.weights[l], &v.weights[l], &s.weights[l], k, decay: decay)
    _adamStep(&network.layers[l].bias, gradients.biases[l], &v.biases[l], &s.biases[l], k, decay: 1)
  }
}

/// xⁿ for a whole n ≥ 0, by repeated squaring (no libm call).
func _power(_ x: Double, _ n: Int) -> Double {
  var (result, base, e) = (1.0, x, n)
  while e > 0 {
    if e & 1 == 1 { result *= base }
    base *= base
    e >>= 1
  }
  return result
}

struct _AdamConstants<S: BLASScalar> {
  var alpha, beta1, beta2, epsilon, invC1, invC2: S

  init(alpha: S, beta1: S, beta2: S, epsilon: S, invC1: S, invC2: S) {
    (self.alpha, self.beta1, self.beta2, self.epsilon, self.invC1, self.invC2) =
      (alpha, beta1, beta2, epsilon, invC1, invC2)
  }
}

/// One Adam step of a parameter matrix `w` from its gradient `g`, the
/// moments `v` and `s` updated in place. Float and Double run in C's vector
/// loop (`blasnet_adam_step_f32`/`_f64`): the scalar loop's operations in its
/// order, a square root and a division that round correctly in either form,
/// so the same bits, several times sooner (the update in Swift, lane by lane,
/// was a third of a fit's time, more than the products).
func _adamStep<S: BLASScalar>(
  _ w: inout Matrix<S>, _ g: Matrix<S>, _ v: inout Matrix<S>, _ s: inout Matrix<S>, _ k: _AdamConstants<S>,
  decay: S
) {
  g.withUnsafeBufferPointer { gp in
    v.withUnsafeMutableBufferPointer { vp in
      s.withUnsafeMutableBufferPointer { sp in
        w.withUnsafeMutableBufferPointer { wp in _adamKernel(gp, vp, sp, wp, k, decay: decay) }
      }
    }
  }
}

// (Its own function, specialised: the closures above are not.)
@_specialize(where S == Float)
@_specialize(where S == Double)
func _adamKernel<S: BLASScalar>(
  _ gp: UnsafeBufferPointer<S>, _ vp: UnsafeMutableBufferPointer<S>, _ sp: UnsafeMutableBufferPointer<S>,
  _ wp: UnsafeMutableBufferPointer<S>, _ k: _AdamConstants<S>, decay: S
) {
  let n = wp.count
  let (om1, om2) = (1 - k.beta1, 1 - k.beta2)
  if n > 0, S.self == Float.self || S.self == Double.self, let g = gp.baseAddress, let v = vp.baseAddress,
    let s = sp.baseAddress, let w = wp.baseAddress
  {
    // The C function of T (Float or Double, T's layout is S's), its pointers and constants cast.
    typealias Step<T> = (
      Int, UnsafePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, T, T, T, T,
      T, T, T, T, T
    ) -> Void
    func run<T>(_ step: Step<T>) {
      func p(_ x: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(x).assumingMemoryBound(to: T.self)
      }
      func f(_ x: S) -> T { unsafeBitCast(x, to: T.self) }
      step(
        n, UnsafeRawPointer(g).assumingMemoryBound(to: T.self), p(v), p(s), p(w), f(k.beta1), f(k.beta2), f(om1),
        f(om2), f(k.alpha), f(k.invC1), f(k.invC2), f(k.epsilon), f(decay))
    }
    if S.self == Float.self { run(blasnet_adam_step_f32) } else { run(blasnet_adam_step_f64) }
    return
  }
  for i in 0..<n {
    let gi = gp[i]
    vp[i] = k.beta1 * vp[i] + om1 * gi
    sp[i] = k.beta2 * sp[i] + om2 * gi * gi
    wp[i] = decay * wp[i] - k.alpha * (vp[i] * k.invC1) / ((sp[i] * k.invC2).squareRoot() + k.epsilon)
  }
}
