// Blocks, gathers and assembly. Column-major storage makes a range of rows
// within one column contiguous, so every copy here moves whole runs with
// `update(from:count:)` (a memcpy) rather than element by element; the
// row-major exchange transposes in 32×32 tiles so that reads and writes both
// stay within cache lines.

extension Matrix {
  func _checkRange(_ range: Range<Int>, _ limit: Int, _ what: String, _ operation: String) {
    if range.lowerBound < 0 || range.upperBound > limit {
      shapeFailure("\(operation): \(what) \(range) are outside 0..<\(limit) of a \(shape) matrix")
    }
  }

  /// Rows `range` (all columns) as a new matrix: one contiguous copy per column.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func rows(_ range: Range<Int>) -> Matrix {
    submatrix(rows: range, columns: 0..<columns)
  }

  /// The block `rows × columns` as a new matrix (NumPy's `a[r0:r1, c0:c1].copy()`).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func submatrix(rows rowRange: Range<Int>, columns columnRange: Range<Int>) -> Matrix {
    _checkRange(rowRange, rows, "rows", "submatrix")
    _checkRange(columnRange, columns, "columns", "submatrix")
    let (h, w) = (rowRange.count, columnRange.count)
    var out = Matrix.zeros(h, w)
    if h == 0 || w == 0 { return out }
    let r = rows
    withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for (k, j) in columnRange.enumerated() {
          (dst.baseAddress! + k &* h).update(from: src.baseAddress! + (j &* r &+ rowRange.lowerBound), count: h)
        }
      }
    }
    return out
  }

  /// The columns at `indices`, in that order, as a new matrix (a gather;
  /// NumPy's `a[:, indices]`). Indices may repeat; each is checked.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func columns(at indices: [Int]) -> Matrix {
    let r = rows
    var out = Matrix.zeros(r, indices.count)
    if r == 0 { return out }
    withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for (k, j) in indices.enumerated() {
          if j < 0 || j >= columns {
            shapeFailure("columns(at:): index \(j) (position \(k)) is outside 0..<\(columns) of a \(shape) matrix")
          }
          (dst.baseAddress! + k &* r).update(from: src.baseAddress! + j &* r, count: r)
        }
      }
    }
    return out
  }

  /// Matrices side by side, `[A B C]` (NumPy's `hstack`); all need the same
  /// row count. Column-major storage makes this one copy of each buffer.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public static func hcat(_ parts: [Matrix]) -> Matrix {
    guard let first = parts.first else { return .zeros(0, 0) }
    if let bad = parts.first(where: { $0.rows != first.rows }) {
      shapeFailure(
        "hcat: every part needs the same number of rows; the first is \(first.shape), another is \(bad.shape)")
    }
    let total = parts.reduce(0) { $0 + $1.columns }
    _checkDimensions(first.rows, total, "hcat")
    var elements: [Scalar] = []
    elements.reserveCapacity(first.rows * total)
    for p in parts { elements.append(contentsOf: p.elements) }
    return Matrix(_unchecked: first.rows, total, elements: elements)
  }

  /// Matrices stacked, A above B above C (NumPy's `vstack`); all need the
  /// same column count. One contiguous copy per column of each part.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public static func vcat(_ parts: [Matrix]) -> Matrix {
    guard let first = parts.first else { return .zeros(0, 0) }
    if let bad = parts.first(where: { $0.columns != first.columns }) {
      shapeFailure(
        "vcat: every part needs the same number of columns; the first is \(first.shape), another is \(bad.shape)")
    }
    let total = parts.reduce(0) { $0 + $1.rows }
    var out = Matrix.zeros(total, first.columns)
    out.withUnsafeMutableBufferPointer { dst in
      var offset = 0
      for p in parts where p.rows > 0 {
        p.withUnsafeBufferPointer { src in
          for j in 0..<p.columns {
            (dst.baseAddress! + (j &* total &+ offset)).update(from: src.baseAddress! + j &* p.rows, count: p.rows)
          }
        }
        offset += p.rows
      }
    }
    return out
  }

  /// The main diagonal, `a(0,0), a(1,1), …` (min(m, n) values).
  public var diagonal: [Scalar] {
    (0..<Swift.min(rows, columns)).map { elements[$0 &* (rows &+ 1)] }
  }

  /// A square matrix with `values` on its diagonal and zeros elsewhere (NumPy's `diag(v)`).
  public init(diagonal values: [Scalar]) {
    let n = values.count
    _checkDimensions(n, n, "Matrix(diagonal:)")
    var e = [Scalar](repeating: 0, count: n * n)
    for (i, v) in values.enumerated() { e[i * (n + 1)] = v }
    self.init(_unchecked: n, n, elements: e)
  }

  /// The sum of the diagonal of a square matrix; traps for a non-square one.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func trace() -> Scalar {
    _checkSquare("trace")
    return diagonal.reduce(0, +)
  }

  /// The elements in row-major order (C's and NumPy's default): element
  /// `(i, j)` at `i·columns + j`. Transposed once, in cache-sized tiles.
  @inlinable
  public var rowMajorElements: [Scalar] {
    var out = [Scalar](repeating: 0, count: count)
    withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        if count > 0 { _transposeTiles(src.baseAddress!, rows: rows, columns: columns, into: dst.baseAddress!) }
      }
    }
    return out
  }
}

/// Writes the transpose of the column-major `rows × columns` array `src` into
/// `dst` (column-major `columns × rows`, i.e. `src` in row-major order), in
/// 32×32 tiles.
@inlinable
func _transposeTiles<S>(_ src: UnsafePointer<S>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<S>) {
  let tile = 32
  var j0 = 0
  while j0 < columns {
    let j1 = Swift.min(j0 &+ tile, columns)
    var i0 = 0
    while i0 < rows {
      let i1 = Swift.min(i0 &+ tile, rows)
      for i in i0..<i1 {
        for j in j0..<j1 { dst[i &* columns &+ j] = src[i &+ j &* rows] }
      }
      i0 = i1
    }
    j0 = j1
  }
}
