import LinearAlgebra

/// Which kernels compute the products of a layer or a training step.
public enum ComputePath: String, Sendable, Codable {
  /// The library's kernels (the default): BLAS `?gemm`, and libxsmm for a
  /// small product where it measured faster on this machine (`SmallProducts`
  /// in LinearAlgebra), each product's bias and activation (or activation
  /// derivative) applied as its output is produced.
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
  /// dimension `inner` is a candidate for splitting across cores by
  /// `gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)`: at most
  /// 64 rows and at least 2·10⁶ multiply-adds. Whether a candidate is split
  /// is measured on the machine, once per shape (`prefersSplittingColumns`):
  /// OpenBLAS 0.3.21 runs such skinny products on one core and splitting
  /// them won (cat, 2 threads: 1.9–2.0 ms per iteration split against 2.8–3.3
  /// unsplit), while BLIS's own threads did better unsplit (2.0–2.5 against
  /// 3.6–3.9). Below that size the threads cost more than they save.
  @inlinable
  package static func splits(rows: Int, columns: Int, inner: Int) -> Bool {
    rows <= 64 && rows * columns * inner >= 2_000_000
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
    where splitSkinnyProducts && splits(rows: c.rows, columns: c.columns, inner: transposeA ? a.rows : a.columns)
      && prefersSplittingColumns(a, b, transposeA: transposeA, transposeB: transposeB):
      gemmSplittingColumns(
        alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    case .blas:
      gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    case .naive:
      Naive.gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    }
  }

  /// As ``product(alpha:_:_:transposeA:transposeB:beta:into:path:splitSkinnyProducts:)``,
  /// then `epilogue` on the output: block by block as the product produces
  /// them (LinearAlgebra's fused `gemm`), or once on all of it after a split
  /// or naive product.
  @inlinable @inline(__always)
  package static func product<A: MatrixOperand, B: MatrixOperand, E: ProductEpilogue>(
    alpha: A.Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
    beta: A.Scalar = 0, into c: inout Matrix<A.Scalar>, epilogue: E, path: ComputePath, splitSkinnyProducts: Bool
  ) where B.Scalar == A.Scalar, E.Scalar == A.Scalar {
    let split =
      path == .blas && splitSkinnyProducts
      && splits(rows: c.rows, columns: c.columns, inner: transposeA ? a.rows : a.columns)
      && prefersSplittingColumns(a, b, transposeA: transposeA, transposeB: transposeB)
    switch path {
    case .blas where !split:
      gemm(
        alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c, epilogue: epilogue)
      return
    case .blas:
      gemmSplittingColumns(
        alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    case .naive:
      Naive.gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: beta, into: &c)
    }
    let (rows, columns) = (c.rows, c.columns)
    c.withUnsafeMutableBufferPointer { cp in
      if let base = cp.baseAddress { epilogue.finish(base, rows: rows, firstColumn: 0, columns: columns) }
    }
  }
}

/// The forward epilogue of a dense layer: each block of Z = W·A_prev gains the
/// bias, and the same columns of A receive g(Z).
@usableFromInline
struct _BiasAndActivation<Scalar: BLASScalar>: ProductEpilogue {
  @usableFromInline let function: any ActivationFunction
  @usableFromInline let bias: UnsafeBufferPointer<Scalar>
  @usableFromInline let a: UnsafeMutablePointer<Scalar>

  @inlinable
  init(function: any ActivationFunction, bias: UnsafeBufferPointer<Scalar>, a: UnsafeMutablePointer<Scalar>) {
    self.function = function
    self.bias = bias
    self.a = a
  }

  @inlinable
  func finish(_ block: UnsafeMutablePointer<Scalar>, rows: Int, firstColumn: Int, columns: Int) {
    let count = rows &* columns
    function.biasAndActivate(
      z: UnsafeMutableBufferPointer(start: block, count: count), bias: bias,
      a: UnsafeMutableBufferPointer(start: a + firstColumn &* rows, count: count), rows: rows, columns: columns)
  }
}

/// The backward epilogue below a dense layer: each block of dA_prev = Wᵀ·dZ is
/// multiplied by the dropout mask (when there is one) and then by g'(Z_prev)
/// of the layer below, becoming that layer's dZ.
@usableFromInline
struct _ActivationDerivative<Scalar: BLASScalar>: ProductEpilogue {
  @usableFromInline let function: any ActivationFunction
  @usableFromInline let z: UnsafePointer<Scalar>
  @usableFromInline let mask: UnsafePointer<Scalar>?

  @inlinable
  init(function: any ActivationFunction, z: UnsafePointer<Scalar>, mask: UnsafePointer<Scalar>?) {
    self.function = function
    self.z = z
    self.mask = mask
  }

  @inlinable
  func finish(_ block: UnsafeMutablePointer<Scalar>, rows: Int, firstColumn: Int, columns: Int) {
    let count = rows &* columns
    let offset = firstColumn &* rows
    if let mask {
      for i in 0..<count { block[i] *= mask[offset &+ i] }
    }
    function.backward(
      UnsafeMutableBufferPointer(start: block, count: count), z: UnsafeBufferPointer(start: z + offset, count: count),
      rows: rows)
  }
}
