import LinearAlgebra
import Testing

/// Each shape mismatch is a programmer error: the process traps, and the
/// message (kept in release builds because it goes through `fatalError`)
/// names the operation and both shapes.
@Suite struct ShapeTrapTests {
  /// Checks that the child process's standard error holds every fragment.
  func expectMessage(
    _ result: ExitTest.Result?, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let result = try #require(result, sourceLocation: sourceLocation)
    let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
    for f in fragments {
      #expect(stderr.contains(f), "stderr lacks \"\(f)\": \(stderr.prefix(600))", sourceLocation: sourceLocation)
    }
  }

  @Test func matmulInnerDimension() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = matmul(Matrix<Float>.zeros(2, 3), Matrix<Float>.zeros(4, 5))
      }, ["matmul", "2×3", "4×5"])
  }

  @Test func matmulTransposedNamesStoredAndUsedShape() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = matmul(Matrix<Float>.zeros(3, 2), Matrix<Float>.zeros(2, 5), transposeA: true)
      }, ["matmul", "3×2 (transposed: 2×3)", "2×5"])
  }

  @Test func gemmOutputShape() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var c = Matrix<Float>.zeros(2, 2)
        gemm(Matrix<Float>.zeros(2, 3), Matrix<Float>.zeros(3, 4), into: &c)
      }, ["gemm", "C is 2×2", "2×3", "3×4"])
  }

  @Test func elementwiseNeverBroadcasts() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Matrix<Float>.zeros(1, 5) + Matrix<Float>.zeros(1, 1)
      }, ["+", "1×1", "1×5", "no implicit broadcasting"])
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var a = Matrix<Double>.zeros(3, 4)
        a *= Matrix<Double>.zeros(4, 3)
      }, ["*=", "3×4", "4×3"])
  }

  @Test func columnBroadcastNeedsAColumn() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var z = Matrix<Float>.zeros(4, 10)
        z.addColumnToEachColumn(Matrix<Float>.zeros(1, 4))
      }, ["addColumnToEachColumn", "4×10", "1×4"])
  }

  @Test func matvecAndDot() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = matvec(Matrix<Float>.zeros(3, 2), Matrix<Float>.zeros(3, 1))
      }, ["matvec", "3×2", "3×1"])
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = dot(Matrix<Float>.zeros(2, 2), Matrix<Float>.zeros(4, 1))
      }, ["dot", "2×2", "4×1"])
  }

  @Test func subscriptOutOfRange() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Matrix<Float>.zeros(2, 2)[2, 0]
      }, ["subscript", "(2, 0)", "2×2"])
  }

  @Test func lapackShapes() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = try? Matrix<Double>.identity(3).solve(Matrix<Double>.zeros(2, 1))
      }, ["solve", "3×3", "2×1"])
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = try? Matrix<Double>.zeros(2, 5).qr()
      }, ["qr", "2×5"])
  }

  @Test func dimensionsBeyondBLASIntegers() async throws {
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Matrix<Float>.zeros(1, Int(Int32.max) + 1)
      }, ["32-bit", "2147483648"])
    try expectMessage(
      await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Matrix<Float>.zeros(-1, 3)
      }, ["non-negative", "-1×3"])
  }
}
