import LinearAlgebra
import Testing

@Suite struct CopyOnWriteTests {
  func address<S>(_ m: Matrix<S>) -> UnsafePointer<S> { m.withUnsafeBufferPointer { $0.baseAddress! } }

  @Test func aCopyIsIndependent() {
    var a = Matrix<Float>.ones(3, 3)
    let b = a
    #expect(address(a) == address(b))  // shared until written
    a[0, 0] = 5
    #expect(b[0, 0] == 1)
    #expect(a[0, 0] == 5)
    #expect(address(a) != address(b))
  }

  @Test func aUniqueMatrixIsMutatedInPlace() {
    var a = Matrix<Float>.ones(64, 64)
    let before = address(a)
    a += Matrix<Float>.ones(64, 64)
    a *= 3
    a.addColumnToEachColumn(Matrix<Float>.ones(64, 1))
    gemm(Matrix<Float>.identity(64), Matrix<Float>.ones(64, 64), beta: 1, into: &a)
    #expect(address(a) == before)
    #expect(a[10, 20] == 8)
  }

  @Test func gemmIntoASharedOutputLeavesTheOtherCopyAlone() {
    var c = Matrix<Double>.zeros(2, 2)
    let saved = c
    gemm(Matrix<Double>.identity(2), Matrix<Double>.ones(2, 2), into: &c)
    #expect(saved == .zeros(2, 2))
    #expect(c == .ones(2, 2))
  }
}
