import LinearAlgebra

/// The cost a network is trained to minimise, averaged over the m examples (columns).
///
///     binaryCrossEntropy      J = −(1/m) Σⱼ wⱼ·[y·ln a + (1 − y)·ln(1 − a)]
///     categoricalCrossEntropy J = −(1/m) Σⱼ wⱼ·Σᵢ yᵢⱼ·ln aᵢⱼ
///     meanSquaredError        J = (1/(m·n_L)) Σⱼ wⱼ·Σᵢ (aᵢⱼ − yᵢⱼ)²
///     huber                   J = (1/(m·n_L)) Σⱼ wⱼ·Σᵢ h(aᵢⱼ − yᵢⱼ), h(d) = d²/2 for |d| ≤ 1, |d| − 1/2 beyond
///
/// (wⱼ = 1 unless per-example weights are given.) Binary cross-entropy goes
/// with a sigmoid output and categorical cross-entropy with softmax; for those
/// pairs the cost and the output gradient are computed from the logits Z
/// (see ``Losses``), which never takes log(0), and `dZ_L = A − Y`.
public enum Loss: String, Codable, Sendable, CaseIterable {
  case binaryCrossEntropy
  case categoricalCrossEntropy
  case meanSquaredError
  /// PyTorch's `HuberLoss(delta=1)`: squared near the target, absolute
  /// beyond one unit, so that a few wild targets pull less (on a
  /// standardised target, one standard deviation).
  case huber

  /// The loss that goes with an output activation: BCE for sigmoid, CCE for softmax, MSE otherwise.
  public static func natural(for output: Activation) -> Loss {
    switch output {
    case .sigmoid: return .binaryCrossEntropy
    case .softmax: return .categoricalCrossEntropy
    default: return .meanSquaredError
    }
  }

  /// Whether this loss can train a network with this output activation:
  /// binary cross-entropy needs probabilities of one class (sigmoid),
  /// categorical cross-entropy a distribution over classes (softmax), and
  /// mean squared error and Huber go with anything but softmax.
  public func fits(output: Activation) -> Bool {
    switch self {
    case .binaryCrossEntropy: return output == .sigmoid
    case .categoricalCrossEntropy: return output == .softmax
    case .meanSquaredError, .huber: return output != .softmax
    }
  }

  /// Whether the cost and `dZ_L` are computed from the logits Z_L (a
  /// cross-entropy with its own output activation): then the forward pass
  /// needs no A_L and the output gradient is `A − Y`.
  public func isComputedFromLogits(output: Activation) -> Bool {
    (self == .binaryCrossEntropy && output == .sigmoid) || (self == .categoricalCrossEntropy && output == .softmax)
  }

  /// The output layer's part of a training step: returns J and writes
  /// `dZ_L` (of the summed loss, no 1/m) into `dz`.
  ///
  /// From the logits when ``isComputedFromLogits(output:)``, reading only
  /// `z`; otherwise from `a = g(z)`: `dA_L` from the loss, then the output
  /// activation's backward pass. Allocates nothing.
  @inlinable
  public func outputGradient<Y: MatrixOperand<S>, S: BLASScalar>(
    z: Matrix<S>, a: Matrix<S>, labels: Y, weights: Matrix<S>? = nil, output: Activation, into dz: inout Matrix<S>
  ) -> S {
    switch self {
    case .binaryCrossEntropy where output == .sigmoid:
      return Losses.binaryCrossEntropy(logits: z, labels: labels, weights: weights, gradient: &dz)
    case .categoricalCrossEntropy where output == .softmax:
      return Losses.categoricalCrossEntropy(logits: z, labels: labels, weights: weights, gradient: &dz)
    case .meanSquaredError:
      let cost = Losses.meanSquaredError(predictions: a, labels: labels, weights: weights, gradient: &dz)
      output.backward(&dz, z: z)
      return cost
    case .huber:
      let cost = Losses.huber(predictions: a, labels: labels, weights: weights, gradient: &dz)
      output.backward(&dz, z: z)
      return cost
    default:
      shapeFailure("loss \(rawValue) does not go with a \(output.displayName) output")
    }
  }
}

/// The loss functions, each with its value and its gradient: the one source
/// of every formula (the trainer's fused kernels are the `gradient:` forms).
///
/// Shapes: predictions, logits and labels are n_L × m, one column per
/// example; optional per-example `weights` are 1 × m (Keras's
/// `sample_weight`: J = (1/m)·Σⱼ wⱼ·ℓⱼ). Values are means over the m examples;
/// gradients are those of the *summed* loss (the course's convention: the
/// layers divide by m), so for weights wⱼ the gradient of column j is scaled by wⱼ.
public enum Losses {
  @usableFromInline
  static func _check<P: MatrixOperand, Y: MatrixOperand>(
    _ predictions: P, _ labels: Y, _ weights: Matrix<P.Scalar>?, _ op: String, _ what: String
  ) where P.Scalar == Y.Scalar {
    if predictions.rows != labels.rows || predictions.columns != labels.columns {
      shapeFailure(
        "\(op): \(what) are \(predictions.rows)×\(predictions.columns) but labels are \(labels.rows)×\(labels.columns); both must be \(predictions.rows == 1 ? "1×m" : "n_L×m") (one column per example)"
      )
    }
    if predictions.columns == 0 { shapeFailure("\(op): there are no examples (\(predictions.rows)×0)") }
    if let weights, weights.rows != 1 || weights.columns != predictions.columns {
      shapeFailure(
        "\(op): weights must be 1×m = 1×\(predictions.columns), one per example; weights are \(weights.shape), \(what) \(predictions.rows)×\(predictions.columns)"
      )
    }
  }

  @usableFromInline
  static func _checkGradient<S>(_ gradient: Matrix<S>, _ rows: Int, _ columns: Int, _ op: String) {
    if gradient.rows != rows || gradient.columns != columns {
      shapeFailure("\(op): the gradient must be \(rows)×\(columns), as the labels; it is \(gradient.shape)")
    }
  }

  /// Calls `body` with the weights' buffer, or nil when there are none.
  @inlinable
  static func _withWeights<S, R>(_ weights: Matrix<S>?, _ body: (UnsafeBufferPointer<S>?) -> R) -> R {
    if let weights { return weights.withUnsafeBufferPointer { body($0) } }
    return body(nil)
  }

  // MARK: Binary cross-entropy

  /// The reference (clipped) binary cross-entropy of probabilities `a`:
  /// `a` is clipped to `[ε, 1 − ε]` before the logarithms (ε = 1e-7, as the
  /// course's Keras port), so the cost is finite even for a = 0 or 1, at most
  /// −ln ε ≈ 16.1 per example. For a sigmoid output prefer
  /// ``binaryCrossEntropy(logits:labels:weights:)``, which is exact.
  public static func binaryCrossEntropy<S: BLASScalar>(
    predictions: Matrix<S>, labels: Matrix<S>, epsilon: S = 1e-7, weights: Matrix<S>? = nil
  ) -> S {
    _check(predictions, labels, weights, "binaryCrossEntropy", "predictions")
    let rows = predictions.rows
    var total: S = 0
    for (k, (a, y)) in zip(predictions.elements, labels.elements).enumerated() {
      let c = Swift.min(Swift.max(a, epsilon), 1 - epsilon)
      total -= (weights?.elements[k / rows] ?? 1) * (y * S.log(c) + (1 - y) * S.log(1 - c))
    }
    return total / S(predictions.columns)
  }

  /// `dA_L = −(Y/A − (1 − Y)/(1 − A))`, unclipped, as the course's
  /// `L_model_backward` starts (±∞ where A is exactly 0 or 1 against the label).
  public static func binaryCrossEntropyGradient<S: BLASScalar>(
    predictions: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> Matrix<S> {
    _check(predictions, labels, weights, "binaryCrossEntropyGradient", "predictions")
    let rows = predictions.rows
    return Matrix(rows: rows, columns: predictions.columns) { i, j in
      let (a, y) = (predictions[i, j], labels[i, j])
      return -(y / a - (1 - y) / (1 - a)) * (weights?[0, j] ?? 1)
    }
  }

  /// Binary cross-entropy of `σ(z)` from the logits z, per element
  /// `max(z, 0) − z·y + ln(1 + e^−|z|)`: never log(0), finite for every
  /// finite z, and accurate for small costs (the last term is taken from
  /// `e^−|z|` itself, not from a rounded σ(z), so logits of ±20 with matching
  /// labels cost ≈ 2.06e-9, not 0).
  public static func binaryCrossEntropy<S: BLASScalar>(
    logits: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> S {
    var unused = Matrix<S>.zeros(0, 0)
    return _bce(logits, labels, weights, gradient: &unused, writeGradient: false)
  }

  /// `dZ_L = σ(Z) − Y` (times the example's weight).
  public static func binaryCrossEntropyGradient<S: BLASScalar>(
    logits: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> Matrix<S> {
    var dz = Matrix<S>.zeros(logits.rows, logits.columns)
    _ = binaryCrossEntropy(logits: logits, labels: labels, weights: weights, gradient: &dz)
    return dz
  }

  /// The value of ``binaryCrossEntropy(logits:labels:weights:)`` and
  /// `dZ_L = σ(Z) − Y` written into `gradient`, in one pass with one `exp` and
  /// one `log` per element: the trainer's output kernel. Allocates nothing.
  @inlinable
  public static func binaryCrossEntropy<Y: MatrixOperand<S>, S: BLASScalar>(
    logits: Matrix<S>, labels: Y, weights: Matrix<S>? = nil, gradient: inout Matrix<S>
  ) -> S {
    _checkGradient(gradient, labels.rows, labels.columns, "binaryCrossEntropy")
    return _bce(logits, labels, weights, gradient: &gradient, writeGradient: true)
  }

  @inlinable
  static func _bce<Y: MatrixOperand<S>, S: BLASScalar>(
    _ logits: Matrix<S>, _ labels: Y, _ weights: Matrix<S>?, gradient: inout Matrix<S>, writeGradient: Bool
  ) -> S {
    _check(logits, labels, weights, "binaryCrossEntropy", "logits")
    let rows = logits.rows
    let m = logits.columns
    var total: S = 0
    logits.withUnsafeBufferPointer { zp in
      labels.withUnsafeBufferPointer { yp in
        gradient.withUnsafeMutableBufferPointer { dz in
          _withWeights(weights) { wp in
            // A sigmoid output in Float (the trainer's case): eight examples at a time.
            var j0 = 0
            if rows == 1 && S.self == Float.self {
              let vectorColumns = m & ~7
              total = S(
                _bceSingleRowFloat(
                  UnsafeRawPointer(zp.baseAddress!), UnsafeRawPointer(yp.baseAddress!),
                  wp.map { UnsafeRawPointer($0.baseAddress!) }, UnsafeMutableRawPointer(dz.baseAddress),
                  count: vectorColumns, writeGradient: writeGradient))
              j0 = vectorColumns
            }
            for j in j0..<m {
              let w = wp?[j] ?? 1
              var column: S = 0
              for i in 0..<rows {
                let k = j &* rows &+ i
                let (z, y) = (zp[k], yp[k])
                // e = e^−|z|; σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) below,
                // the same expression as the sigmoid of the forward pass.
                let e = S.exp(-Swift.abs(z))
                column += Swift.max(z, 0) - z * y + _log1pSmall(e)
                if writeGradient { dz[k] = w * ((z >= 0 ? 1 : e) / (1 + e) - y) }
              }
              total += w * column
            }
          }
        }
      }
    }
    return total / S(m)
  }

  // MARK: Categorical cross-entropy

  /// Categorical cross-entropy of `softmax(z)` (per column) from the logits,
  /// stable and accurate: `−ln softmax(z)ᵢ = (max z − zᵢ) + ln(1 + Σ_{j≠k} e^(zⱼ − max z))`
  /// with k the column's largest entry, the last term taken accurately from
  /// the small sum (see the logit form of binary cross-entropy), so a confident,
  /// correct column costs ~e^−gap instead of a rounded 0.
  public static func categoricalCrossEntropy<S: BLASScalar>(
    logits: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> S {
    var unused = Matrix<S>.zeros(0, 0)
    return _cce(logits, labels, weights, gradient: &unused, writeGradient: false)
  }

  /// `dZ_L = softmax(Z) − Y` (per column; times the example's weight).
  public static func categoricalCrossEntropyGradient<S: BLASScalar>(
    logits: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> Matrix<S> {
    var dz = Matrix<S>.zeros(logits.rows, logits.columns)
    _ = categoricalCrossEntropy(logits: logits, labels: labels, weights: weights, gradient: &dz)
    return dz
  }

  /// The value of ``categoricalCrossEntropy(logits:labels:weights:)`` and
  /// `dZ_L = softmax(Z) − Y` in one pass per column (one `exp` per element,
  /// one `log` per column): the trainer's output kernel. Allocates nothing.
  @inlinable
  public static func categoricalCrossEntropy<Y: MatrixOperand<S>, S: BLASScalar>(
    logits: Matrix<S>, labels: Y, weights: Matrix<S>? = nil, gradient: inout Matrix<S>
  ) -> S {
    _checkGradient(gradient, labels.rows, labels.columns, "categoricalCrossEntropy")
    return _cce(logits, labels, weights, gradient: &gradient, writeGradient: true)
  }

  @inlinable
  static func _cce<Y: MatrixOperand<S>, S: BLASScalar>(
    _ logits: Matrix<S>, _ labels: Y, _ weights: Matrix<S>?, gradient: inout Matrix<S>, writeGradient: Bool
  ) -> S {
    _check(logits, labels, weights, "categoricalCrossEntropy", "logits")
    let rows = logits.rows
    let m = logits.columns
    var total: S = 0
    logits.withUnsafeBufferPointer { zp in
      labels.withUnsafeBufferPointer { yp in
        gradient.withUnsafeMutableBufferPointer { dz in
          _withWeights(weights) { wp in
            for j in 0..<m {
              let base = j &* rows
              var top = 0
              for i in 1..<rows where zp[base &+ i] > zp[base &+ top] { top = i }
              let mx = zp[base &+ top]
              // Σ over the other entries only: the top one contributes exactly 1.
              var others: S = 0
              for i in 0..<rows where i != top {
                let e = S.exp(zp[base &+ i] - mx)
                others += e
                if writeGradient { dz[base &+ i] = e }
              }
              let logSum = _log1pSmall(others)
              var column: S = 0
              var labelSum: S = 0
              for i in 0..<rows {
                let y = yp[base &+ i]
                column += y * (mx - zp[base &+ i])
                labelSum += y
              }
              let w = wp?[j] ?? 1
              total += w * (column + labelSum * logSum)
              if writeGradient {
                let inv = 1 / (1 + others)
                dz[base &+ top] = 1
                for i in 0..<rows { dz[base &+ i] = w * (dz[base &+ i] * inv - yp[base &+ i]) }
              }
            }
          }
        }
      }
    }
    return total / S(m)
  }

  /// Categorical cross-entropy of given probabilities, clipped at ε below.
  public static func categoricalCrossEntropy<S: BLASScalar>(
    probabilities: Matrix<S>, labels: Matrix<S>, epsilon: S = 1e-7, weights: Matrix<S>? = nil
  ) -> S {
    _check(probabilities, labels, weights, "categoricalCrossEntropy", "probabilities")
    let rows = probabilities.rows
    var total: S = 0
    for (k, (a, y)) in zip(probabilities.elements, labels.elements).enumerated() where y != 0 {
      total -= (weights?.elements[k / rows] ?? 1) * y * S.log(Swift.max(a, epsilon))
    }
    return total / S(probabilities.columns)
  }

  /// `dA_L = −Y/A` for probabilities A (unclipped); with a softmax output,
  /// ``Activation/backward(dA:z:)`` turns it into `softmax(Z) − Y` for one-hot Y.
  public static func categoricalCrossEntropyGradient<S: BLASScalar>(
    probabilities: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> Matrix<S> {
    _check(probabilities, labels, weights, "categoricalCrossEntropyGradient", "probabilities")
    return Matrix(rows: probabilities.rows, columns: probabilities.columns) { i, j in
      -labels[i, j] / probabilities[i, j] * (weights?[0, j] ?? 1)
    }
  }

  // MARK: Mean squared error

  /// Mean squared error over all outputs and examples, `(1/(m·n_L)) Σ wⱼ·(a − y)²`.
  public static func meanSquaredError<S: BLASScalar>(
    predictions: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> S {
    var unused = Matrix<S>.zeros(0, 0)
    return _mse(predictions, labels, weights, gradient: &unused, writeGradient: false)
  }

  /// `dA_L = (2/n_L)·(A − Y)` (times the example's weight).
  public static func meanSquaredErrorGradient<S: BLASScalar>(
    predictions: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil
  ) -> Matrix<S> {
    var da = Matrix<S>.zeros(predictions.rows, predictions.columns)
    _ = meanSquaredError(predictions: predictions, labels: labels, weights: weights, gradient: &da)
    return da
  }

  /// The value of ``meanSquaredError(predictions:labels:weights:)`` and
  /// `dA_L = (2/n_L)·(A − Y)` in one pass. Allocates nothing.
  @inlinable
  public static func meanSquaredError<Y: MatrixOperand<S>, S: BLASScalar>(
    predictions: Matrix<S>, labels: Y, weights: Matrix<S>? = nil, gradient: inout Matrix<S>
  ) -> S {
    _checkGradient(gradient, labels.rows, labels.columns, "meanSquaredError")
    return _mse(predictions, labels, weights, gradient: &gradient, writeGradient: true)
  }

  @inlinable
  static func _mse<Y: MatrixOperand<S>, S: BLASScalar>(
    _ predictions: Matrix<S>, _ labels: Y, _ weights: Matrix<S>?, gradient: inout Matrix<S>, writeGradient: Bool
  ) -> S {
    _pointwise(predictions, labels, weights, gradient: &gradient, writeGradient: writeGradient, "meanSquaredError") {
      d in (d * d, 2 * d)
    }
  }

  /// A loss that is a mean over every output of `ℓ(a − y)`: `loss(d)` gives
  /// ℓ(d) and ℓ′(d); the gradient is ℓ′(d) / n_L times the example's weight.
  @inlinable
  static func _pointwise<Y: MatrixOperand<S>, S: BLASScalar>(
    _ predictions: Matrix<S>, _ labels: Y, _ weights: Matrix<S>?, gradient: inout Matrix<S>, writeGradient: Bool,
    _ name: String, _ loss: (S) -> (value: S, slope: S)
  ) -> S {
    _check(predictions, labels, weights, name, "predictions")
    let rows = predictions.rows
    let m = predictions.columns
    let scale = 1 / S(rows)
    var total: S = 0
    predictions.withUnsafeBufferPointer { ap in
      labels.withUnsafeBufferPointer { yp in
        gradient.withUnsafeMutableBufferPointer { da in
          _withWeights(weights) { wp in
            for j in 0..<m {
              let w = wp?[j] ?? 1
              var column: S = 0
              for i in 0..<rows {
                let k = j &* rows &+ i
                let (value, slope) = loss(ap[k] - yp[k])
                column += value
                if writeGradient { da[k] = w * scale * slope }
              }
              total += w * column
            }
          }
        }
      }
    }
    return total / S(m * rows)
  }

  // MARK: Huber

  /// The Huber loss (δ = 1) over all outputs and examples.
  public static func huber<S: BLASScalar>(predictions: Matrix<S>, labels: Matrix<S>, weights: Matrix<S>? = nil) -> S {
    var unused = Matrix<S>.zeros(0, 0)
    return _huber(predictions, labels, weights, gradient: &unused, writeGradient: false)
  }

  /// The value of ``huber(predictions:labels:weights:)`` and `dA_L = clamp(A − Y, −1, 1) / n_L` in one pass.
  @inlinable
  public static func huber<Y: MatrixOperand<S>, S: BLASScalar>(
    predictions: Matrix<S>, labels: Y, weights: Matrix<S>? = nil, gradient: inout Matrix<S>
  ) -> S {
    _checkGradient(gradient, labels.rows, labels.columns, "huber")
    return _huber(predictions, labels, weights, gradient: &gradient, writeGradient: true)
  }

  @inlinable
  static func _huber<Y: MatrixOperand<S>, S: BLASScalar>(
    _ predictions: Matrix<S>, _ labels: Y, _ weights: Matrix<S>?, gradient: inout Matrix<S>, writeGradient: Bool
  ) -> S {
    // Squared within one unit, absolute beyond: the slope d inside [−1, 1], ±1 outside.
    _pointwise(predictions, labels, weights, gradient: &gradient, writeGradient: writeGradient, "huber") { d in
      (Swift.abs(d) <= 1 ? d * d / 2 : Swift.abs(d) - 0.5, Swift.min(Swift.max(d, -1), 1))
    }
  }

  // MARK: L2 regularisation

  /// The L2 penalty `(λ/2m)·Σ_l ‖W_l‖²` (Frobenius norms; biases are not
  /// penalised), added to the data cost.
  @inlinable
  public static func l2Penalty<S: BLASScalar>(of network: Network<S>, lambda: Double, examples m: Int) -> S {
    if m < 1 { shapeFailure("l2Penalty: the number of examples must be ≥ 1, got \(m)") }
    var squares: S = 0
    for layer in network.layers {
      // Σ w², BLAS's dot of the weights with themselves (a sum in order in
      // Swift was a tenth of a fit's time: it runs every step).
      layer.weights.withUnsafeBufferPointer { w in
        if let p = w.baseAddress { squares += S.dot(n: Int32(w.count), p, p) }
      }
    }
    return S(lambda) / S(2 * m) * squares
  }

  /// ``l2Penalty(of:lambda:examples:)`` of a plain parameter dictionary
  /// (`W1`…`WL` are penalised, `b1`…`bL` are not).
  public static func l2Penalty<S: BLASScalar>(parameters: [String: Matrix<S>], lambda: Double, examples m: Int) -> S {
    if m < 1 { shapeFailure("l2Penalty: the number of examples must be ≥ 1, got \(m)") }
    var squares: S = 0
    for (name, w) in parameters.sorted(by: { $0.key < $1.key }) where name.hasPrefix("W") {
      w.withUnsafeBufferPointer { p in for v in p { squares += v * v } }
    }
    return S(lambda) / S(2 * m) * squares
  }

  /// The course's `compute_cost_with_regularization(AL, Y, parameters, lambd)`:
  /// the binary cross-entropy of the output `AL` against `Y` (both 1 × m;
  /// clipped as ``binaryCrossEntropy(predictions:labels:epsilon:weights:)``)
  /// plus the L2 penalty `(λ/2m)·Σ_l ‖W_l‖²` of the parameters.
  public static func binaryCrossEntropy<S: BLASScalar>(
    predictions al: Matrix<S>, labels y: Matrix<S>, parameters: [String: Matrix<S>], lambda: Double
  ) -> S {
    binaryCrossEntropy(predictions: al, labels: y)
      + l2Penalty(parameters: parameters, lambda: lambda, examples: al.columns)
  }

  /// The penalty's gradient for one weight matrix, `(λ/m)·W`.
  public static func l2Gradient<S: BLASScalar>(weights: Matrix<S>, lambda: Double, examples m: Int) -> Matrix<S> {
    var g = Matrix<S>.zeros(weights.rows, weights.columns)
    addL2Gradient(weights: weights, lambda: lambda, examples: m, to: &g)
    return g
  }

  /// `dW += (λ/m)·W` in place (BLAS `?axpy`); allocates nothing.
  @inlinable
  public static func addL2Gradient<S: BLASScalar>(
    weights: Matrix<S>, lambda: Double, examples m: Int, to dW: inout Matrix<S>
  ) {
    if m < 1 { shapeFailure("addL2Gradient: the number of examples must be ≥ 1, got \(m)") }
    dW.addScaled(weights, alpha: S(lambda) / S(m))
  }
}

/// ln(1 + x) for x ≥ 0, accurate to a few ulps, from one `log`: with u = 1 + x
/// rounded, ln(u)·x/(u − 1) cancels the rounding of u (Goldberg, "What every
/// computer scientist should know about floating-point arithmetic", thm. 4),
/// and x itself where u rounds to 1. Cheaper than glibc's `log1pf`, which made
/// the output kernel 3× slower.
@inlinable @inline(__always)
func _log1pSmall<S: BLASScalar>(_ x: S) -> S {
  let u = 1 + x
  return u == 1 ? x : S.log(u) * (x / (u - 1))
}

/// The binary cross-entropy kernel of ``Losses/binaryCrossEntropy(logits:labels:weights:gradient:)``
/// for one row of Float logits, eight at a time: the weighted sum of
/// `max(z, 0) − z·y + ln(1 + e^−|z|)` over `count` examples (a multiple of
/// 8), and `dZ = w·(σ(z) − y)` when `writeGradient`. e^−|z| and
/// ln(1 + e) are polynomials in SIMD lanes (see ``_expNonPositive(_:)`` and
/// ``_log1pUnit(_:)``); a chunk with a NaN or an infinite logit takes the
/// scalar formulas, so that NaN still propagates.
@inlinable
func _bceSingleRowFloat(
  _ z: UnsafeRawPointer, _ y: UnsafeRawPointer, _ w: UnsafeRawPointer?, _ dz: UnsafeMutableRawPointer?,
  count: Int, writeGradient: Bool
) -> Float {
  var sum = SIMD8<Float>.zero
  var scalarSum: Float = 0
  var k = 0
  while k < count {
    let offset = k &* 4
    let zv = z.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
    let yv = y.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
    let wv = w?.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) ?? SIMD8(repeating: 1)
    let magnitude = zv.replacing(with: -zv, where: zv .< 0)
    if any(.!(magnitude .<= Float.greatestFiniteMagnitude)) {
      // NaN or ±∞ among the eight: the scalar formulas, lane by lane.
      for i in 0..<8 {
        let (zi, yi, wi) = (zv[i], yv[i], wv[i])
        let e = Float.exp(-Swift.abs(zi))
        scalarSum += wi * (Swift.max(zi, 0) - zi * yi + _log1pSmall(e))
        if writeGradient {
          dz!.storeBytes(of: wi * ((zi >= 0 ? 1 : e) / (1 + e) - yi), toByteOffset: offset &+ 4 &* i, as: Float.self)
        }
      }
    } else {
      let e = _expNonPositive(-magnitude)
      let positive = zv.replacing(with: 0, where: zv .< 0)
      sum += wv * (positive - zv * yv + _log1pUnit(e))
      if writeGradient {
        let numerator = SIMD8<Float>(repeating: 1).replacing(with: e, where: zv .< 0)
        dz!.storeBytes(of: wv * (numerator / (1 + e) - yv), toByteOffset: offset, as: SIMD8<Float>.self)
      }
    }
    k &+= 8
  }
  return sum.sum() + scalarSum
}

/// eˣ for finite x ≤ 0 in eight Float lanes, within about 2 ulps: x = n·ln 2
/// + r with |r| ≤ ln(2)/2 (ln 2 in two parts, so that r is exact), eʳ by its
/// Taylor polynomial to r⁷ (truncation below 1e-8), times 2ⁿ built from the
/// exponent bits. Below −87.3 (where eˣ is no longer a normal Float) the
/// result is e^−87.3 ≈ 1.2e-38 instead of a subnormal or 0.
@inlinable @inline(__always)
func _expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
  let clamped = x.replacing(with: -87.3, where: x .< -87.3)
  // n = round(x / ln 2) by adding 1.5·2²³: the sum's low mantissa bits are
  // n itself (|n| ≤ 126), with no rounding instruction (SSE2 has none).
  let shifter: Float = 12_582_912
  let shifted = clamped * 1.442_695_04 + shifter
  let n = shifted - shifter
  // ln 2 = 0.693359375 − 2.12194440e-4: the first part has few bits, so n times it is exact.
  let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
  var p = SIMD8<Float>(repeating: 1.0 / 5040)
  p = p * r + 1.0 / 720
  p = p * r + 1.0 / 120
  p = p * r + 1.0 / 24
  p = p * r + 1.0 / 6
  p = p * r + 0.5
  p = p * r + 1
  p = p * r + 1
  let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: shifter.bitPattern)
  let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
  return p * scale
}

/// ln(1 + e) for e in [0, 1] in eight Float lanes, within about 2 ulps:
/// 2·atanh(t) with t = e/(2 + e) ≤ 1/3, by its series to t¹³ (the next term
/// is below 2e-8 of the result). t is formed without cancellation, so small e
/// keep their precision (ln(1 + e) ≈ e).
@inlinable @inline(__always)
func _log1pUnit(_ e: SIMD8<Float>) -> SIMD8<Float> {
  let t = e / (2 + e)
  let t2 = t * t
  var p = SIMD8<Float>(repeating: 1.0 / 13)
  p = p * t2 + 1.0 / 11
  p = p * t2 + 1.0 / 9
  p = p * t2 + 1.0 / 7
  p = p * t2 + 1.0 / 5
  p = p * t2 + 1.0 / 3
  p = p * t2 + 1
  return 2 * t * p
}
