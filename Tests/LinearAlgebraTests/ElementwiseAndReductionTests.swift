import LinearAlgebra
import Testing

@Suite struct ElementwiseAndReductionTests {
  let a = try! Matrix<Double>([[1, 2, 3], [4, 5, 6]])
  let b = try! Matrix<Double>([[6, 5, 4], [3, 2, 1]])

  @Test func arithmetic() throws {
    #expect(a + b == Matrix(rows: 2, columns: 3, repeating: 7))
    #expect((a - b).rowArrays == [[-5, -3, -1], [1, 3, 5]])
    #expect((a * b).rowArrays == [[6, 10, 12], [12, 10, 6]])
    #expect((a / b).rowArrays == [[1.0 / 6, 0.4, 0.75], [4.0 / 3, 2.5, 6]])
    #expect((a * 2).rowArrays == [[2, 4, 6], [8, 10, 12]])
    #expect((1 - a).rowArrays == [[0, -1, -2], [-3, -4, -5]])
    #expect((-a).rowArrays == [[-1, -2, -3], [-4, -5, -6]])
    #expect(a.map { $0 * $0 }.rowArrays == [[1, 4, 9], [16, 25, 36]])
    var c = a
    c.addScaled(b, alpha: -1)
    #expect(c == a - b)
    c -= 1
    c /= 2
    #expect(c.rowArrays == [[-3, -2, -1], [0, 1, 2]])
  }

  @Test func explicitColumnBroadcast() {
    let z = a.addingColumnToEachColumn(Matrix(column: [10, 20]))
    #expect(z.rowArrays == [[11, 12, 13], [24, 25, 26]])
  }

  @Test func reductions() {
    #expect(a.sum() == 21)
    #expect(a.mean() == 3.5)
    #expect(a.sumOfEachRow() == Matrix(column: [6, 15]))
    #expect(a.sumOfEachColumn() == Matrix(row: [5, 7, 9]))
    var scaled = Matrix<Double>.zeros(2, 1)
    a.sumOfEachRow(into: &scaled, scale: 0.5)
    #expect(scaled == Matrix(column: [3, 7.5]))
    let m = try! Matrix<Float>([[1, 9, 3], [7, 2, 3], [0, 9, 8]])
    #expect(m.argmaxOfEachColumn() == [1, 0, 2])  // first maximum wins the tie in column 1
    #expect(m.maxOfEachColumn() == Matrix(row: [7, 9, 8]))
    #expect(abs(a.norm() - 91.0.squareRoot()) < 1e-12)
    #expect(Matrix<Float>.zeros(0, 3).sum() == 0)
    #expect(!(Matrix<Float>(row: [1, .infinity]).isFinite))
  }
}
