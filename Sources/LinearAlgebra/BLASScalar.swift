import COrderedProducts

#if BLIS && !OpenBLAS
  import CBLIS
#else
  import COpenBLAS
#endif

#if XSMM
  import CXSMM
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whether BLAS should read an operand as it is stored or as its transpose.
///
/// Products take this flag instead of an explicitly transposed copy: BLAS reads
/// the same memory either way, so `op(A) = Aᵀ` costs nothing extra.
public enum Transpose: Sendable, Equatable {
  /// Use the operand as stored.
  case none
  /// Use the transpose of the operand.
  case transposed

  /// `.transposed` when `transposed` is true, `.none` otherwise.
  @inlinable
  public init(_ transposed: Bool) {
    self = transposed ? .transposed : .none
  }

  @inlinable
  var cblas: CBLAS_TRANSPOSE {
    self == .none ? CblasNoTrans : CblasTrans
  }
}

/// A floating-point type that BLAS and LAPACK can work on: `Float` (the `s`
/// routines) or `Double` (the `d` routines).
///
/// Every static entry point forwards to exactly one C routine and is
/// `@inlinable`, so that generic code built with `-O` specialises down to the
/// direct C call. All pointers are column-major; leading dimensions are given
/// explicitly. The elementary functions (`exp`, `log`, ...) are here so that the
/// network code can stay generic without a dependency on swift-numerics.
public protocol BLASScalar: BinaryFloatingPoint, SIMDScalar, Sendable, CustomStringConvertible, Codable
where RawSignificand: FixedWidthInteger {
  /// `C = alpha·op(A)·op(B) + beta·C` (column-major `?gemm`).
  static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int32, n: Int32, k: Int32,
    alpha: Self, a: UnsafePointer<Self>, lda: Int32,
    b: UnsafePointer<Self>, ldb: Int32,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int32)
  /// `y = alpha·op(A)·x + beta·y` (column-major `?gemv`).
  static func gemv(
    _ trans: Transpose, m: Int32, n: Int32, alpha: Self, a: UnsafePointer<Self>, lda: Int32,
    x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
  /// `Σ xᵢ·yᵢ` over `n` contiguous elements (`?dot`).
  static func dot(n: Int32, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self
  /// `y += alpha·x` over `n` contiguous elements (`?axpy`).
  static func axpy(n: Int32, alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)

  /// LAPACKE `?geqrf`: Householder QR of an m×n column-major matrix in place.
  static func geqrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, tau: UnsafeMutablePointer<Self>)
    -> Int32
  /// LAPACKE `?orgqr`: forms the m×n matrix Q from `geqrf`'s reflectors in place.
  static func orgqr(
    m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, tau: UnsafePointer<Self>
  ) -> Int32
  /// LAPACKE `?gesv`: solves A·X = B by LU with partial pivoting; B is overwritten by X.
  static func gesv(
    n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, ipiv: UnsafeMutablePointer<Int32>,
    b: UnsafeMutablePointer<Self>, ldb: Int32
  ) -> Int32
  /// LAPACKE `?gels`: least squares min ‖A·X − B‖ by QR; the first n rows of B become X.
  static func gels(
    m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
    b: UnsafeMutablePointer<Self>, ldb: Int32
  ) -> Int32

  /// LAPACKE `?gesdd`: SVD by divide and conquer; `jobz` is `A`, `S` or `N` (U and Vᵀ may be nil for `N`).
  static func gesdd(
    jobz: UInt8, m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, s: UnsafeMutablePointer<Self>,
    u: UnsafeMutablePointer<Self>?, ldu: Int32, vt: UnsafeMutablePointer<Self>?, ldvt: Int32
  ) -> Int32
  /// LAPACKE `?gesvd`: SVD by QR iteration; `job` (for U and Vᵀ alike) is `A`, `S` or `N`.
  static func gesvd(
    job: UInt8, m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, s: UnsafeMutablePointer<Self>,
    u: UnsafeMutablePointer<Self>?, ldu: Int32, vt: UnsafeMutablePointer<Self>?, ldvt: Int32,
    superb: UnsafeMutablePointer<Self>
  ) -> Int32
  /// LAPACKE `?syevd` on the lower triangle: eigenvalues ascending in `w`, eigenvectors in `a` for `jobz` = `V`.
  static func syevd(jobz: UInt8, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, w: UnsafeMutablePointer<Self>)
    -> Int32
  /// LAPACKE `?potrf`: the Cholesky factor L (lower triangle) in place.
  static func potrf(n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32) -> Int32
  /// LAPACKE `?potrs`: solves A·X = B from the lower Cholesky factor of A; B is overwritten by X.
  static func potrs(
    n: Int32, nrhs: Int32, a: UnsafePointer<Self>, lda: Int32, b: UnsafeMutablePointer<Self>, ldb: Int32
  ) -> Int32
  /// LAPACKE `?getrf`: LU with partial pivoting in place; `ipiv` is 1-based.
  static func getrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, ipiv: UnsafeMutablePointer<Int32>)
    -> Int32
  /// LAPACKE `?getri`: the inverse from `getrf`'s factors, in place.
  static func getri(n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32, ipiv: UnsafePointer<Int32>) -> Int32

  /// `g[i] = z[i] > 0 ? g[i] : 0` for `i` in `0..<count`, exactly (NaN in z
  /// counts as not positive), as a branch-free bit mask so that it vectorises.
  static func keepWherePositive(_ g: UnsafeMutablePointer<Self>, _ z: UnsafePointer<Self>, count: Int)

  /// Each lane of `v` that is ≤ 0 becomes `slope · v` (exactly 0 for slope 0);
  /// positive lanes and NaN stay as they are, so NaN is never turned into a
  /// valid number: ReLU for slope 0, leaky ReLU otherwise. A requirement
  /// with concrete implementations because generic SIMD comparisons do not
  /// compile to vector instructions (measured 30× slower than `SIMD8<Float>`'s).
  static func positivePart(_ v: SIMD8<Self>, slope: Self) -> SIMD8<Self>

  /// eˣ
  static func exp(_ x: Self) -> Self
  /// Natural logarithm.
  static func log(_ x: Self) -> Self
  /// ln(1 + x), accurate for small x.
  static func log1p(_ x: Self) -> Self
  /// Hyperbolic tangent.
  static func tanh(_ x: Self) -> Self

  /// libxsmm's kernel for `C (m×n, ldc) = op(A)·op(B)` (`+ C` when
  /// `accumulate`), made or found by libxsmm; nil when it makes none or the
  /// package was built without the XSMM trait. For ``SmallProducts``.
  static func _smallProductKernel(
    m: Int32, n: Int32, k: Int32, lda: Int32, ldb: Int32, ldc: Int32, transposeA: Bool, transposeB: Bool,
    accumulate: Bool
  ) -> UnsafeRawPointer?
  /// Runs a kernel from ``_smallProductKernel(m:n:k:lda:ldb:ldc:transposeA:transposeB:accumulate:)``.
  static func _runSmallProductKernel(
    _ kernel: UnsafeRawPointer, a: UnsafePointer<Self>, b: UnsafePointer<Self>, c: UnsafeMutablePointer<Self>)
  /// `C = A·B` (column-major, no transposes) summed in the fixed order of
  /// ``OrderedProducts``, with `variant`'s instructions.
  static func _orderedProduct(
    _ variant: OrderedProducts.Variant, m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int,
    b: UnsafePointer<Self>, ldb: Int, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: BLASScalar {
  @inlinable @inline(__always)
  public static func _orderedProduct(
    _ variant: OrderedProducts.Variant, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    blasnet_ordered_sgemm(Int32(variant.rawValue), m, n, k, a, lda, b, ldb, c, ldc)
  }

  public static func _smallProductKernel(
    m: Int32, n: Int32, k: Int32, lda: Int32, ldb: Int32, ldc: Int32, transposeA: Bool, transposeB: Bool,
    accumulate: Bool
  ) -> UnsafeRawPointer? {
    #if XSMM
      blasnet_xsmm_kernel_f32(m, n, k, lda, ldb, ldc, transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0)
    #else
      nil
    #endif
  }

  @inlinable @inline(__always)
  public static func _runSmallProductKernel(
    _ kernel: UnsafeRawPointer, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
  ) {
    #if XSMM
      blasnet_xsmm_call_f32(kernel, a, b, c)
    #else
      fatalError("BLASNet was built without libxsmm (the XSMM trait): no small-product kernel to run")
    #endif
  }

  @inlinable @inline(__always)
  public static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int32, n: Int32, k: Int32,
    alpha: Float, a: UnsafePointer<Float>, lda: Int32, b: UnsafePointer<Float>, ldb: Int32,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int32
  ) {
    #if BLIS && !OpenBLAS
      _ = _Backend.ready
    #endif
    cblas_sgemm(CblasColMajor, transA.cblas, transB.cblas, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }

  @inlinable @inline(__always)
  public static func gemv(
    _ trans: Transpose, m: Int32, n: Int32, alpha: Float, a: UnsafePointer<Float>, lda: Int32,
    x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
  ) {
    #if BLIS && !OpenBLAS
      _ = _Backend.ready
    #endif
    cblas_sgemv(CblasColMajor, trans.cblas, m, n, alpha, a, lda, x, 1, beta, y, 1)
  }

  @inlinable @inline(__always)
  public static func dot(n: Int32, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(n, x, 1, y, 1)
  }

  @inlinable @inline(__always)
  public static func axpy(n: Int32, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    cblas_saxpy(n, alpha, x, 1, y, 1)
  }

  @inlinable
  public static func geqrf(
    m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, tau: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_sgeqrf(LAPACK_COL_MAJOR, m, n, a, lda, tau)
  }

  @inlinable
  public static func orgqr(
    m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, tau: UnsafePointer<Float>
  ) -> Int32 {
    LAPACKE_sorgqr(LAPACK_COL_MAJOR, m, n, k, a, lda, tau)
  }

  @inlinable
  public static func gesv(
    n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, ipiv: UnsafeMutablePointer<Int32>,
    b: UnsafeMutablePointer<Float>, ldb: Int32
  ) -> Int32 {
    LAPACKE_sgesv(LAPACK_COL_MAJOR, n, nrhs, a, lda, ipiv, b, ldb)
  }

  @inlinable
  public static func gels(
    m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
    b: UnsafeMutablePointer<Float>, ldb: Int32
  ) -> Int32 {
    LAPACKE_sgels(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), m, n, nrhs, a, lda, b, ldb)
  }

  @inlinable
  public static func gesdd(
    jobz: UInt8, m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, s: UnsafeMutablePointer<Float>,
    u: UnsafeMutablePointer<Float>?, ldu: Int32, vt: UnsafeMutablePointer<Float>?, ldvt: Int32
  ) -> Int32 {
    LAPACKE_sgesdd(LAPACK_COL_MAJOR, CChar(jobz), m, n, a, lda, s, u, ldu, vt, ldvt)
  }

  @inlinable
  public static func gesvd(
    job: UInt8, m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, s: UnsafeMutablePointer<Float>,
    u: UnsafeMutablePointer<Float>?, ldu: Int32, vt: UnsafeMutablePointer<Float>?, ldvt: Int32,
    superb: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_sgesvd(LAPACK_COL_MAJOR, CChar(job), CChar(job), m, n, a, lda, s, u, ldu, vt, ldvt, superb)
  }

  @inlinable
  public static func syevd(
    jobz: UInt8, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, w: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_ssyevd(LAPACK_COL_MAJOR, CChar(jobz), CChar(UInt8(ascii: "L")), n, a, lda, w)
  }

  @inlinable
  public static func potrf(n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32) -> Int32 {
    LAPACKE_spotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), n, a, lda)
  }

  @inlinable
  public static func potrs(
    n: Int32, nrhs: Int32, a: UnsafePointer<Float>, lda: Int32, b: UnsafeMutablePointer<Float>, ldb: Int32
  ) -> Int32 {
    LAPACKE_spotrs(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), n, nrhs, a, lda, b, ldb)
  }

  @inlinable
  public static func getrf(
    m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32 {
    LAPACKE_sgetrf(LAPACK_COL_MAJOR, m, n, a, lda, ipiv)
  }

  @inlinable
  public static func getri(n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32, ipiv: UnsafePointer<Int32>) -> Int32 {
    LAPACKE_sgetri(LAPACK_COL_MAJOR, n, a, lda, ipiv)
  }

  @inlinable @inline(__always)
  public static func positivePart(_ v: SIMD8<Float>, slope: Float) -> SIMD8<Float> {
    v.replacing(with: slope == 0 ? .zero : v * slope, where: v .<= 0)
  }

  @inlinable
  public static func keepWherePositive(_ g: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, count: Int) {
    // Whole vectors first: g and z may overlap as far as the compiler knows,
    // so the plain loop below ran one element at a time (a ninth of a wdbc step).
    let lanes = SIMD16<Float>.scalarCount
    let (graw, zraw) = (UnsafeMutableRawPointer(g), UnsafeRawPointer(z))
    var start = 0
    while start &+ lanes <= count {
      let offset = start &* MemoryLayout<Float>.stride
      let zv = zraw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
      let gv = graw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
      graw.storeBytes(of: gv.replacing(with: 0, where: .!(zv .> 0)), toByteOffset: offset, as: SIMD16<Float>.self)
      start &+= lanes
    }
    for i in start..<count {
      let mask: UInt32 = z[i] > 0 ? ~0 : 0
      g[i] = Float(bitPattern: g[i].bitPattern & mask)
    }
  }

  @inlinable @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
  @inlinable @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
  @inlinable @inline(__always) public static func log1p(_ x: Float) -> Float { log1pf(x) }
  @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
}

extension Double: BLASScalar {
  @inlinable @inline(__always)
  public static func _orderedProduct(
    _ variant: OrderedProducts.Variant, m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
    b: UnsafePointer<Double>, ldb: Int, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    blasnet_ordered_dgemm(Int32(variant.rawValue), m, n, k, a, lda, b, ldb, c, ldc)
  }

  public static func _smallProductKernel(
    m: Int32, n: Int32, k: Int32, lda: Int32, ldb: Int32, ldc: Int32, transposeA: Bool, transposeB: Bool,
    accumulate: Bool
  ) -> UnsafeRawPointer? {
    #if XSMM
      blasnet_xsmm_kernel_f64(m, n, k, lda, ldb, ldc, transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0)
    #else
      nil
    #endif
  }

  @inlinable @inline(__always)
  public static func _runSmallProductKernel(
    _ kernel: UnsafeRawPointer, a: UnsafePointer<Double>, b: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>
  ) {
    #if XSMM
      blasnet_xsmm_call_f64(kernel, a, b, c)
    #else
      fatalError("BLASNet was built without libxsmm (the XSMM trait): no small-product kernel to run")
    #endif
  }

  @inlinable @inline(__always)
  public static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int32, n: Int32, k: Int32,
    alpha: Double, a: UnsafePointer<Double>, lda: Int32, b: UnsafePointer<Double>, ldb: Int32,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int32
  ) {
    #if BLIS && !OpenBLAS
      _ = _Backend.ready
    #endif
    cblas_dgemm(CblasColMajor, transA.cblas, transB.cblas, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }

  @inlinable @inline(__always)
  public static func gemv(
    _ trans: Transpose, m: Int32, n: Int32, alpha: Double, a: UnsafePointer<Double>, lda: Int32,
    x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
  ) {
    #if BLIS && !OpenBLAS
      _ = _Backend.ready
    #endif
    cblas_dgemv(CblasColMajor, trans.cblas, m, n, alpha, a, lda, x, 1, beta, y, 1)
  }

  @inlinable @inline(__always)
  public static func dot(n: Int32, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
    cblas_ddot(n, x, 1, y, 1)
  }

  @inlinable @inline(__always)
  public static func axpy(n: Int32, alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    cblas_daxpy(n, alpha, x, 1, y, 1)
  }

  @inlinable
  public static func geqrf(
    m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, tau: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m, n, a, lda, tau)
  }

  @inlinable
  public static func orgqr(
    m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, tau: UnsafePointer<Double>
  ) -> Int32 {
    LAPACKE_dorgqr(LAPACK_COL_MAJOR, m, n, k, a, lda, tau)
  }

  @inlinable
  public static func gesv(
    n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, ipiv: UnsafeMutablePointer<Int32>,
    b: UnsafeMutablePointer<Double>, ldb: Int32
  ) -> Int32 {
    LAPACKE_dgesv(LAPACK_COL_MAJOR, n, nrhs, a, lda, ipiv, b, ldb)
  }

  @inlinable
  public static func gels(
    m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
    b: UnsafeMutablePointer<Double>, ldb: Int32
  ) -> Int32 {
    LAPACKE_dgels(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), m, n, nrhs, a, lda, b, ldb)
  }

  @inlinable
  public static func gesdd(
    jobz: UInt8, m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, s: UnsafeMutablePointer<Double>,
    u: UnsafeMutablePointer<Double>?, ldu: Int32, vt: UnsafeMutablePointer<Double>?, ldvt: Int32
  ) -> Int32 {
    LAPACKE_dgesdd(LAPACK_COL_MAJOR, CChar(jobz), m, n, a, lda, s, u, ldu, vt, ldvt)
  }

  @inlinable
  public static func gesvd(
    job: UInt8, m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, s: UnsafeMutablePointer<Double>,
    u: UnsafeMutablePointer<Double>?, ldu: Int32, vt: UnsafeMutablePointer<Double>?, ldvt: Int32,
    superb: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dgesvd(LAPACK_COL_MAJOR, CChar(job), CChar(job), m, n, a, lda, s, u, ldu, vt, ldvt, superb)
  }

  @inlinable
  public static func syevd(
    jobz: UInt8, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, w: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dsyevd(LAPACK_COL_MAJOR, CChar(jobz), CChar(UInt8(ascii: "L")), n, a, lda, w)
  }

  @inlinable
  public static func potrf(n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32) -> Int32 {
    LAPACKE_dpotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), n, a, lda)
  }

  @inlinable
  public static func potrs(
    n: Int32, nrhs: Int32, a: UnsafePointer<Double>, lda: Int32, b: UnsafeMutablePointer<Double>, ldb: Int32
  ) -> Int32 {
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), n, nrhs, a, lda, b, ldb)
  }

  @inlinable
  public static func getrf(
    m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, ipiv: UnsafeMutablePointer<Int32>
  ) -> Int32 {
    LAPACKE_dgetrf(LAPACK_COL_MAJOR, m, n, a, lda, ipiv)
  }

  @inlinable
  public static func getri(n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32, ipiv: UnsafePointer<Int32>) -> Int32 {
    LAPACKE_dgetri(LAPACK_COL_MAJOR, n, a, lda, ipiv)
  }

  @inlinable @inline(__always)
  public static func positivePart(_ v: SIMD8<Double>, slope: Double) -> SIMD8<Double> {
    v.replacing(with: slope == 0 ? .zero : v * slope, where: v .<= 0)
  }

  @inlinable
  public static func keepWherePositive(_ g: UnsafeMutablePointer<Double>, _ z: UnsafePointer<Double>, count: Int) {
    // Whole vectors first: g and z may overlap as far as the compiler knows,
    // so the plain loop below ran one element at a time (a ninth of a wdbc step).
    let lanes = SIMD8<Double>.scalarCount
    let (graw, zraw) = (UnsafeMutableRawPointer(g), UnsafeRawPointer(z))
    var start = 0
    while start &+ lanes <= count {
      let offset = start &* MemoryLayout<Double>.stride
      let zv = zraw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Double>.self)
      let gv = graw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Double>.self)
      graw.storeBytes(of: gv.replacing(with: 0, where: .!(zv .> 0)), toByteOffset: offset, as: SIMD8<Double>.self)
      start &+= lanes
    }
    for i in start..<count {
      let mask: UInt64 = z[i] > 0 ? ~0 : 0
      g[i] = Double(bitPattern: g[i].bitPattern & mask)
    }
  }

  @inlinable @inline(__always) public static func exp(_ x: Double) -> Double { _cExp(x) }
  @inlinable @inline(__always) public static func log(_ x: Double) -> Double { _cLog(x) }
  @inlinable @inline(__always) public static func log1p(_ x: Double) -> Double { _cLog1p(x) }
  @inlinable @inline(__always) public static func tanh(_ x: Double) -> Double { _cTanh(x) }
}

// The C library's double-precision functions under names that the static
// members above do not shadow; unqualified, so the same code builds against
// Glibc and Darwin.
@inlinable @inline(__always) func _cExp(_ x: Double) -> Double { exp(x) }
@inlinable @inline(__always) func _cLog(_ x: Double) -> Double { log(x) }
@inlinable @inline(__always) func _cLog1p(_ x: Double) -> Double { log1p(x) }
@inlinable @inline(__always) func _cTanh(_ x: Double) -> Double { tanh(x) }
