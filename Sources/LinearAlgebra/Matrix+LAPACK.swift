extension Matrix {
  /// The reduced QR factorisation `A = Q·R` of an m×n matrix with m ≥ n
  /// (LAPACK `?geqrf` then `?orgqr`).
  ///
  /// `Q` is m×n with orthonormal columns (`QᵀQ = I`), `R` is n×n upper
  /// triangular. The signs of R's diagonal are LAPACK's (they may be negative).
  /// Traps if m < n (a shape error); throws ``LinearAlgebraError`` if LAPACK
  /// reports a failure.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func qr() throws(LinearAlgebraError) -> (q: Matrix, r: Matrix) {
    if rows < columns {
      shapeFailure("qr: needs rows ≥ columns (the reduced QR of a tall or square matrix); matrix is \(shape)")
    }
    let m = _blasInt(rows, "qr")
    let n = _blasInt(columns, "qr")
    if columns == 0 { return (Matrix.zeros(rows, 0), Matrix.zeros(0, 0)) }
    var a = elements
    var tau = [Scalar](repeating: 0, count: columns)
    let info = a.withUnsafeMutableBufferPointer { ap in
      tau.withUnsafeMutableBufferPointer { tp in
        Scalar.geqrf(m: m, n: n, a: ap.baseAddress!, lda: m, tau: tp.baseAddress!)
      }
    }
    if info != 0 { throw .lapackFailure(routine: "geqrf", info: Int(info)) }
    let nc = columns
    let mr = rows
    let r = Matrix(rows: nc, columns: nc) { i, j in i <= j ? a[i + j * mr] : 0 }
    let info2 = a.withUnsafeMutableBufferPointer { ap in
      tau.withUnsafeBufferPointer { tp in
        Scalar.orgqr(m: m, n: n, k: n, a: ap.baseAddress!, lda: m, tau: tp.baseAddress!)
      }
    }
    if info2 != 0 { throw .lapackFailure(routine: "orgqr", info: Int(info2)) }
    return (Matrix(_unchecked: rows, columns, elements: a), r)
  }

  /// Solves `A·X = B` for square `A` (self) by LU with partial pivoting (LAPACK `?gesv`).
  ///
  /// Traps unless A is square and B has A's row count. Throws
  /// ``LinearAlgebraError/singular(routine:pivot:)`` for an exactly singular A.
  /// A nearly singular A gives a solution with a large error and no throw;
  /// check the residual `A·X − B` when that matters.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func solve(_ b: Matrix) throws(LinearAlgebraError) -> Matrix {
    if rows != columns || b.rows != rows {
      shapeFailure("solve: A must be square and B must have A's \(rows) rows; A is \(shape), B is \(b.shape)")
    }
    if rows == 0 || b.columns == 0 { return Matrix.zeros(rows, b.columns) }
    let n = _blasInt(rows, "solve")
    let nrhs = _blasInt(b.columns, "solve")
    var a = elements
    var x = b.elements
    var ipiv = [Int32](repeating: 0, count: rows)
    let info = a.withUnsafeMutableBufferPointer { ap in
      x.withUnsafeMutableBufferPointer { xp in
        ipiv.withUnsafeMutableBufferPointer { pp in
          Scalar.gesv(n: n, nrhs: nrhs, a: ap.baseAddress!, lda: n, ipiv: pp.baseAddress!, b: xp.baseAddress!, ldb: n)
        }
      }
    }
    if info > 0 { throw .singular(routine: "gesv", pivot: Int(info)) }
    if info < 0 { throw .lapackFailure(routine: "gesv", info: Int(info)) }
    return Matrix(_unchecked: b.rows, b.columns, elements: x)
  }

  /// The least-squares solution X (n×k) of `A·X ≈ B` for an m×n A with m ≥ n
  /// and full column rank (LAPACK `?gels`).
  ///
  /// Traps unless m ≥ n and B has m rows. Throws
  /// ``LinearAlgebraError/rankDeficient(routine:diagonal:)`` if A lacks full rank.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func leastSquares(_ b: Matrix) throws(LinearAlgebraError) -> Matrix {
    if rows < columns || b.rows != rows {
      shapeFailure(
        "leastSquares: A must have rows ≥ columns and B must have A's \(rows) rows; A is \(shape), B is \(b.shape)")
    }
    if columns == 0 || b.columns == 0 { return Matrix.zeros(columns, b.columns) }
    let m = _blasInt(rows, "leastSquares")
    let n = _blasInt(columns, "leastSquares")
    let nrhs = _blasInt(b.columns, "leastSquares")
    var a = elements
    var x = b.elements
    let info = a.withUnsafeMutableBufferPointer { ap in
      x.withUnsafeMutableBufferPointer { xp in
        Scalar.gels(m: m, n: n, nrhs: nrhs, a: ap.baseAddress!, lda: m, b: xp.baseAddress!, ldb: m)
      }
    }
    if info > 0 { throw .rankDeficient(routine: "gels", diagonal: Int(info)) }
    if info < 0 { throw .lapackFailure(routine: "gels", info: Int(info)) }
    let mr = rows
    return Matrix(rows: columns, columns: b.columns) { i, j in x[i + j * mr] }
  }
}
