import LinearAlgebra
import Testing

@Suite struct InitializerTests {
  @Test func nestedRowsAreRowsOnPaper() throws {
    let a = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
    #expect(a.shape == Shape(2, 3))
    #expect(a[0, 2] == 3 && a[1, 0] == 4)
    // Column-major storage: the first column comes first.
    #expect(a.elements == [1, 4, 2, 5, 3, 6])
    #expect(a.rowArrays == [[1, 2, 3], [4, 5, 6]])
  }

  @Test func raggedRowsThrowNamingTheRow() {
    #expect(throws: MatrixError.raggedRow(row: 3, found: 4, expected: 5)) {
      try Matrix<Float>([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, 4], [1, 2, 3, 4, 5]])
    }
    #expect(
      MatrixError.raggedRow(row: 3, found: 4, expected: 5).description.contains("row 3 has 4 elements, expected 5"))
    #expect(throws: MatrixError.empty) { try Matrix<Float>([]) }
    #expect(throws: MatrixError.empty) { try Matrix<Float>([[]]) }
  }

  @Test func flatArraysMustFillTheShape() throws {
    #expect(throws: MatrixError.countMismatch(count: 12, rows: 5, columns: 3)) {
      try Matrix<Float>(rows: 5, columns: 3, columnMajor: Array(repeating: 0, count: 12))
    }
    #expect(
      MatrixError.countMismatch(count: 12, rows: 5, columns: 3).description.hasPrefix("12 elements cannot fill 5×3"))
    #expect(throws: MatrixError.countMismatch(count: 5, rows: 2, columns: 3)) {
      try Matrix<Double>(rows: 2, columns: 3, rowMajor: [1, 2, 3, 4, 5])
    }
    #expect(throws: MatrixError.invalidDimensions(rows: -2, columns: 3)) {
      try Matrix<Double>(rows: -2, columns: 3, rowMajor: [])
    }
    let r = try Matrix<Double>(rows: 2, columns: 3, rowMajor: [1, 2, 3, 4, 5, 6])
    let c = try Matrix<Double>(rows: 2, columns: 3, columnMajor: [1, 4, 2, 5, 3, 6])
    #expect(r == c)
  }

  @Test func constantsAndVectors() {
    #expect(Matrix<Float>.zeros(2, 3).elements == [0, 0, 0, 0, 0, 0])
    #expect(Matrix<Float>.ones(1, 2).elements == [1, 1])
    #expect(Matrix<Double>(rows: 2, columns: 1, repeating: 7).elements == [7, 7])
    #expect(Matrix<Float>.identity(3).elements == [1, 0, 0, 0, 1, 0, 0, 0, 1])
    #expect(Matrix<Float>(column: [1, 2, 3]).shape == Shape(3, 1))
    #expect(Matrix<Float>(row: [1, 2, 3]).shape == Shape(1, 3))
    let literal: Matrix<Float> = [[1, 2], [3, 4]]
    #expect(literal[1, 0] == 3)
  }

  @Test func accessTransposeReshape() throws {
    var a = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
    a[1, 2] = 60
    #expect(a[1, 2] == 60)
    #expect(a.transposed == (try Matrix<Float>([[1, 4], [2, 5], [3, 60]])))
    #expect(a.reshaped(3, 2).elements == a.elements)
    #expect(a.row(1) == Matrix(row: [4, 5, 60]))
    #expect(a.column(2) == Matrix(column: [3, 60]))
  }

  @Test func approximateEqualityHonoursBothTolerances() {
    let a = Matrix<Double>(row: [1, 100])
    let b = Matrix<Double>(row: [1.001, 100.05])
    #expect(!a.isApproximatelyEqual(to: b, absoluteTolerance: 0.01))
    #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 0.01, relativeTolerance: 1e-3))
    #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 0.06))
    #expect(!Matrix<Double>(row: [.nan]).isApproximatelyEqual(to: Matrix(row: [.nan]), absoluteTolerance: 1))
  }

  @Test func descriptionShowsShapeFirstAndElidesLargeMatrices() throws {
    let small = try Matrix<Float>([[1, 2], [3, 4]])
    #expect(small.description == "Matrix<Float> 2×2\n[[1.0, 2.0],\n [3.0, 4.0]]")
    let big = Matrix<Double>(rows: 100, columns: 50) { i, j in Double(i * 1000 + j) }
    let lines = big.description.split(separator: "\n")
    #expect(lines[0] == "Matrix<Double> 100×50")
    #expect(lines.count == 1 + 3 + 1 + 3)
    #expect(lines[1] == "[[0.0, 1.0, 2.0, …, 47.0, 48.0, 49.0],")
    #expect(lines[4] == " …")
    #expect(lines.last == " [99000.0, 99001.0, 99002.0, …, 99047.0, 99048.0, 99049.0]]")
  }
}
