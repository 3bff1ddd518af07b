extension Matrix {
  /// A matrix from column-major elements (NumPy's `order="F"`): `elements[i + j·rows]`
  /// becomes element `(i, j)`.
  ///
  /// - Throws: ``MatrixError/countMismatch(count:rows:columns:)`` when the count
  ///   is not `rows · columns`, ``MatrixError/invalidDimensions(rows:columns:)``
  ///   for a negative or oversized dimension.
  public init(rows: Int, columns: Int, columnMajor elements: [Scalar]) throws(MatrixError) {
    try Self._validate(rows, columns)
    guard elements.count == rows * columns else {
      throw .countMismatch(count: elements.count, rows: rows, columns: columns)
    }
    self.init(_unchecked: rows, columns, elements: elements)
  }

  /// A matrix from row-major elements (C's and NumPy's default order):
  /// `elements[i·columns + j]` becomes element `(i, j)`. The data is transposed
  /// once, in cache-sized tiles; ``rowMajorElements`` gives it back.
  ///
  /// - Throws: as ``init(rows:columns:columnMajor:)``.
  public init(rows: Int, columns: Int, rowMajor elements: [Scalar]) throws(MatrixError) {
    try Self._validate(rows, columns)
    guard elements.count == rows * columns else {
      throw .countMismatch(count: elements.count, rows: rows, columns: columns)
    }
    var e = [Scalar](repeating: 0, count: rows * columns)
    if !e.isEmpty {
      // Row-major rows × columns is column-major columns × rows: transpose it, in tiles.
      elements.withUnsafeBufferPointer { src in
        e.withUnsafeMutableBufferPointer { dst in
          _transposeTiles(src.baseAddress!, rows: columns, columns: rows, into: dst.baseAddress!)
        }
      }
    }
    self.init(_unchecked: rows, columns, elements: e)
  }

  /// A matrix from nested rows, as written on paper: `[[1, 2, 3], [4, 5, 6]]` is 2×3.
  ///
  /// - Throws: ``MatrixError/raggedRow(row:found:expected:)`` naming the first
  ///   row whose length differs from row 0's; ``MatrixError/empty`` for `[]` or `[[]]`.
  public init(_ rowArrays: [[Scalar]]) throws(MatrixError) {
    guard let first = rowArrays.first, !first.isEmpty else { throw .empty }
    for (i, r) in rowArrays.enumerated() where r.count != first.count {
      throw .raggedRow(row: i, found: r.count, expected: first.count)
    }
    try Self._validate(rowArrays.count, first.count)
    self.init(rows: rowArrays.count, columns: first.count) { i, j in rowArrays[i][j] }
  }

  /// An n×1 column vector.
  public init(column values: [Scalar]) {
    _checkDimensions(values.count, 1, "Matrix(column:)")
    self.init(_unchecked: values.count, 1, elements: values)
  }

  /// A 1×n row vector.
  public init(row values: [Scalar]) {
    _checkDimensions(1, values.count, "Matrix(row:)")
    self.init(_unchecked: 1, values.count, elements: values)
  }

  static func _validate(_ rows: Int, _ columns: Int) throws(MatrixError) {
    guard rows >= 0, columns >= 0, rows <= Int(Int32.max), columns <= Int(Int32.max),
      !rows.multipliedReportingOverflow(by: columns).overflow
    else { throw .invalidDimensions(rows: rows, columns: columns) }
  }
}

extension Matrix: ExpressibleByArrayLiteral {
  /// A matrix literal of rows: `let a: Matrix<Float> = [[1, 2], [3, 4]]`.
  ///
  /// A literal is source code, not data, so ragged rows trap (with the row
  /// named) instead of throwing; use ``init(_:)`` for run-time arrays.
  public init(arrayLiteral rowArrays: [Scalar]...) {
    do {
      try self.init(rowArrays)
    } catch {
      shapeFailure("Matrix literal: \(error)")
    }
  }
}

/// A contiguous range of columns of a matrix, read without a copy.
///
/// Because storage is column-major, columns `j0..<j1` are one contiguous run of
/// the parent's buffer. The view keeps the parent's buffer alive (it holds a
/// reference, not a copy) and is read-only: it can be an operand of a product
/// or be materialised with ``copy()``. This is how a mini-batch of examples is
/// handed to the network.
public struct MatrixColumns<Scalar: BLASScalar>: Sendable {
  @usableFromInline let base: [Scalar]
  /// The range of the parent's columns this view shows.
  public let range: Range<Int>
  /// Rows (as the parent).
  public let rows: Int

  @inlinable
  init(base: [Scalar], rows: Int, range: Range<Int>) {
    self.base = base
    self.rows = rows
    self.range = range
  }

  /// Number of columns in the view.
  @inlinable
  public var columns: Int { range.count }

  /// The shape `rows×columns` of the view.
  @inlinable
  public var shape: Shape { Shape(rows, columns) }

  /// Element `(row, column)` of the view (column counted from the view's start).
  @inlinable
  public subscript(row: Int, column: Int) -> Scalar {
    if row < 0 || row >= rows || column < 0 || column >= columns {
      shapeFailure("MatrixColumns subscript: index (\(row), \(column)) is out of range for a \(shape) view")
    }
    return base[(range.lowerBound &+ column) &* rows &+ row]
  }

  /// Calls `body` with the view's column-major elements (a slice of the parent's buffer).
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
    try base.withUnsafeBufferPointer { p in
      try body(UnsafeBufferPointer(rebasing: p[(range.lowerBound * rows)..<(range.upperBound * rows)]))
    }
  }

  /// The view as a matrix of its own (this copies).
  public func copy() -> Matrix<Scalar> {
    Matrix(_unchecked: rows, columns, elements: Array(base[(range.lowerBound * rows)..<(range.upperBound * rows)]))
  }
}

extension Matrix {
  /// Columns `range` as a view that shares this matrix's buffer (no element copy).
  ///
  /// Traps if the range is outside `0..<columns`.
  @inlinable
  public func columnRange(_ range: Range<Int>) -> MatrixColumns<Scalar> {
    if range.lowerBound < 0 || range.upperBound > columns {
      shapeFailure("columnRange: columns \(range) are outside 0..<\(columns) of a \(shape) matrix")
    }
    return MatrixColumns(base: elements, rows: rows, range: range)
  }

  /// All columns as a view (no copy).
  @inlinable
  public var allColumns: MatrixColumns<Scalar> { columnRange(0..<columns) }
}
