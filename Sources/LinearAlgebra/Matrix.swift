/// The number of rows and columns of a matrix, printed as `rows×columns`.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
  public var rows: Int
  public var columns: Int

  @inlinable
  public init(_ rows: Int, _ columns: Int) {
    self.rows = rows
    self.columns = columns
  }

  @inlinable
  public var count: Int { rows * columns }

  public var description: String { "\(rows)×\(columns)" }
}

/// A dense two-dimensional matrix of `Float` or `Double`, stored column-major,
/// whose products run on OpenBLAS.
///
/// ## Storage
/// Elements are kept in one contiguous buffer in column-major order, the order
/// BLAS and LAPACK use: element `(i, j)` lives at `i + j·rows`. A matrix is
/// `rows × columns`; in a network, examples are columns, so a mini-batch is a
/// contiguous range of columns and ``columnRange(_:)`` can hand it out without a copy.
///
/// ## Value semantics
/// `Matrix` is a value, like `Array`: assigning it or passing it to a function
/// never shares mutations. Copies are lazy (copy-on-write): the buffer is
/// duplicated only when a matrix whose buffer is shared is written to. A `var`
/// matrix that nobody else holds is mutated in place, so the in-place operations
/// (`+=`, ``gemm(alpha:_:_:transposeA:transposeB:beta:into:kernel:)`` into an existing output, ...)
/// allocate nothing. A `let` matrix cannot be changed at all; the compiler says so.
///
/// ## Shapes are strict
/// Every operation checks the shapes it is given. A mismatch is a programmer
/// error and traps with a message that names the operation, the requirement and
/// both shapes, e.g.
///
///     matmul: lhs.columns (3) must equal rhs.rows (4); lhs is 2×3, rhs is 4×5
///
/// The message is printed in release builds too. Nothing broadcasts silently;
/// the only broadcast is the explicit ``addColumnToEachColumn(_:)``. Data that
/// comes from outside (nested arrays, flat arrays with a shape) goes through
/// throwing initialisers instead, which report a ``MatrixError``.
///
/// ## What runs where
/// Matrix products, matrix·vector and dot products call `cblas_?gemm`,
/// `cblas_?gemv` and `cblas_?dot`; QR, solve and least squares call LAPACKE.
/// Elementwise operations and reductions are single passes over the buffer in
/// Swift. The textbook loops in ``Naive`` compute the same products without BLAS.
public struct Matrix<Scalar: BLASScalar> {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// The elements in column-major order: `(i, j)` is at `i + j·rows`.
  @inlinable
  public var elements: [Scalar] { _elements }

  @usableFromInline
  var _elements: [Scalar]

  /// Builds a matrix from column-major elements whose count is known to fit.
  @inlinable
  init(_unchecked rows: Int, _ columns: Int, elements: [Scalar]) {
    self.rows = rows
    self.columns = columns
    self._elements = elements
  }

  /// A `rows × columns` matrix whose every element is `value`.
  @inlinable
  public init(rows: Int, columns: Int, repeating value: Scalar) {
    _checkDimensions(rows, columns, "Matrix(rows:columns:repeating:)")
    self.init(_unchecked: rows, columns, elements: [Scalar](repeating: value, count: rows * columns))
  }

  /// A `rows × columns` matrix of zeros.
  @inlinable
  public static func zeros(_ rows: Int, _ columns: Int) -> Matrix {
    Matrix(rows: rows, columns: columns, repeating: 0)
  }

  /// A `rows × columns` matrix of ones.
  @inlinable
  public static func ones(_ rows: Int, _ columns: Int) -> Matrix {
    Matrix(rows: rows, columns: columns, repeating: 1)
  }

  /// The `n × n` identity matrix.
  @inlinable
  public static func identity(_ n: Int) -> Matrix {
    var m = zeros(n, n)
    m.withUnsafeMutableBufferPointer { p in
      for i in 0..<n { p[i &* n &+ i] = 1 }
    }
    return m
  }

  /// A matrix of the given shape whose element `(i, j)` is `body(i, j)`.
  @inlinable
  public init(rows: Int, columns: Int, _ body: (_ row: Int, _ column: Int) throws -> Scalar) rethrows {
    _checkDimensions(rows, columns, "Matrix(rows:columns:_:)")
    var e: [Scalar] = []
    e.reserveCapacity(rows * columns)
    for j in 0..<columns {
      for i in 0..<rows { e.append(try body(i, j)) }
    }
    self.init(_unchecked: rows, columns, elements: e)
  }

  /// The shape `rows×columns`.
  @inlinable
  public var shape: Shape { Shape(rows, columns) }

  /// Number of elements, `rows · columns`.
  @inlinable
  public var count: Int { elements.count }

  /// Element `(row, column)`; both indices are checked.
  @inlinable
  public subscript(row: Int, column: Int) -> Scalar {
    get {
      _checkIndex(row, column)
      return elements[row &+ column &* rows]
    }
    set {
      _checkIndex(row, column)
      _elements[row &+ column &* rows] = newValue
    }
  }

  @inlinable
  func _checkIndex(_ row: Int, _ column: Int) {
    if row < 0 || row >= rows || column < 0 || column >= columns {
      shapeFailure("subscript: index (\(row), \(column)) is out of range for a \(shape) matrix")
    }
  }

  /// Calls `body` with the column-major elements.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
    try elements.withUnsafeBufferPointer(body)
  }

  /// Calls `body` with the column-major elements for writing; copies the buffer
  /// first only if it is shared with another matrix.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
  ) rethrows -> R {
    try _elements.withUnsafeMutableBufferPointer(body)
  }

  /// A copy with rows and columns swapped (element `(i, j)` becomes `(j, i)`).
  ///
  /// Products never need this: pass ``Transpose/transposed`` instead.
  public var transposed: Matrix {
    Matrix(_unchecked: columns, rows, elements: rowMajorElements)
  }

  /// The same elements read as a matrix of another shape with the same count
  /// (column-major order is kept, as NumPy's `reshape(order="F")`).
  public func reshaped(_ rows: Int, _ columns: Int) -> Matrix {
    _checkDimensions(rows, columns, "reshaped")
    if rows * columns != count {
      shapeFailure(
        "reshaped: the new shape must hold the same \(count) elements; matrix is \(shape), asked for \(rows)×\(columns)"
      )
    }
    return Matrix(_unchecked: rows, columns, elements: elements)
  }

  /// Row `i` as a 1×columns matrix.
  public func row(_ i: Int) -> Matrix {
    _checkIndex(i, 0)
    return Matrix(rows: 1, columns: columns) { _, j in elements[i &+ j &* rows] }
  }

  /// Column `j` as a rows×1 matrix.
  public func column(_ j: Int) -> Matrix {
    _checkIndex(0, j)
    return Matrix(_unchecked: rows, 1, elements: Array(elements[(j * rows)..<((j + 1) * rows)]))
  }

  /// The rows as nested arrays, `[[Scalar]]`, row by row.
  public var rowArrays: [[Scalar]] {
    (0..<rows).map { i in (0..<columns).map { j in elements[i + j * rows] } }
  }
}

extension Matrix: Equatable {}
extension Matrix: Hashable {}
extension Matrix: Sendable {}

extension Matrix {
  /// Whether every element of `self` is within `absoluteTolerance +
  /// relativeTolerance·|other|` of the same element of `other`.
  ///
  /// Shapes must be equal (trap otherwise). NaN is never close to anything.
  public func isApproximatelyEqual(
    to other: Matrix, absoluteTolerance: Scalar, relativeTolerance: Scalar = 0
  ) -> Bool {
    _checkSameShape(self, other, "isApproximatelyEqual")
    if absoluteTolerance < 0 || !absoluteTolerance.isFinite {
      shapeFailure(
        "isApproximatelyEqual: absoluteTolerance should be non-negative and finite, but is \(absoluteTolerance)")
    }
    if relativeTolerance < 0 || !relativeTolerance.isFinite {
      shapeFailure(
        "isApproximatelyEqual: relativeTolerance should be non-negative and finite, but is \(relativeTolerance)")
    }
    for (a, b) in zip(elements, other.elements) {
      let bound = absoluteTolerance + relativeTolerance * Swift.max(abs(a), abs(b))
      if !(abs(a - b) <= bound) { return false }
    }
    return true
  }

  /// The largest |aᵢ − bᵢ| between two equally shaped matrices.
  public func maxAbsoluteDifference(_ other: Matrix) -> Scalar {
    _checkSameShape(self, other, "maxAbsoluteDifference")
    var m: Scalar = 0
    for (a, b) in zip(elements, other.elements) {
      let d = abs(a - b)
      if d.isNaN { return .nan }
      m = Swift.max(m, d)
    }
    return m
  }
}
