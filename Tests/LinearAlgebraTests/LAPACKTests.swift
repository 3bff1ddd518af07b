import LinearAlgebra
import Testing

@Suite struct LAPACKTests {
  @Test(arguments: [(1, 1), (5, 5), (40, 7), (300, 30)])
  func qrHasOrthonormalQAndReproducesA(rows: Int, columns: Int) throws {
    let a = Matrix<Double>.randomNormal(rows, columns, seed: UInt64(rows))
    let (q, r) = try a.qr()
    #expect(q.shape == Shape(rows, columns))
    #expect(r.shape == Shape(columns, columns))
    #expect(matmul(q, q, transposeA: true).isApproximatelyEqual(to: .identity(columns), absoluteTolerance: 1e-12))
    #expect(matmul(q, r).isApproximatelyEqual(to: a, absoluteTolerance: 1e-12))
    for i in 0..<columns { for j in 0..<i { #expect(r[i, j] == 0) } }
  }

  @Test func qrInFloat() throws {
    let a = Matrix<Float>.randomNormal(50, 20, seed: 9)
    let (q, _) = try a.qr()
    #expect(matmul(q, q, transposeA: true).isApproximatelyEqual(to: .identity(20), absoluteTolerance: 1e-5))
  }

  @Test func solveSatisfiesTheSystem() throws {
    let a = try Matrix<Double>([[2, 1], [1, 3]])
    let x = try a.solve(Matrix(column: [3, 5]))
    // 2x + y = 3, x + 3y = 5 → x = 0.8, y = 1.4
    #expect(x.isApproximatelyEqual(to: Matrix(column: [0.8, 1.4]), absoluteTolerance: 1e-14))
    let big = Matrix<Double>.randomNormal(60, 60, seed: 1) + Matrix<Double>.identity(60) * 10
    let rhs = Matrix<Double>.randomNormal(60, 3, seed: 2)
    let sol = try big.solve(rhs)
    #expect((matmul(big, sol) - rhs).norm() < 1e-10)
  }

  @Test func singularMatrixThrows() {
    let a = try! Matrix<Double>([[1, 2], [2, 4]])
    #expect(throws: LinearAlgebraError.singular(routine: "gesv", pivot: 2)) { try a.solve(Matrix(column: [1, 1])) }
  }

  @Test func leastSquaresFitsALine() throws {
    // y = 2 + 3x sampled exactly: the fit recovers (2, 3).
    let xs: [Double] = [0, 1, 2, 3, 4]
    let a = Matrix<Double>(rows: 5, columns: 2) { i, j in j == 0 ? 1 : xs[i] }
    let y = Matrix<Double>(column: xs.map { 2 + 3 * $0 })
    let coef = try a.leastSquares(y)
    #expect(coef.isApproximatelyEqual(to: Matrix(column: [2, 3]), absoluteTolerance: 1e-12))
    // Noisy data: the residual is orthogonal to the columns of A (normal equations).
    let noisy = y + Matrix<Double>.randomNormal(5, 1, standardDeviation: 0.1, seed: 4)
    let fit = try a.leastSquares(noisy)
    let residual = noisy - matmul(a, fit)
    #expect(matmul(a, residual, transposeA: true).norm() < 1e-12)
  }

  @Test func rankDeficientLeastSquaresThrows() {
    let a = try! Matrix<Double>([[1, 0], [2, 0], [3, 0]])  // an all-zero column: R(2,2) is exactly 0
    #expect(throws: LinearAlgebraError.rankDeficient(routine: "gels", diagonal: 2)) {
      try a.leastSquares(Matrix(column: [1, 2, 3]))
    }
  }
}
