/// Stops the program with `message`, in debug AND release builds.
///
/// Shape mismatches are programmer errors, so they trap rather than throw.
/// Swift's `precondition` prints no message under `-O`; `fatalError` does, so
/// every check in the library goes through this one function. It is not
/// public API: other packages see its messages, never the function.
@inlinable
package func shapeFailure(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line)
  -> Never
{
  fatalError(message(), file: file, line: line)
}

/// Traps unless `rows` and `columns` are non-negative and their product, and
/// each of them, fits the 32-bit integers that BLAS and LAPACK take.
@inlinable
func _checkDimensions(_ rows: Int, _ columns: Int, _ operation: @autoclosure () -> String) {
  if rows < 0 || columns < 0 {
    shapeFailure("\(operation()): dimensions must be non-negative, got \(rows)×\(columns)")
  }
  if rows > Int(Int32.max) || columns > Int(Int32.max) {
    shapeFailure(
      "\(operation()): \(rows)×\(columns) does not fit BLAS's 32-bit dimensions (at most \(Int32.max) rows or columns)"
    )
  }
  if rows.multipliedReportingOverflow(by: columns).overflow {
    shapeFailure("\(operation()): \(rows)×\(columns) has more elements than Int can count")
  }
}

@inlinable
func _checkSameShape<S>(_ a: Matrix<S>, _ b: Matrix<S>, _ operation: @autoclosure () -> String) {
  if a.rows != b.rows || a.columns != b.columns {
    shapeFailure(
      "\(operation()): shapes must be equal (no implicit broadcasting); lhs is \(a.shape), rhs is \(b.shape)")
  }
}

/// A dimension converted to BLAS's `Int32`, trapping if it does not fit.
@inlinable
func _blasInt(_ n: Int, _ operation: @autoclosure () -> String) -> Int32 {
  guard let v = Int32(exactly: n) else {
    shapeFailure("\(operation()): dimension \(n) does not fit BLAS's 32-bit integers")
  }
  return v
}

/// What is wrong with run-time data given to a throwing ``Matrix`` initialiser.
public enum MatrixError: Error, Equatable, CustomStringConvertible {
  /// Nested rows of unequal length; `row` is 0-based.
  case raggedRow(row: Int, found: Int, expected: Int)
  /// A flat array whose count does not fill the requested shape.
  case countMismatch(count: Int, rows: Int, columns: Int)
  /// A negative dimension or one that does not fit BLAS's 32-bit integers.
  case invalidDimensions(rows: Int, columns: Int)
  /// A nested array with no rows, or rows with no elements, where a shape cannot be inferred.
  case empty

  public var description: String {
    switch self {
    case .raggedRow(let row, let found, let expected):
      return "row \(row) has \(found) elements, expected \(expected) (as row 0 has)"
    case .countMismatch(let count, let rows, let columns):
      return "\(count) elements cannot fill \(rows)×\(columns) (it needs \(rows * columns))"
    case .invalidDimensions(let rows, let columns):
      return "\(rows)×\(columns) is not a valid shape: dimensions must be between 0 and \(Int32.max)"
    case .empty:
      return "no rows or no columns given: the shape cannot be inferred"
    }
  }
}

/// A LAPACK routine that reported a failure (`info ≠ 0`) or a matrix it cannot work with.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
  /// The matrix is exactly singular: U(i, i) is zero (1-based, as LAPACK reports it).
  case singular(routine: String, pivot: Int)
  /// The matrix does not have full rank, so the least-squares solution is not unique.
  case rankDeficient(routine: String, diagonal: Int)
  /// The matrix is not (numerically) positive definite: the leading minor of
  /// order `minor` is not positive (LAPACK `?potrf`'s `info`).
  case notPositiveDefinite(routine: String, minor: Int)
  /// An iterative routine did not converge (`info` > 0 from `?gesdd`/`?gesvd`/`?syevd`).
  case noConvergence(routine: String, info: Int)
  /// A matrix that must be symmetric is not: `|A(i, j) − A(j, i)|` exceeds the
  /// tolerance at `(row, column)` (0-based).
  case notSymmetric(row: Int, column: Int, difference: Double, tolerance: Double)
  /// The matrix holds NaN or ±∞ at `(row, column)` (0-based), which LAPACK cannot work with.
  case nonFinite(routine: String, row: Int, column: Int)
  /// Any other non-zero `info` from LAPACKE (negative: argument `-info` was illegal).
  case lapackFailure(routine: String, info: Int)

  public var description: String {
    switch self {
    case .singular(let routine, let pivot):
      return "\(routine): the matrix is singular (U(\(pivot),\(pivot)) is exactly zero)"
    case .rankDeficient(let routine, let diagonal):
      return "\(routine): the matrix is rank deficient (R(\(diagonal),\(diagonal)) is exactly zero)"
    case .notPositiveDefinite(let routine, let minor):
      return "\(routine): the matrix is not positive definite (its leading minor of order \(minor) is not positive)"
    case .noConvergence(let routine, let info):
      return "\(routine): the iteration did not converge (info = \(info))"
    case .notSymmetric(let row, let column, let difference, let tolerance):
      return
        "the matrix is not symmetric: A(\(row),\(column)) and A(\(column),\(row)) differ by \(difference), more than the tolerance \(tolerance)"
    case .nonFinite(let routine, let row, let column):
      return "\(routine): element (\(row), \(column)) is not a finite number"
    case .lapackFailure(let routine, let info):
      return "\(routine) failed with info = \(info)"
    }
  }
}
