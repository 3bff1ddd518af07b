/// Something BLAS can read as a column-major matrix: a ``Matrix`` or a
/// ``MatrixColumns`` view. Products accept either, so a mini-batch view is
/// multiplied without being copied.
public protocol MatrixOperand<Scalar> {
  associatedtype Scalar: BLASScalar
  var rows: Int { get }
  var columns: Int { get }
  func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R
}

extension Matrix: MatrixOperand {}
extension MatrixColumns: MatrixOperand {}

extension MatrixOperand {
  @inlinable
  func _describe(_ op: Transpose) -> String {
    op == .none ? "\(rows)×\(columns)" : "\(rows)×\(columns) (transposed: \(columns)×\(rows))"
  }

  @inlinable
  func _opShape(_ op: Transpose) -> (rows: Int, columns: Int) {
    op == .none ? (rows, columns) : (columns, rows)
  }
}

/// The dimensions `(m, n, k)` of `op(A)·op(B)`; traps, naming the operation and
/// the shapes, unless `op(A).columns == op(B).rows` and (when given) the
/// output is `m × n`.
@inlinable
func _productShape<A: MatrixOperand, B: MatrixOperand>(
  _ operation: String, _ a: A, _ opA: Transpose, _ b: B, _ opB: Transpose, output: Shape? = nil
) -> (m: Int, n: Int, k: Int) {
  let (m, k) = a._opShape(opA)
  let (kb, n) = b._opShape(opB)
  if k != kb {
    shapeFailure(
      "\(operation): op(A).columns (\(k)) must equal op(B).rows (\(kb)); A is \(a._describe(opA)), B is \(b._describe(opB))"
    )
  }
  if let output, output.rows != m || output.columns != n {
    shapeFailure(
      "\(operation): the output must be op(A).rows × op(B).columns = \(m)×\(n); C is \(output), A is \(a._describe(opA)), B is \(b._describe(opB))"
    )
  }
  return (m, n, k)
}

/// `C = alpha·op(A)·op(B) + beta·C`, written into an existing `c` (BLAS `?gemm`).
///
/// `op(X)` is `X` or `Xᵀ` by the ``Transpose`` flag; the transpose is read by
/// BLAS in place, never copied. With `beta = 0` the old contents of `c` are
/// ignored (even NaN); with `beta = 1` the product is accumulated. Nothing is
/// allocated when `c` is uniquely held.
///
/// Traps unless `op(A)` is m×k, `op(B)` is k×n and `c` is m×n.
@inlinable
public func gemm<A: MatrixOperand, B: MatrixOperand>(
  alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
  beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>
) where B.Scalar == A.Scalar {
  let opA = Transpose(transposeA)
  let opB = Transpose(transposeB)
  let (m, n, k) = _productShape("gemm", a, opA, b, opB, output: c.shape)
  _gemm(alpha: alpha, a, opA, b, opB, beta: beta, m: m, n: n, k: k, into: &c)
}

@inlinable
func _gemm<A: MatrixOperand, B: MatrixOperand>(
  alpha: A.Scalar, _ a: A, _ opA: Transpose, _ b: B, _ opB: Transpose,
  beta: A.Scalar, m: Int, n: Int, k: Int, into c: inout Matrix<A.Scalar>
) where B.Scalar == A.Scalar {
  if m == 0 || n == 0 { return }
  if k == 0 {
    // Nothing to multiply: C = beta·C (BLAS may not touch C at all here).
    c.withUnsafeMutableBufferPointer { cp in
      for i in cp.indices { cp[i] = beta == 0 ? 0 : beta * cp[i] }
    }
    return
  }
  let m32 = _blasInt(m, "gemm")
  let n32 = _blasInt(n, "gemm")
  let k32 = _blasInt(k, "gemm")
  let lda = _blasInt(Swift.max(1, a.rows), "gemm")
  let ldb = _blasInt(Swift.max(1, b.rows), "gemm")
  a.withUnsafeBufferPointer { ap in
    b.withUnsafeBufferPointer { bp in
      c.withUnsafeMutableBufferPointer { cp in
        A.Scalar.gemm(
          opA, opB, m: m32, n: n32, k: k32, alpha: alpha, a: ap.baseAddress!, lda: lda,
          b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: m32)
      }
    }
  }
}

/// The matrix product `op(A)·op(B)` in a new matrix (BLAS `?gemm`).
///
/// Traps unless `op(A).columns == op(B).rows`; the message names both shapes:
///
///     matmul: op(A).columns (3) must equal op(B).rows (4); A is 2×3, B is 4×5
@inlinable
public func matmul<A: MatrixOperand, B: MatrixOperand>(
  _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false
) -> Matrix<A.Scalar> where B.Scalar == A.Scalar {
  let opA = Transpose(transposeA)
  let opB = Transpose(transposeB)
  let (m, n, k) = _productShape("matmul", a, opA, b, opB)
  var c = Matrix<A.Scalar>.zeros(m, n)
  _gemm(alpha: 1, a, opA, b, opB, beta: 0, m: m, n: n, k: k, into: &c)
  return c
}

/// The matrix·vector product `op(A)·x` (BLAS `?gemv`); `x` is a column vector.
///
/// Traps unless `x` is `op(A).columns × 1`.
@inlinable
public func matvec<A: MatrixOperand>(_ a: A, _ x: Matrix<A.Scalar>, transposeA: Bool = false) -> Matrix<A.Scalar> {
  let opA = Transpose(transposeA)
  let (m, k) = a._opShape(opA)
  if x.columns != 1 || x.rows != k {
    shapeFailure(
      "matvec: x must be a column vector of op(A).columns = \(k) rows, i.e. \(k)×1; A is \(a._describe(opA)), x is \(x.shape)"
    )
  }
  var y = Matrix<A.Scalar>.zeros(m, 1)
  gemv(a, x, transposeA: transposeA, into: &y)
  return y
}

/// `y = alpha·op(A)·x + beta·y` into an existing column vector `y` (BLAS `?gemv`).
///
/// `x` may be a ``Matrix`` or a ``MatrixColumns`` view with one column.
/// Traps unless `x` is `op(A).columns × 1` and `y` is `op(A).rows × 1`.
@inlinable
public func gemv<A: MatrixOperand, X: MatrixOperand>(
  alpha: A.Scalar = 1, _ a: A, _ x: X, transposeA: Bool = false, beta: A.Scalar = 0,
  into y: inout Matrix<A.Scalar>
) where X.Scalar == A.Scalar {
  let opA = Transpose(transposeA)
  let (m, k) = a._opShape(opA)
  if x.columns != 1 || x.rows != k || y.columns != 1 || y.rows != m {
    shapeFailure(
      "gemv: x must be op(A).columns×1 = \(k)×1 and y op(A).rows×1 = \(m)×1; A is \(a._describe(opA)), x is \(x.rows)×\(x.columns), y is \(y.shape)"
    )
  }
  if m == 0 { return }
  if k == 0 {
    y.withUnsafeMutableBufferPointer { yp in
      for i in yp.indices { yp[i] = beta == 0 ? 0 : beta * yp[i] }
    }
    return
  }
  let lda = _blasInt(Swift.max(1, a.rows), "gemv")
  let rows = _blasInt(a.rows, "gemv")
  let columns = _blasInt(a.columns, "gemv")
  a.withUnsafeBufferPointer { ap in
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        A.Scalar.gemv(
          opA, m: rows, n: columns, alpha: alpha, a: ap.baseAddress!, lda: lda, x: xp.baseAddress!, beta: beta,
          y: yp.baseAddress!)
      }
    }
  }
}

/// The dot product `Σ xᵢ·yᵢ` of two vectors of equal length (BLAS `?dot`).
///
/// Each operand must be a vector (n×1 or 1×n); a row and a column of the
/// same length are accepted. Traps otherwise, naming both shapes.
@inlinable
public func dot<S>(_ x: Matrix<S>, _ y: Matrix<S>) -> S {
  let xv = x.rows == 1 || x.columns == 1
  let yv = y.rows == 1 || y.columns == 1
  if !xv || !yv || x.count != y.count {
    shapeFailure("dot: both operands must be vectors (n×1 or 1×n) of the same length; x is \(x.shape), y is \(y.shape)")
  }
  if x.count == 0 { return 0 }
  let n = _blasInt(x.count, "dot")
  return x.withUnsafeBufferPointer { xp in
    y.withUnsafeBufferPointer { yp in S.dot(n: n, xp.baseAddress!, yp.baseAddress!) }
  }
}
