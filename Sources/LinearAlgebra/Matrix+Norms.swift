/// Which matrix norm ``Matrix/norm(_:)`` computes (NumPy's `ord`).
public enum MatrixNorm: Sendable {
  /// √(Σ aᵢⱼ²) (`'fro'`).
  case frobenius
  /// The largest column sum of |aᵢⱼ| (`1`).
  case one
  /// The largest row sum of |aᵢⱼ| (`inf`).
  case infinity
  /// The largest singular value (`2`), by LAPACK `?gesdd`; O(m·n·min(m, n)).
  case two
}

/// Which vector norm ``Matrix/vectorNorm(_:)`` computes.
public enum VectorNorm: Sendable {
  /// Σ |xᵢ|.
  case one
  /// √(Σ xᵢ²).
  case two
  /// max |xᵢ|.
  case infinity
}

extension Matrix {
  /// A matrix norm. For an n×1 column the 1-, 2-, ∞- and Frobenius norms are
  /// those of the vector; for a 1×n row, as for NumPy, the 1-norm is the
  /// largest |xᵢ| and the ∞-norm the sum (use ``vectorNorm(_:)`` for a row as a vector).
  ///
  /// The 2-norm is NaN when the matrix holds NaN or ∞ (LAPACK cannot take
  /// it); the others follow IEEE arithmetic. An empty matrix has norm 0.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func norm(_ kind: MatrixNorm) -> Scalar {
    if count == 0 { return 0 }
    let r = rows
    switch kind {
    case .frobenius:
      return norm()
    case .one:
      return withUnsafeBufferPointer { p in
        (0..<columns).reduce(Scalar(0)) { best, j in
          var s: Scalar = 0
          for i in 0..<r { s += abs(p[i &+ j &* r]) }
          return Swift.max(best, s)
        }
      }
    case .infinity:
      var sums = [Scalar](repeating: 0, count: rows)
      withUnsafeBufferPointer { p in
        for j in 0..<columns { for i in 0..<r { sums[i] += abs(p[i &+ j &* r]) } }
      }
      return sums.max() ?? 0
    case .two:
      return (try? singularValues().first) ?? .nan
    }
  }

  /// A vector norm of an n×1 or 1×n matrix; traps for any other shape.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func vectorNorm(_ kind: VectorNorm) -> Scalar {
    if rows != 1 && columns != 1 {
      shapeFailure("vectorNorm: the matrix must be a vector (n×1 or 1×n); it is \(shape)")
    }
    switch kind {
    case .one: return elements.reduce(0) { $0 + abs($1) }
    case .two: return norm()
    case .infinity: return elements.reduce(0) { Swift.max($0, abs($1)) }
    }
  }
}
