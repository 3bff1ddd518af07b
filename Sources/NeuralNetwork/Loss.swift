import LinearAlgebra

/// The cost a network is trained to minimise, averaged over the m examples (columns).
///
///     binaryCrossEntropy      J = −(1/m) Σ [y·ln a + (1 − y)·ln(1 − a)]
///     categoricalCrossEntropy J = −(1/m) Σⱼ Σᵢ yᵢⱼ·ln aᵢⱼ
///     meanSquaredError        J = (1/(m·n_L)) Σ (a − y)²
///
/// With a sigmoid output and binary cross-entropy, or a softmax output and
/// categorical cross-entropy, training evaluates the cost from the
/// pre-activation Z (``Losses/binaryCrossEntropy(logits:labels:)``), which
/// never takes log(0), and the output gradient is simply `dZ = A − Y`.
public enum Loss: String, Codable, Sendable, CaseIterable {
  case binaryCrossEntropy
  case categoricalCrossEntropy
  case meanSquaredError

  /// The loss that goes with an output activation: BCE for sigmoid, CCE for softmax, MSE otherwise.
  public static func natural(for output: Activation) -> Loss {
    switch output {
    case .sigmoid: return .binaryCrossEntropy
    case .softmax: return .categoricalCrossEntropy
    default: return .meanSquaredError
    }
  }
}

/// The loss functions as plain functions of matrices, for use outside training.
public enum Losses {
  static func _checkLabels<S>(_ predictions: Matrix<S>, _ labels: Matrix<S>, _ op: String, _ what: String) {
    if predictions.shape != labels.shape {
      shapeFailure(
        "\(op): \(what) are \(predictions.shape) but labels are \(labels.shape); both must be \(predictions.rows == 1 ? "1×m" : "n_L×m") (one column per example)"
      )
    }
    if predictions.columns == 0 { shapeFailure("\(op): there are no examples (\(predictions.shape))") }
  }

  /// The reference (clipped) binary cross-entropy: `a` is clipped to
  /// `[ε, 1 − ε]` before the logarithms, ε = 1e-7 by default, so the cost is
  /// finite even for a = 0 or 1. It is then at most −ln ε ≈ 16.1 per example.
  public static func binaryCrossEntropy<S: BLASScalar>(
    predictions: Matrix<S>, labels: Matrix<S>, epsilon: S = 1e-7
  ) -> S {
    _checkLabels(predictions, labels, "binaryCrossEntropy", "predictions")
    var total: S = 0
    for (a, y) in zip(predictions.elements, labels.elements) {
      let c = Swift.min(Swift.max(a, epsilon), 1 - epsilon)
      total -= y * S.log(c) + (1 - y) * S.log(1 - c)
    }
    return total / S(predictions.columns)
  }

  /// Binary cross-entropy of `sigmoid(z)` computed from the logits z:
  /// `max(z, 0) − z·y + ln(1 + e^(−|z|))` per element. Exact where the
  /// clipped form is not, and finite for any finite z (|z| = 1e4 included).
  public static func binaryCrossEntropy<S: BLASScalar>(logits: Matrix<S>, labels: Matrix<S>) -> S {
    _checkLabels(logits, labels, "binaryCrossEntropy", "logits")
    var total: S = 0
    for (z, y) in zip(logits.elements, labels.elements) { total += _bceLogit(z, y) }
    return total / S(logits.columns)
  }

  /// Categorical cross-entropy of `softmax(z)` (per column) from the logits,
  /// stable: `ln softmax(z)ᵢ = zᵢ − max z − ln Σ e^(zⱼ − max z)`.
  public static func categoricalCrossEntropy<S: BLASScalar>(logits: Matrix<S>, labels: Matrix<S>) -> S {
    _checkLabels(logits, labels, "categoricalCrossEntropy", "logits")
    return logits.withUnsafeBufferPointer { z in
      labels.withUnsafeBufferPointer { y in _cceLogits(z, y, rows: logits.rows, columns: logits.columns) }
    } / S(logits.columns)
  }

  /// Categorical cross-entropy of given probabilities, clipped at ε below.
  public static func categoricalCrossEntropy<S: BLASScalar>(
    probabilities: Matrix<S>, labels: Matrix<S>, epsilon: S = 1e-7
  ) -> S {
    _checkLabels(probabilities, labels, "categoricalCrossEntropy", "probabilities")
    var total: S = 0
    for (a, y) in zip(probabilities.elements, labels.elements) where y != 0 {
      total -= y * S.log(Swift.max(a, epsilon))
    }
    return total / S(probabilities.columns)
  }

  /// Mean squared error over all outputs and examples, `(1/(m·n_L)) Σ (a − y)²`.
  public static func meanSquaredError<S: BLASScalar>(predictions: Matrix<S>, labels: Matrix<S>) -> S {
    _checkLabels(predictions, labels, "meanSquaredError", "predictions")
    var total: S = 0
    for (a, y) in zip(predictions.elements, labels.elements) { total += (a - y) * (a - y) }
    return total / S(predictions.count)
  }
}

/// One element of the logit form of binary cross-entropy.
@inlinable
func _bceLogit<S: BLASScalar>(_ z: S, _ y: S) -> S {
  Swift.max(z, 0) - z * y + S.log1p(S.exp(-abs(z)))
}

/// Σ over columns of −Σᵢ yᵢ ln softmax(z)ᵢ, for column-major buffers.
@inlinable
func _cceLogits<S: BLASScalar>(_ z: UnsafeBufferPointer<S>, _ y: UnsafeBufferPointer<S>, rows: Int, columns: Int) -> S {
  var total: S = 0
  for j in 0..<columns {
    let base = j &* rows
    var mx = -S.infinity
    for i in 0..<rows { mx = Swift.max(mx, z[base &+ i]) }
    var sum: S = 0
    for i in 0..<rows { sum += S.exp(z[base &+ i] - mx) }
    let logSum = S.log(sum) + mx
    for i in 0..<rows where y[base &+ i] != 0 { total -= y[base &+ i] * (z[base &+ i] - logSum) }
  }
  return total
}
