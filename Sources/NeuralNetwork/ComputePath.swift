import LinearAlgebra

/// Which kernels compute the products of a layer or a training step.
public enum ComputePath: String, Sendable, Codable {
  /// OpenBLAS `?gemm` (the default).
  case blas
  /// The textbook loops of `Naive`: same step, same numbers up to rounding, no BLAS.
  case naive
}

/// The one place that decides how a product of the network runs.
///
/// Not public API: layers take a ``ComputePath`` and a flag; the trainer and
/// the benchmark kit call this with the options they were given.
@usableFromInline
package enum ProductDispatch {
  /// Whether a BLAS-path product with a `rows × columns` result and inner
  /// dimension `inner` is split across cores by `gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)`:
  /// at most 64 rows and at least 2·10⁶ multiply-adds. OpenBLAS 0.3.21 runs
  /// such skinny products on one core; below that size the threads cost more
  /// than they save. Never with the BLIS backend, whose own threads do better
  /// (cat, 2 threads: 2.0–2.5 ms per iteration unsplit against 3.6–3.9 split;
  /// on OpenBLAS 1.9–2.0 split against 2.8–3.3 unsplit).
  @inlinable
  package static func splits(rows: Int, columns: Int, inner: Int) -> Bool {
    #if BLIS && !OpenBLAS
      false
    #else
      rows <= 64 && rows * columns * inner >= 2_000_000
    #endif
  }

  /// `C = alpha·op(A)·op(B) + beta·C` on `path`; large skinny BLAS products are
  /// split across cores when `splitSkinnyProducts` is set.
  @inlinable @inline(__always)
  package static func product<A: MatrixOperand, B: MatrixOperand>(
    alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
    beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>, path: ComputePath, splitSkinnyProducts: Bool
  ) where B.Scalar == A.Scalar {
    switch path {
    case .blas
    where splitSkinnyProducts && splits(rows: c.rows, columns: c.columns, inner: transposeA ? a.rows : a.columns):
      gemmSplittingColumns(
        alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    case .blas:
      gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    case .naive:
      Naive.gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    }
  }
}
