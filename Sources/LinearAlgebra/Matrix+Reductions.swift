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
        guard let result = o.baseAddress else { return }  // no rows
        guard c > 0, let base = a.baseAddress else {
          for i in 0..<r { result[i] = 0 }
          return
        }
        _rowSums(base, rows: r, columns: c, scale: scale, into: result)
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

/// `out[i] = scale · Σⱼ a[i + j·rows]`: row sums of a column-major matrix,
/// with explicit SIMD accumulators (the plain loop did not vectorise: 4× slower
/// than a BLAS gemv against a ones vector at 16×455). Short columns: rows in
/// blocks of 8 and 4 lanes held in registers, each summed over the columns in
/// order; tall columns (≥ 32 rows): each column added into the sums in turn;
/// a single row (a contiguous run): 8 interleaved partial sums.
@inlinable
func _rowSums<S: BLASScalar>(
  _ a: UnsafePointer<S>, rows r: Int, columns c: Int, scale: S, into out: UnsafeMutablePointer<S>
) {
  let raw = UnsafeRawPointer(a)
  let stride = MemoryLayout<S>.stride
  if r == 1 {
    var acc = SIMD8<S>(repeating: 0)
    var j = 0
    while j &+ 8 <= c {
      acc += raw.loadUnaligned(fromByteOffset: j &* stride, as: SIMD8<S>.self)
      j &+= 8
    }
    var total = acc.sum()
    while j < c {
      total += a[j]
      j &+= 1
    }
    out[0] = total * scale
    return
  }
  if r >= 32 {
    // Tall columns: add each column into the sums in turn (one pass over the
    // matrix, the sums staying in cache) instead of one pass per 8 rows.
    for i in 0..<r { out[i] = 0 }
    let sums = UnsafeMutableRawPointer(out)
    for j in 0..<c {
      var i = 0
      while i &+ 8 <= r {
        let o = i &* stride
        let v =
          sums.loadUnaligned(fromByteOffset: o, as: SIMD8<S>.self)
          + raw.loadUnaligned(fromByteOffset: (j &* r &+ i) &* stride, as: SIMD8<S>.self)
        sums.storeBytes(of: v, toByteOffset: o, as: SIMD8<S>.self)
        i &+= 8
      }
      while i < r {
        out[i] += a[j &* r &+ i]
        i &+= 1
      }
    }
    for i in 0..<r { out[i] *= scale }
    return
  }
  var i = 0
  while i &+ 8 <= r {
    var acc = SIMD8<S>(repeating: 0)
    for j in 0..<c { acc += raw.loadUnaligned(fromByteOffset: (j &* r &+ i) &* stride, as: SIMD8<S>.self) }
    for k in 0..<8 { out[i &+ k] = acc[k] * scale }
    i &+= 8
  }
  if i &+ 4 <= r {
    var acc = SIMD4<S>(repeating: 0)
    for j in 0..<c { acc += raw.loadUnaligned(fromByteOffset: (j &* r &+ i) &* stride, as: SIMD4<S>.self) }
    for k in 0..<4 { out[i &+ k] = acc[k] * scale }
    i &+= 4
  }
  while i < r {
    var total: S = 0
    for j in 0..<c { total += a[j &* r &+ i] }
    out[i] = total * scale
    i &+= 1
  }
}
