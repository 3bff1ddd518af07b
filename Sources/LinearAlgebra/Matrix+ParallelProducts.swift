import Dispatch

#if BLIS && !OpenBLAS
  import CBLIS
#else
  import COpenBLAS
#endif

/// `C = alpha·op(A)·op(B) + beta·C` with the columns of C split into one part
/// per OpenBLAS thread, each part computed concurrently by a single-threaded
/// BLAS call.
///
/// Same contract and shape checks as ``gemm(alpha:_:_:transposeA:transposeB:beta:into:kernel:)``.
/// It exists for skinny products — few rows in C, a long inner or column
/// dimension, such as `W1·X` of a 20-unit layer on 12 288 inputs — which
/// OpenBLAS 0.3.21 runs at one core's speed even with two threads. Measured
/// on a 2-core machine, a 20×209×12288 product went from 62–70 to about
/// 100 GFLOP/s. For square or wide products plain ``gemm(alpha:_:_:transposeA:transposeB:beta:into:kernel:)``
/// is as fast or faster.
///
/// While it runs, OpenBLAS's thread count is set to 1 and then restored: that
/// setting is process-wide, so a BLAS call made meanwhile from another thread
/// also runs single-threaded. Concurrent callers are safe: the count is
/// restored when the last of them is done, and ``BLAS/threadCount``
/// reports (and sets) the configured count throughout. Results equal those of `gemm` up to rounding
/// (each element is computed by the same kind of kernel, on the same data).
@inlinable
public func gemmSplittingColumns<A: MatrixOperand, B: MatrixOperand>(
  alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
  beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>
) where B.Scalar == A.Scalar {
  let opA = Transpose(transposeA)
  let opB = Transpose(transposeB)
  let (m, n, k) = _productShape("gemmSplittingColumns", a, opA, b, opB, output: c.shape)
  let parts = Swift.min(BLAS.threadCount, n)
  if parts < 2 || m == 0 || k == 0 {
    gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    return
  }
  let lda = _blasInt(a.rows, "gemmSplittingColumns")
  let ldb = _blasInt(b.rows, "gemmSplittingColumns")
  let m32 = _blasInt(m, "gemmSplittingColumns")
  let k32 = _blasInt(k, "gemmSplittingColumns")
  _SingleThreadedSections.enter()
  defer { _SingleThreadedSections.leave() }
  a.withUnsafeBufferPointer { ap in
    b.withUnsafeBufferPointer { bp in
      c.withUnsafeMutableBufferPointer { cp in
        // The parts touch disjoint columns of C and only read A and B.
        nonisolated(unsafe) let (pa, pb, pc) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
          let first = n * part / parts
          let count = n * (part + 1) / parts - first
          // Columns `first...` of op(B): columns of B, or rows of B when transposed.
          let bStart = transposeB ? pb + first : pb + first * Int(ldb)
          A.Scalar.gemm(
            opA, opB, m: m32, n: Int32(count), k: k32, alpha: alpha, a: pa, lda: lda, b: bStart, ldb: ldb,
            beta: beta, c: pc + first * m, ldc: m32)
        }
      }
    }
  }
}

/// Whether a product of this shape is faster with its columns split over the
/// cores (``gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)``)
/// than as one BLAS call on BLAS's own threads: measured on the first product
/// of a shape (both layouts in turn, on these operands into a scratch output,
/// the fastest of five rounds each) and kept, with the small-product choices, in
/// ``SmallProducts/calibrationFile``. False with one BLAS thread. The two
/// layouts give the same numbers: every element is summed by the same kind of
/// kernel in the same order.
public func prefersSplittingColumns<A: MatrixOperand, B: MatrixOperand>(
  _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false
) -> Bool where B.Scalar == A.Scalar {
  let (m, n, k) = _productShape("prefersSplittingColumns", a, Transpose(transposeA), b, Transpose(transposeB))
  if BLAS.threadCount < 2 || m == 0 || n < 2 || k == 0 { return false }
  let shape = ProductShape(
    double: A.Scalar.self == Double.self, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k)
  return SmallProducts.splitDecision(shape) {
    var c = Matrix<A.Scalar>.zeros(m, n)
    return SmallProducts.fastestAlternated(
      { gemm(a, b, transposeA: transposeA, transposeB: transposeB, into: &c, kernel: .blas) },
      { gemmSplittingColumns(a, b, transposeA: transposeA, transposeB: transposeB, into: &c) }, rounds: 5)
  }
}
