// Elementwise arithmetic. Equal shapes only: nothing broadcasts silently. The
// one broadcast the network needs, an n×1 column added to every column, is the
// explicit `addColumnToEachColumn(_:)`.

extension Matrix {
  /// Applies `op` to each pair of elements of two equally shaped matrices, in place.
  @inlinable
  mutating func _combine(_ other: Matrix, _ name: @autoclosure () -> String, _ op: (Scalar, Scalar) -> Scalar) {
    _checkSameShape(self, other, name())
    other.withUnsafeBufferPointer { b in
      withUnsafeMutableBufferPointer { a in
        for i in 0..<a.count { a[i] = op(a[i], b[i]) }
      }
    }
  }

  /// Applies `transform` to every element, in place.
  @inlinable
  public mutating func apply(_ transform: (Scalar) throws -> Scalar) rethrows {
    try withUnsafeMutableBufferPointer { a in
      for i in 0..<a.count { a[i] = try transform(a[i]) }
    }
  }

  /// A matrix of the same shape with `transform` applied to every element.
  @inlinable
  public func map(_ transform: (Scalar) throws -> Scalar) rethrows -> Matrix {
    var out = self
    try out.apply(transform)
    return out
  }

  @inlinable public static func += (lhs: inout Matrix, rhs: Matrix) { lhs._combine(rhs, "+=") { $0 + $1 } }
  @inlinable public static func -= (lhs: inout Matrix, rhs: Matrix) { lhs._combine(rhs, "-=") { $0 - $1 } }
  /// Elementwise (Hadamard) product in place; for the matrix product see ``matmul(_:_:transposeA:transposeB:)``.
  @inlinable public static func *= (lhs: inout Matrix, rhs: Matrix) { lhs._combine(rhs, "*=") { $0 * $1 } }
  @inlinable public static func /= (lhs: inout Matrix, rhs: Matrix) { lhs._combine(rhs, "/=") { $0 / $1 } }

  @inlinable public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
    var r = lhs
    r._combine(rhs, "+") { $0 + $1 }
    return r
  }
  @inlinable public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
    var r = lhs
    r._combine(rhs, "-") { $0 - $1 }
    return r
  }
  /// Elementwise (Hadamard) product; for the matrix product see ``matmul(_:_:transposeA:transposeB:)``.
  @inlinable public static func * (lhs: Matrix, rhs: Matrix) -> Matrix {
    var r = lhs
    r._combine(rhs, "*") { $0 * $1 }
    return r
  }
  @inlinable public static func / (lhs: Matrix, rhs: Matrix) -> Matrix {
    var r = lhs
    r._combine(rhs, "/") { $0 / $1 }
    return r
  }

  @inlinable public static func += (lhs: inout Matrix, rhs: Scalar) { lhs.apply { $0 + rhs } }
  @inlinable public static func -= (lhs: inout Matrix, rhs: Scalar) { lhs.apply { $0 - rhs } }
  @inlinable public static func *= (lhs: inout Matrix, rhs: Scalar) { lhs.apply { $0 * rhs } }
  @inlinable public static func /= (lhs: inout Matrix, rhs: Scalar) { lhs.apply { $0 / rhs } }
  @inlinable public static func + (lhs: Matrix, rhs: Scalar) -> Matrix { lhs.map { $0 + rhs } }
  @inlinable public static func - (lhs: Matrix, rhs: Scalar) -> Matrix { lhs.map { $0 - rhs } }
  @inlinable public static func * (lhs: Matrix, rhs: Scalar) -> Matrix { lhs.map { $0 * rhs } }
  @inlinable public static func / (lhs: Matrix, rhs: Scalar) -> Matrix { lhs.map { $0 / rhs } }
  @inlinable public static func + (lhs: Scalar, rhs: Matrix) -> Matrix { rhs.map { lhs + $0 } }
  @inlinable public static func - (lhs: Scalar, rhs: Matrix) -> Matrix { rhs.map { lhs - $0 } }
  @inlinable public static func * (lhs: Scalar, rhs: Matrix) -> Matrix { rhs.map { lhs * $0 } }
  @inlinable public static func / (lhs: Scalar, rhs: Matrix) -> Matrix { rhs.map { lhs / $0 } }
  @inlinable public static prefix func - (m: Matrix) -> Matrix { m.map { -$0 } }

  /// `self += alpha·x` through BLAS `?axpy` (equal shapes).
  @inlinable
  public mutating func addScaled(_ x: Matrix, alpha: Scalar) {
    _checkSameShape(self, x, "addScaled")
    if count == 0 { return }
    let n = _blasInt(count, "addScaled")
    x.withUnsafeBufferPointer { xp in
      withUnsafeMutableBufferPointer { yp in Scalar.axpy(n: n, alpha: alpha, xp.baseAddress!, yp.baseAddress!) }
    }
  }

  /// Adds the n×1 column vector `column` to every column of this n×m matrix, in place.
  ///
  /// This is the only broadcast in the library (the bias add `Z = W·A + b`).
  /// Traps unless `column` is `rows × 1`.
  @inlinable
  public mutating func addColumnToEachColumn(_ column: Matrix) {
    if column.columns != 1 || column.rows != rows {
      shapeFailure(
        "addColumnToEachColumn: the vector must be rows×1 = \(rows)×1 to be added to each column; matrix is \(shape), vector is \(column.shape)"
      )
    }
    let r = rows
    let c = columns
    column.withUnsafeBufferPointer { b in
      withUnsafeMutableBufferPointer { a in
        if r == 1 {
          // One row (an output layer's Z): a flat pass that vectorises.
          let v = b[0]
          for k in 0..<c { a[k] += v }
          return
        }
        for j in 0..<c {
          let base = j &* r
          for i in 0..<r { a[base &+ i] += b[i] }
        }
      }
    }
  }

  /// A copy with the n×1 `column` added to every column; see ``addColumnToEachColumn(_:)``.
  @inlinable
  public func addingColumnToEachColumn(_ column: Matrix) -> Matrix {
    var r = self
    r.addColumnToEachColumn(column)
    return r
  }

  /// Sets every element to `value`, in place.
  @inlinable
  public mutating func fill(_ value: Scalar) {
    apply { _ in value }
  }

  /// Whether every element is finite (no NaN, no ±∞).
  @inlinable
  public var isFinite: Bool {
    withUnsafeBufferPointer { p in p.allSatisfy { $0.isFinite } }
  }
}
