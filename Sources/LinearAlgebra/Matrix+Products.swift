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

/// `C = alpha·op(A)·op(B) + beta·C`, written into an existing `c` (BLAS `?gemm`,
/// or libxsmm for a small product where it is faster: see ``SmallProducts``).
///
/// `op(X)` is `X` or `Xᵀ` by the ``Transpose`` flag; the transpose is read by
/// BLAS in place, never copied. With `beta = 0` the old contents of `c` are
/// ignored (even NaN); with `beta = 1` the product is accumulated. Nothing is
/// allocated when `c` is uniquely held. `kernel` chooses BLAS or libxsmm
/// explicitly; the default follows ``SmallProducts/mode``.
///
/// Traps unless `op(A)` is m×k, `op(B)` is k×n and `c` is m×n.
@inlinable
public func gemm<A: MatrixOperand, B: MatrixOperand>(
  alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
  beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>, kernel: ProductKernel = .automatic
) where B.Scalar == A.Scalar {
  let opA = Transpose(transposeA)
  let opB = Transpose(transposeB)
  let (m, n, k) = _productShape("gemm", a, opA, b, opB, output: c.shape)
  _gemm(
    alpha: alpha, a, opA, b, opB, beta: beta, m: m, n: n, k: k, into: &c, kernel: kernel,
    epilogue: _NoEpilogue<A.Scalar>())
}

/// Work done on a block of a product's output right after the block is
/// computed, while it is still in cache: adding a bias and applying an
/// activation (forward), or multiplying by an activation's derivative
/// (backward). See ``gemm(alpha:_:_:transposeA:transposeB:beta:into:epilogue:kernel:)``.
public protocol ProductEpilogue<Scalar> {
  associatedtype Scalar: BLASScalar
  /// Finishes columns `firstColumn ..< firstColumn + columns` of C, which
  /// `block` points at (`rows × columns`, column-major, contiguous): they hold
  /// `alpha·op(A)·op(B) + beta·C` on entry.
  func finish(_ block: UnsafeMutablePointer<Scalar>, rows: Int, firstColumn: Int, columns: Int)
}

@usableFromInline
struct _NoEpilogue<Scalar: BLASScalar>: ProductEpilogue {
  @inlinable init() {}
  @inlinable @inline(__always)
  func finish(_ block: UnsafeMutablePointer<Scalar>, rows: Int, firstColumn: Int, columns: Int) {}
}

/// `C = alpha·op(A)·op(B) + beta·C`, then `epilogue` on each block of C's
/// columns as soon as it is computed: one pass over the output while it is
/// in cache, instead of a product and then a second pass over all of C.
///
/// On libxsmm's path (a small product) the blocks are at most 16 KB of C;
/// on BLAS's path the product is one call and `epilogue` sees all of C at
/// once (splitting a large product into blocks costs BLAS more than the
/// second pass does). The result equals ``gemm(alpha:_:_:transposeA:transposeB:beta:into:kernel:)``
/// followed by `epilogue` on the whole of C, up to the rounding of the kernel
/// chosen. Traps unless `op(A)` is m×k, `op(B)` is k×n and `c` is m×n.
@inlinable
public func gemm<A: MatrixOperand, B: MatrixOperand, E: ProductEpilogue>(
  alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
  beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>, epilogue: E, kernel: ProductKernel = .automatic
) where B.Scalar == A.Scalar, E.Scalar == A.Scalar {
  let opA = Transpose(transposeA)
  let opB = Transpose(transposeB)
  let (m, n, k) = _productShape("gemm", a, opA, b, opB, output: c.shape)
  _gemm(alpha: alpha, a, opA, b, opB, beta: beta, m: m, n: n, k: k, into: &c, kernel: kernel, epilogue: epilogue)
}

@inlinable
func _gemm<A: MatrixOperand, B: MatrixOperand, E: ProductEpilogue>(
  alpha: A.Scalar, _ a: A, _ opA: Transpose, _ b: B, _ opB: Transpose,
  beta: A.Scalar, m: Int, n: Int, k: Int, into c: inout Matrix<A.Scalar>, kernel: ProductKernel = .automatic,
  epilogue: E
) where B.Scalar == A.Scalar, E.Scalar == A.Scalar {
  if m == 0 || n == 0 { return }
  if k == 0 {
    // Nothing to multiply: C = beta·C (BLAS may not touch C at all here).
    c.withUnsafeMutableBufferPointer { cp in
      for i in cp.indices { cp[i] = beta == 0 ? 0 : beta * cp[i] }
      epilogue.finish(cp.baseAddress!, rows: m, firstColumn: 0, columns: n)
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
        let (pa, pb, pc) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
        if kernel != .blas && _SmallPlan.mayFit(A.Scalar.self, m: m, n: n, k: k, transposeA: opA == .transposed),
          let plan = _smallProductPlan(
            kernel, opA: opA, opB: opB, m: m, n: n, k: k, alpha: alpha, beta: beta, a: pa, lda: lda, b: pb, ldb: ldb)
        {
          plan.run(
            m: m, n: n, k: k, alpha: alpha, a: pa, b: pb, ldb: Int(ldb), transposeB: opB == .transposed, c: pc
          ) { first, count in
            epilogue.finish(pc + first &* m, rows: m, firstColumn: first, columns: count)
          }
          return
        }
        A.Scalar.gemm(
          opA, opB, m: m32, n: n32, k: k32, alpha: alpha, a: pa, lda: lda,
          b: pb, ldb: ldb, beta: beta, c: pc, ldc: m32)
        epilogue.finish(pc, rows: m, firstColumn: 0, columns: n)
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
  _gemm(alpha: 1, a, opA, b, opB, beta: 0, m: m, n: n, k: k, into: &c, epilogue: _NoEpilogue<A.Scalar>())
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
