/// Textbook matrix products in plain Swift loops, with no BLAS.
///
/// They are the oracle the tests check the BLAS path against, and the baseline
/// the benchmarks measure it against, so they are kept deliberately plain: the
/// triple loop `for i, for j, for p: c[i,j] += a[i,p]·b[p,j]` over the
/// column-major buffers, one form per transpose combination, no blocking, no
/// unrolling, no SIMD by hand. They do use unsafe buffers and wrapping index
/// arithmetic, as any performance-minded loop in Swift would (otherwise the
/// bounds and overflow checks, not the arithmetic, dominate).
public enum Naive {
  /// `C = alpha·op(A)·op(B) + beta·C` by the triple loop, same contract as ``gemm(alpha:_:_:transposeA:transposeB:beta:into:kernel:)``.
  @inlinable
  public static func gemm<A: MatrixOperand, B: MatrixOperand>(
    alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
    beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>
  ) where B.Scalar == A.Scalar {
    let opA = Transpose(transposeA)
    let opB = Transpose(transposeB)
    let (m, n, k) = _productShape("Naive.gemm", a, opA, b, opB, output: c.shape)
    let lda = a.rows
    let ldb = b.rows
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          for i in 0..<m {
            for j in 0..<n {
              var s: A.Scalar = 0
              switch (opA, opB) {
              case (.none, .none):
                for p in 0..<k { s += ap[i &+ p &* lda] * bp[p &+ j &* ldb] }
              case (.transposed, .none):
                for p in 0..<k { s += ap[p &+ i &* lda] * bp[p &+ j &* ldb] }
              case (.none, .transposed):
                for p in 0..<k { s += ap[i &+ p &* lda] * bp[j &+ p &* ldb] }
              case (.transposed, .transposed):
                for p in 0..<k { s += ap[p &+ i &* lda] * bp[j &+ p &* ldb] }
              }
              let idx = i &+ j &* m
              cp[idx] = beta == 0 ? alpha * s : alpha * s + beta * cp[idx]
            }
          }
        }
      }
    }
  }

  /// `op(A)·op(B)` in a new matrix, by the triple loop.
  @inlinable
  public static func matmul<A: MatrixOperand, B: MatrixOperand>(
    _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false
  ) -> Matrix<A.Scalar> where B.Scalar == A.Scalar {
    let opA = Transpose(transposeA)
    let opB = Transpose(transposeB)
    var c = Matrix<A.Scalar>.zeros(a._opShape(opA).rows, b._opShape(opB).columns)
    gemm(a, b, transposeA: transposeA, transposeB: transposeB, into: &c)
    return c
  }

  /// `Σ xᵢ·yᵢ` by a plain loop.
  @inlinable
  public static func dot<S>(_ x: Matrix<S>, _ y: Matrix<S>) -> S {
    if x.count != y.count || (x.rows != 1 && x.columns != 1) || (y.rows != 1 && y.columns != 1) {
      shapeFailure("Naive.dot: both operands must be vectors of the same length; x is \(x.shape), y is \(y.shape)")
    }
    var s: S = 0
    for i in 0..<x.count { s += x.elements[i] * y.elements[i] }
    return s
  }
}
