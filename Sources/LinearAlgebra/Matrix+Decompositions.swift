// Decompositions and what is built on them, through LAPACKE. Every routine
// works on a copy (self is never changed), checks its shapes with the
// message-keeping helper (a programmer error traps) and throws a
// `LinearAlgebraError` for what depends on the values (not positive definite,
// singular, no convergence, NaN or ∞ in the input).

/// `A = U·diag(σ)·Vᵀ`: see ``Matrix/svd(full:)``.
public struct SingularValueDecomposition<Scalar: BLASScalar>: Equatable, Sendable {
  /// m×k (thin) or m×m (full), orthonormal columns.
  public var u: Matrix<Scalar>
  /// The k = min(m, n) singular values, descending, ≥ 0.
  public var singularValues: [Scalar]
  /// k×n (thin) or n×n (full), orthonormal rows.
  public var vt: Matrix<Scalar>

  /// `U·diag(σ)·Vᵀ` from the first k columns of U and rows of Vᵀ: A again, up to rounding.
  public var reconstructed: Matrix<Scalar> {
    let k = singularValues.count
    var scaled = u.submatrix(rows: 0..<u.rows, columns: 0..<k)
    scaled.withUnsafeMutableBufferPointer { p in
      for (j, s) in singularValues.enumerated() { for i in 0..<u.rows { p[i &+ j &* u.rows] *= s } }
    }
    return matmul(scaled, vt.rows(0..<k))
  }
}

/// `A·V = V·diag(λ)` for a symmetric A: see ``Matrix/symmetricEigen(symmetryTolerance:)``.
public struct SymmetricEigendecomposition<Scalar: BLASScalar>: Equatable, Sendable {
  /// The n eigenvalues, ascending.
  public var values: [Scalar]
  /// n×n, orthonormal; column j is the eigenvector of `values[j]`.
  public var vectors: Matrix<Scalar>
}

/// `A = P·L·U` with partial pivoting: see ``Matrix/lu()``.
public struct LUDecomposition<Scalar: BLASScalar>: Equatable, Sendable {
  /// m×k unit lower triangular (ones on the diagonal), k = min(m, n).
  public var l: Matrix<Scalar>
  /// k×n upper triangular.
  public var u: Matrix<Scalar>
  /// LAPACK's row interchanges, 0-based: for i = 0, 1, …, k−1 in turn, row i
  /// was swapped with row `pivots[i]` (≥ i).
  public var pivots: [Int]

  /// The m×m permutation P with `A = P·L·U`.
  public var permutation: Matrix<Scalar> {
    var order = Array(0..<l.rows)
    for (i, p) in pivots.enumerated() { order.swapAt(i, p) }
    var p = Matrix<Scalar>.zeros(l.rows, l.rows)
    for (r, original) in order.enumerated() { p[original, r] = 1 }
    return p
  }

  /// +1 or −1: the sign of the permutation (−1 to the number of actual swaps).
  public var permutationSign: Scalar {
    pivots.enumerated().reduce(1) { sign, e in e.element == e.offset ? sign : -sign }
  }
}

extension Matrix {
  func _checkSquare(_ operation: String) {
    if rows != columns { shapeFailure("\(operation): the matrix must be square; it is \(shape)") }
  }

  func _checkFinite(_ routine: String) throws(LinearAlgebraError) {
    if let k = elements.firstIndex(where: { !$0.isFinite }) {
      throw .nonFinite(routine: routine, row: k % Swift.max(rows, 1), column: k / Swift.max(rows, 1))
    }
  }

  // MARK: Singular values

  /// The singular value decomposition `A = U·diag(σ)·Vᵀ` (LAPACK `?gesdd`,
  /// divide and conquer; if it does not converge, `?gesvd`).
  ///
  /// With k = min(m, n): thin (default) gives U m×k and Vᵀ k×n; `full: true`
  /// gives U m×m and Vᵀ n×n (NumPy's `full_matrices=True`). σ is descending.
  /// Cost O(m·n·k). Not guaranteed: the signs of singular vectors (u and v
  /// may both flip) and, for repeated singular values, which basis of their
  /// subspace is returned.
  ///
  /// - Throws: ``LinearAlgebraError/nonFinite(routine:row:column:)`` for NaN
  ///   or ∞, ``LinearAlgebraError/noConvergence(routine:info:)`` if both
  ///   routines fail.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func svd(full: Bool = false) throws(LinearAlgebraError) -> SingularValueDecomposition<Scalar> {
    try _checkFinite("gesdd")
    let (m, n) = (rows, columns)
    let k = Swift.min(m, n)
    let uColumns = full ? m : k
    let vtRows = full ? n : k
    if k == 0 {
      return SingularValueDecomposition(
        u: full ? .identity(m) : .zeros(m, 0), singularValues: [], vt: full ? .identity(n) : .zeros(0, n))
    }
    var u = [Scalar](repeating: 0, count: m * uColumns)
    var vt = [Scalar](repeating: 0, count: vtRows * n)
    var s = [Scalar](repeating: 0, count: k)
    let job = full ? UInt8(ascii: "A") : UInt8(ascii: "S")
    try _singularValues(job: job, s: &s, u: &u, ldu: m, vt: &vt, ldvt: vtRows)
    return SingularValueDecomposition(
      u: Matrix(_unchecked: m, uColumns, elements: u), singularValues: s,
      vt: Matrix(_unchecked: vtRows, n, elements: vt))
  }

  /// The singular values alone, descending (`?gesdd` without vectors, about
  /// a third of the cost of ``svd(full:)``).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func singularValues() throws(LinearAlgebraError) -> [Scalar] {
    try _checkFinite("gesdd")
    let k = Swift.min(rows, columns)
    if k == 0 { return [] }
    var s = [Scalar](repeating: 0, count: k)
    var (noU, noVt): ([Scalar], [Scalar]) = ([], [])
    try _singularValues(job: UInt8(ascii: "N"), s: &s, u: &noU, ldu: 1, vt: &noVt, ldvt: 1)
    return s
  }

  /// `?gesdd`, then `?gesvd` on a fresh copy if the first does not converge.
  func _singularValues(
    job: UInt8, s: inout [Scalar], u: inout [Scalar], ldu: Int, vt: inout [Scalar], ldvt: Int
  ) throws(LinearAlgebraError) {
    let m = _blasInt(rows, "svd")
    let n = _blasInt(columns, "svd")
    let (ldu32, ldvt32) = (_blasInt(ldu, "svd"), _blasInt(ldvt, "svd"))
    let wantVectors = job != UInt8(ascii: "N")
    for routine in ["gesdd", "gesvd"] {
      var a = elements
      var superb = [Scalar](repeating: 0, count: Swift.max(1, Swift.min(rows, columns) - 1))
      let info = a.withUnsafeMutableBufferPointer { ap in
        s.withUnsafeMutableBufferPointer { sp in
          u.withUnsafeMutableBufferPointer { up in
            vt.withUnsafeMutableBufferPointer { vp in
              superb.withUnsafeMutableBufferPointer { wp in
                let (uu, vv) = wantVectors ? (up.baseAddress, vp.baseAddress) : (nil, nil)
                return routine == "gesdd"
                  ? Scalar.gesdd(
                    jobz: job, m: m, n: n, a: ap.baseAddress!, lda: m, s: sp.baseAddress!, u: uu, ldu: ldu32,
                    vt: vv, ldvt: ldvt32)
                  : Scalar.gesvd(
                    job: job, m: m, n: n, a: ap.baseAddress!, lda: m, s: sp.baseAddress!, u: uu, ldu: ldu32,
                    vt: vv, ldvt: ldvt32, superb: wp.baseAddress!)
              }
            }
          }
        }
      }
      if info == 0 { return }
      if info < 0 { throw .lapackFailure(routine: routine, info: Int(info)) }
      if routine == "gesvd" { throw .noConvergence(routine: routine, info: Int(info)) }
    }
  }

  /// The Moore–Penrose pseudo-inverse A⁺ (n×m) from the thin SVD:
  /// `V·diag(1/σ)·Uᵀ`, where singular values at or below
  /// `relativeCutoff · σ_max` count as zero. The default cutoff is
  /// `max(m, n)·ε` (ε the scalar's machine epsilon), NumPy's `pinv` default.
  /// A⁺ satisfies the four Penrose conditions up to rounding.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func pseudoInverse(relativeCutoff: Scalar? = nil) throws(LinearAlgebraError) -> Matrix {
    let d = try svd()
    let k = d.singularValues.count
    if k == 0 { return .zeros(columns, rows) }
    let cutoff = (relativeCutoff ?? Scalar(Swift.max(rows, columns)) * .ulpOfOne) * d.singularValues[0]
    // U with column j scaled by 1/σⱼ (0 past the cutoff), then Vᵀᵀ·(that)ᵀ.
    let inverses = d.singularValues.map { $0 > cutoff ? 1 / $0 : 0 }
    let scaled = Matrix(rows: rows, columns: k) { i, j in d.u[i, j] * inverses[j] }
    var out = Matrix.zeros(columns, rows)
    gemm(d.vt, scaled, transposeA: true, transposeB: true, into: &out)
    return out
  }

  /// The numerical rank: the number of singular values above `tolerance`,
  /// by default `σ_max·max(m, n)·ε` (NumPy's `matrix_rank` default).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func rank(tolerance: Scalar? = nil) throws(LinearAlgebraError) -> Int {
    let s = try singularValues()
    guard let top = s.first else { return 0 }
    let t = tolerance ?? top * Scalar(Swift.max(rows, columns)) * .ulpOfOne
    return s.filter { $0 > t }.count
  }

  /// The 2-norm condition number `σ_max / σ_min` (+∞ for a rank-deficient matrix).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func conditionNumber() throws(LinearAlgebraError) -> Scalar {
    let s = try singularValues()
    guard let top = s.first, let bottom = s.last else { return 0 }
    return bottom == 0 ? .infinity : top / bottom
  }

  // MARK: Symmetric eigenproblems

  /// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a symmetric matrix (LAPACK
  /// `?syevd`, divide and conquer, on the lower triangle). Cost O(n³).
  ///
  /// The eigenvalues come ascending and the eigenvectors (the columns of V)
  /// orthonormal. Not guaranteed: each eigenvector's sign, and the basis of
  /// the eigenspace of a repeated eigenvalue.
  ///
  /// - Parameter symmetryTolerance: the largest `|A(i, j) − A(j, i)|`
  ///   accepted; by default `4·max(n, 16)·ε·max|A|`, which lets through the
  ///   rounding of a product such as `B·Bᵀ`.
  /// - Throws: ``LinearAlgebraError/notSymmetric(row:column:difference:tolerance:)``,
  ///   ``LinearAlgebraError/nonFinite(routine:row:column:)``,
  ///   ``LinearAlgebraError/noConvergence(routine:info:)``.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func symmetricEigen(symmetryTolerance: Scalar? = nil) throws(LinearAlgebraError)
    -> SymmetricEigendecomposition<Scalar>
  {
    let (values, vectors) = try _syevd(wantVectors: true, symmetryTolerance)
    return SymmetricEigendecomposition(values: values, vectors: vectors)
  }

  /// The eigenvalues of a symmetric matrix alone, ascending (`?syevd` without vectors).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func symmetricEigenvalues(symmetryTolerance: Scalar? = nil) throws(LinearAlgebraError) -> [Scalar] {
    try _syevd(wantVectors: false, symmetryTolerance).0
  }

  func _syevd(wantVectors: Bool, _ tolerance: Scalar?) throws(LinearAlgebraError) -> ([Scalar], Matrix) {
    _checkSquare("symmetricEigen")
    try _checkFinite("syevd")
    let n = rows
    if n == 0 { return ([], .zeros(0, 0)) }
    let asymmetry: (row: Int, column: Int, difference: Scalar, tolerance: Scalar)? = withUnsafeBufferPointer { p in
      var largest: Scalar = 0
      for v in p { largest = Swift.max(largest, abs(v)) }
      let tol = tolerance ?? 4 * Scalar(Swift.max(n, 16)) * .ulpOfOne * largest
      for j in 0..<n {
        for i in (j &+ 1)..<Swift.max(n, j &+ 1) {
          let d = abs(p[i &+ j &* n] - p[j &+ i &* n])
          if d > tol { return (i, j, d, tol) }
        }
      }
      return nil
    }
    if let a = asymmetry {
      throw .notSymmetric(
        row: a.row, column: a.column, difference: Double(a.difference), tolerance: Double(a.tolerance))
    }
    var a = elements
    var w = [Scalar](repeating: 0, count: n)
    let n32 = _blasInt(n, "symmetricEigen")
    let info = a.withUnsafeMutableBufferPointer { ap in
      w.withUnsafeMutableBufferPointer { wp in
        Scalar.syevd(
          jobz: wantVectors ? UInt8(ascii: "V") : UInt8(ascii: "N"), n: n32, a: ap.baseAddress!, lda: n32,
          w: wp.baseAddress!)
      }
    }
    if info > 0 { throw .noConvergence(routine: "syevd", info: Int(info)) }
    if info < 0 { throw .lapackFailure(routine: "syevd", info: Int(info)) }
    return (w, wantVectors ? Matrix(_unchecked: n, n, elements: a) : .zeros(0, 0))
  }

  // MARK: Cholesky

  /// The Cholesky factor L of a symmetric positive definite matrix, `A = L·Lᵀ`
  /// with L lower triangular and a positive diagonal (LAPACK `?potrf`; reads
  /// only the lower triangle of A). Cost n³/3.
  ///
  /// - Throws: ``LinearAlgebraError/notPositiveDefinite(routine:minor:)``
  ///   naming the first leading minor that is not positive.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func cholesky() throws(LinearAlgebraError) -> Matrix {
    _checkSquare("cholesky")
    try _checkFinite("potrf")
    var l = self
    try l._potrf()
    let n = rows
    l.withUnsafeMutableBufferPointer { p in
      for j in 0..<n { for i in 0..<j { p[i &+ j &* n] = 0 } }
    }
    return l
  }

  mutating func _potrf() throws(LinearAlgebraError) {
    if rows == 0 { return }
    let n = _blasInt(rows, "cholesky")
    let info = withUnsafeMutableBufferPointer { p in Scalar.potrf(n: n, a: p.baseAddress!, lda: n) }
    if info > 0 { throw .notPositiveDefinite(routine: "potrf", minor: Int(info)) }
    if info < 0 { throw .lapackFailure(routine: "potrf", info: Int(info)) }
  }

  /// Solves `A·X = B` for a symmetric positive definite A (self) by its
  /// Cholesky factor (`?potrf` then `?potrs`): about half the cost of ``solve(_:)``.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func choleskySolve(_ b: Matrix) throws(LinearAlgebraError) -> Matrix {
    _checkSquare("choleskySolve")
    if b.rows != rows {
      shapeFailure("choleskySolve: B must have A's \(rows) rows; A is \(shape), B is \(b.shape)")
    }
    try _checkFinite("potrf")
    var l = self
    try l._potrf()
    return Matrix.solve(choleskyFactor: l, b)
  }

  /// Solves `A·X = B` given the lower Cholesky factor L of A (from
  /// ``cholesky()``), by two triangular solves (`?potrs`), so that one
  /// factorisation serves many right-hand sides.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public static func solve(choleskyFactor l: Matrix, _ b: Matrix) -> Matrix {
    l._checkSquare("solve(choleskyFactor:)")
    if b.rows != l.rows {
      shapeFailure("solve(choleskyFactor:): B must have L's \(l.rows) rows; L is \(l.shape), B is \(b.shape)")
    }
    if l.rows == 0 || b.columns == 0 { return .zeros(b.rows, b.columns) }
    let n = _blasInt(l.rows, "solve(choleskyFactor:)")
    let nrhs = _blasInt(b.columns, "solve(choleskyFactor:)")
    var x = b
    let info = l.withUnsafeBufferPointer { lp in
      x.withUnsafeMutableBufferPointer { xp in
        Scalar.potrs(n: n, nrhs: nrhs, a: lp.baseAddress!, lda: n, b: xp.baseAddress!, ldb: n)
      }
    }
    if info != 0 { shapeFailure("solve(choleskyFactor:): potrs rejected its arguments (info = \(info))") }
    return x
  }

  // MARK: LU, inverse, determinant

  /// The LU factorisation with partial pivoting, `A = P·L·U` (LAPACK
  /// `?getrf`), for any m×n A; a singular A factors too (U then has a zero on
  /// its diagonal). Cost about 2n³/3 for n×n.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func lu() -> LUDecomposition<Scalar> {
    let (a, pivots, _) = _getrf("lu")
    let (m, n) = (rows, columns)
    let k = Swift.min(m, n)
    let l = Matrix(rows: m, columns: k) { i, j in i == j ? 1 : (i > j ? a[i &+ j &* m] : 0) }
    let u = Matrix(rows: k, columns: n) { i, j in i <= j ? a[i &+ j &* m] : 0 }
    return LUDecomposition(l: l, u: u, pivots: pivots)
  }

  /// `?getrf` on a copy: the factors in LAPACK's packed form, 0-based pivots,
  /// and `info` (> 0: U(info, info) is exactly zero, 1-based).
  func _getrf(_ operation: String) -> (a: [Scalar], pivots: [Int], info: Int) {
    let k = Swift.min(rows, columns)
    if k == 0 { return (elements, [], 0) }
    let m = _blasInt(rows, operation)
    let n = _blasInt(columns, operation)
    var a = elements
    var ipiv = [Int32](repeating: 0, count: k)
    let info = a.withUnsafeMutableBufferPointer { ap in
      ipiv.withUnsafeMutableBufferPointer { pp in
        Scalar.getrf(m: m, n: n, a: ap.baseAddress!, lda: m, ipiv: pp.baseAddress!)
      }
    }
    if info < 0 { shapeFailure("\(operation): getrf rejected its arguments (info = \(info))") }
    return (a, ipiv.map { Int($0) - 1 }, Int(info))
  }

  /// The inverse A⁻¹ of a square matrix (LAPACK `?getrf` then `?getri`). Cost
  /// about 2n³. To solve a system, ``solve(_:)`` is cheaper and more accurate.
  ///
  /// - Throws: ``LinearAlgebraError/singular(routine:pivot:)`` for an exactly
  ///   singular matrix. A nearly singular one is inverted without a throw;
  ///   see ``conditionNumber()``.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func inverse() throws(LinearAlgebraError) -> Matrix {
    _checkSquare("inverse")
    try _checkFinite("getrf")
    if rows == 0 { return self }
    var (a, pivots, info) = _getrf("inverse")
    if info > 0 { throw .singular(routine: "getrf", pivot: info) }
    let n = _blasInt(rows, "inverse")
    let ipiv = pivots.map { Int32($0 + 1) }
    let info2 = a.withUnsafeMutableBufferPointer { ap in
      ipiv.withUnsafeBufferPointer { pp in Scalar.getri(n: n, a: ap.baseAddress!, lda: n, ipiv: pp.baseAddress!) }
    }
    if info2 > 0 { throw .singular(routine: "getri", pivot: Int(info2)) }
    if info2 < 0 { throw .lapackFailure(routine: "getri", info: Int(info2)) }
    return Matrix(_unchecked: rows, columns, elements: a)
  }

  /// The determinant, from the LU factorisation: the product of U's diagonal
  /// times the permutation's sign (0 for a singular matrix). The pivots are
  /// multiplied directly; only when that product overflows or underflows on
  /// the way is it taken as `sign·e^logAbs` instead. A determinant beyond the
  /// scalar's range is still ±∞ or 0; ``logDeterminant()`` is not.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func determinant() -> Scalar {
    let (sign, logAbs, product) = _determinant("determinant")
    if sign == 0 { return 0 }
    return product.isFinite && product != 0 ? product : sign * Scalar.exp(logAbs)
  }

  /// The determinant as `sign · e^logAbs` (NumPy's `slogdet`): `sign` is +1,
  /// −1, or 0 for a singular matrix (then `logAbs` is −∞). Stable for large
  /// matrices: the log of each pivot is summed instead of the pivots multiplied.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func logDeterminant() -> (sign: Scalar, logAbs: Scalar) {
    let (sign, logAbs, _) = _determinant("logDeterminant")
    return (sign, logAbs)
  }

  /// One `?getrf`, then the sign, the log of |det| and the direct signed product of the pivots.
  func _determinant(_ operation: String) -> (sign: Scalar, logAbs: Scalar, product: Scalar) {
    _checkSquare(operation)
    if rows == 0 { return (1, 0, 1) }
    let (a, pivots, _) = _getrf(operation)
    var sign: Scalar = 1
    var logAbs: Scalar = 0
    var product: Scalar = 1
    for i in 0..<rows {
      let u = a[i &+ i &* rows]
      if u == 0 { return (0, -.infinity, 0) }
      if u < 0 { sign = -sign }
      if pivots[i] != i { sign = -sign }
      logAbs += Scalar.log(abs(u))
      product *= abs(u)
    }
    return (sign, logAbs, sign * product)
  }

}
