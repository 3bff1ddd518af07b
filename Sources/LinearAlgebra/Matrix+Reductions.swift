extension Matrix {
  /// The sum of all elements (0 for an empty matrix).
  @inlinable
  public func sum() -> Scalar {
    withUnsafeBufferPointer { p in
      var s: Scalar = 0
      for x in p { s += x }
      return s
    }
  }

  /// The mean of all elements; traps on an empty matrix.
  @inlinable
  public func mean() -> Scalar {
    if count == 0 { shapeFailure("mean: the matrix is empty (\(shape))") }
    return sum() / Scalar(count)
  }

  /// Sums across each row: an n×m matrix gives the n×1 column of row sums
  /// (NumPy's `sum(axis=1, keepdims=True)`; the bias gradient `db`).
  @inlinable
  public func sumOfEachRow() -> Matrix {
    var out = Matrix.zeros(rows, 1)
    sumOfEachRow(into: &out, scale: 1)
    return out
  }

  /// Writes `scale · Σⱼ self(i, j)` into `out(i, 0)`; `out` must be rows×1.
  @inlinable
  public func sumOfEachRow(into out: inout Matrix, scale: Scalar) {
    if out.rows != rows || out.columns != 1 {
      shapeFailure(
        "sumOfEachRow(into:): the output must be rows×1 = \(rows)×1; matrix is \(shape), output is \(out.shape)")
    }
    let r = rows
    let c = columns
    withUnsafeBufferPointer { a in
      out.withUnsafeMutableBufferPointer { o in
        if r == 1 {
          // One row: its elements are contiguous; a plain running sum.
          var s: Scalar = 0
          for j in 0..<c { s += a[j] }
          o[0] = s * scale
          return
        }
        for i in 0..<r { o[i] = 0 }
        for j in 0..<c {
          let base = j &* r
          for i in 0..<r { o[i] += a[base &+ i] }
        }
        for i in 0..<r { o[i] *= scale }
      }
    }
  }

  /// Sums down each column: an n×m matrix gives the 1×m row of column sums
  /// (NumPy's `sum(axis=0, keepdims=True)`).
  @inlinable
  public func sumOfEachColumn() -> Matrix {
    let r = rows
    return withUnsafeBufferPointer { a in
      Matrix(rows: 1, columns: columns) { _, j in
        var s: Scalar = 0
        let base = j &* r
        for i in 0..<r { s += a[base &+ i] }
        return s
      }
    }
  }

  /// The largest element of each column, as a 1×m row; traps if there are no rows.
  public func maxOfEachColumn() -> Matrix {
    let idx = argmaxOfEachColumn()
    return Matrix(rows: 1, columns: columns) { _, j in self[idx[j], j] }
  }

  /// The row index of the largest element in each column (the first one on a
  /// tie; NaN is never the largest unless the whole column is NaN). Traps if
  /// there are no rows.
  public func argmaxOfEachColumn() -> [Int] {
    if rows == 0 { shapeFailure("argmaxOfEachColumn: the matrix has no rows (\(shape))") }
    let r = rows
    return withUnsafeBufferPointer { a in
      (0..<columns).map { j in
        let base = j * r
        var best = 0
        var bestValue = a[base]
        for i in 1..<r where a[base + i] > bestValue || (bestValue.isNaN && !a[base + i].isNaN) {
          best = i
          bestValue = a[base + i]
        }
        return best
      }
    }
  }

  /// The Frobenius norm √(Σ aᵢⱼ²).
  @inlinable
  public func norm() -> Scalar {
    withUnsafeBufferPointer { p in
      var s: Scalar = 0
      for x in p { s += x * x }
      return s.squareRoot()
    }
  }
}
