import Dispatch
import Foundation
import LinearAlgebra
import Synchronization
import Testing

/// Shapes (m, n, k) that cover 1×1, odd sizes, tall, wide and a size past BLAS's blocking.
let productShapes: [(Int, Int, Int)] = [
  (1, 1, 1), (1, 5, 3), (5, 1, 3), (3, 3, 1), (2, 3, 4), (7, 5, 3), (17, 9, 33), (64, 1, 64), (1, 64, 64),
  (130, 70, 3), (3, 129, 200), (100, 100, 100),
]
let transposes: [(Transpose, Transpose)] = [
  (.none, .none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed),
]

/// Stored operands for `op(A)` m×k and `op(B)` k×n.
func operands<S: BLASScalar>(
  _ m: Int, _ n: Int, _ k: Int, _ opA: Transpose, _ opB: Transpose, seed: UInt64, as: S.Type = S.self
) -> (Matrix<S>, Matrix<S>) {
  var g = Xoshiro256StarStar(seed: seed)
  let a =
    opA == .none ? Matrix<S>.randomUniform(m, k, in: -1..<1, using: &g) : .randomUniform(k, m, in: -1..<1, using: &g)
  let b =
    opB == .none ? Matrix<S>.randomUniform(k, n, in: -1..<1, using: &g) : .randomUniform(n, k, in: -1..<1, using: &g)
  return (a, b)
}

@Suite struct ProductTests {
  @Test func handComputedProduct() throws {
    let a = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
    let b = try Matrix<Float>([[7, 8], [9, 10], [11, 12]])
    // [1·7+2·9+3·11, 1·8+2·10+3·12; 4·7+5·9+6·11, 4·8+5·10+6·12]
    #expect(matmul(a, b) == (try Matrix<Float>([[58, 64], [139, 154]])))
    // Aᵀ·A is 3×3: column sums of products.
    #expect(matmul(a, a, transposeA: true) == (try Matrix<Float>([[17, 22, 27], [22, 29, 36], [27, 36, 45]])))
    #expect(matmul(a, a, transposeB: true) == (try Matrix<Float>([[14, 32], [32, 77]])))
  }

  @Test(arguments: productShapes)
  func blasAgreesWithNaiveInFloat(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (i, (opA, opB)) in transposes.enumerated() {
      let (a, b) = operands(m, n, k, opA, opB, seed: UInt64(m * 1000 + n * 10 + i), as: Float.self)
      let fast = matmul(a, b, transposeA: opA == .transposed, transposeB: opB == .transposed)
      let slow = Naive.matmul(a, b, transposeA: opA == .transposed, transposeB: opB == .transposed)
      #expect(fast.shape == Shape(m, n))
      // Each element sums k products of magnitude ≤ 1; float rounding grows like k·ε.
      let tolerance = Float(k) * 4 * Float.ulpOfOne
      #expect(
        fast.isApproximatelyEqual(to: slow, absoluteTolerance: tolerance),
        "\(m)×\(n)×\(k) \(opA)/\(opB): max difference \(fast.maxAbsoluteDifference(slow)) > \(tolerance)")
    }
  }

  @Test(arguments: productShapes)
  func gemmWithAlphaBetaAgreesWithNaiveInDouble(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (opA, opB) in transposes {
      let (a, b) = operands(m, n, k, opA, opB, seed: 99, as: Double.self)
      let c0 = Matrix<Double>.randomNormal(m, n, seed: 5)
      var fast = c0
      var slow = c0
      gemm(alpha: 0.5, a, b, transposeA: opA == .transposed, transposeB: opB == .transposed, beta: -2, into: &fast)
      Naive.gemm(
        alpha: 0.5, a, b, transposeA: opA == .transposed, transposeB: opB == .transposed, beta: -2, into: &slow)
      #expect(fast.isApproximatelyEqual(to: slow, absoluteTolerance: 1e-12))
      // Independent of both kernels: alpha·(AB) + beta·C0 from a plain product.
      let expected = matmul(a, b, transposeA: opA == .transposed, transposeB: opB == .transposed) * 0.5 + c0 * -2
      #expect(fast.isApproximatelyEqual(to: expected, absoluteTolerance: 1e-12))
    }
  }

  @Test func betaZeroIgnoresNaNInOutput() {
    let a = Matrix<Float>.ones(2, 2)
    var c = Matrix<Float>(rows: 2, columns: 2, repeating: .nan)
    gemm(a, a, into: &c)
    #expect(c == Matrix<Float>(rows: 2, columns: 2, repeating: 2))
  }

  @Test func emptyInnerDimensionScalesOutput() {
    let a = Matrix<Float>.zeros(3, 0)
    let b = Matrix<Float>.zeros(0, 2)
    var c = Matrix<Float>.ones(3, 2)
    gemm(a, b, beta: 3, into: &c)
    #expect(c == Matrix<Float>(rows: 3, columns: 2, repeating: 3))
    #expect(matmul(a, b) == Matrix<Float>.zeros(3, 2))
  }

  @Test func columnRangeIsAnOperandWithoutCopy() {
    let x = Matrix<Float>.randomNormal(6, 10, seed: 3)
    let w = Matrix<Float>.randomNormal(4, 6, seed: 4)
    let batch = x.columnRange(3..<7)
    #expect(batch.shape == Shape(6, 4))
    #expect(batch[2, 1] == x[2, 4])
    // The view reads the parent's buffer: same base address plus the column offset.
    let parentBase = x.withUnsafeBufferPointer { $0.baseAddress! }
    let viewBase = batch.withUnsafeBufferPointer { $0.baseAddress! }
    #expect(viewBase == parentBase + 3 * 6)
    #expect(matmul(w, batch) == matmul(w, batch.copy()))
    #expect(matmul(w, batch).isApproximatelyEqual(to: Naive.matmul(w, batch), absoluteTolerance: 1e-5))
  }

  @Test func matvecAndDot() throws {
    let a = try Matrix<Double>([[1, 2], [3, 4], [5, 6]])
    let x = Matrix<Double>(column: [1, -1])
    #expect(matvec(a, x) == Matrix(column: [-1, -1, -1]))
    #expect(matvec(a, Matrix(column: [1, 1, 1]), transposeA: true) == Matrix(column: [9, 12]))
    #expect(dot(Matrix<Double>(column: [1, 2, 3]), Matrix<Double>(row: [4, 5, 6])) == 32)
    let u = Matrix<Float>.randomNormal(1000, 1, seed: 1)
    let v = Matrix<Float>.randomNormal(1000, 1, seed: 2)
    #expect(abs(dot(u, v) - Naive.dot(u, v)) < 1e-3)
  }
}

/// OpenBLAS's thread count is one setting for the whole process, and Swift
/// Testing runs suites in parallel: every test that sets it (or reads it and
/// expects a value) holds this lock, and the count it had is back afterwards.
let blasThreadCountLock = NSLock()

/// Runs `body` with BLAS set to `threads` threads, no other test changing it meanwhile.
func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
  blasThreadCountLock.lock()
  defer { blasThreadCountLock.unlock() }
  let saved = BLAS.threadCount
  BLAS.threadCount = threads
  defer { BLAS.threadCount = saved }
  return try body()
}

@Suite struct ThreadCountTests {
  @Test func threadCountCanBeReadAndSet() {
    let original = blasThreadCountLock.withLock { BLAS.threadCount }
    #expect(original >= 1)
    withBLASThreads(1) { #expect(BLAS.threadCount == 1) }
    #expect(blasThreadCountLock.withLock { BLAS.threadCount } == original)
    #expect(BLAS.configuration.contains(BLAS.name))
    #expect(!BLAS.kernel.isEmpty)
  }

  @Test(arguments: [(20, 209, 300), (3, 1000, 7), (1, 2, 5), (5, 1, 4), (64, 77, 1)])
  func splitProductsAgreeWithNaive(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    // Two threads, so that the columns are really split, whatever the machine.
    withBLASThreads(2) {
      for (opA, opB) in transposes {
        let (a, b) = operands(m, n, k, opA, opB, seed: 3, as: Double.self)
        let c0 = Matrix<Double>.randomNormal(m, n, seed: 8)
        var split = c0
        var slow = c0
        let (ta, tb) = (opA == .transposed, opB == .transposed)
        gemmSplittingColumns(alpha: 1.5, a, b, transposeA: ta, transposeB: tb, beta: 0.5, into: &split)
        Naive.gemm(alpha: 1.5, a, b, transposeA: ta, transposeB: tb, beta: 0.5, into: &slow)
        #expect(split.isApproximatelyEqual(to: slow, absoluteTolerance: 1e-11), "\(m)×\(n)×\(k) \(opA)/\(opB)")
        #expect(BLAS.threadCount == 2)  // restored after the call
      }
    }
  }
}

@Suite struct GEMVTests {
  @Test func gemvIntoAnExistingVector() throws {
    let a = try Matrix<Double>([[1, 2], [3, 4], [5, 6]])
    var y = Matrix<Double>(column: [1, 1, 1])
    gemv(alpha: 2, a, Matrix(column: [1, -1]), beta: 3, into: &y)
    #expect(y == Matrix(column: [1, 1, 1]))  // 2·(−1) + 3 = 1 for each row
    var z = Matrix<Double>.zeros(2, 1)
    let view = Matrix<Double>(column: [1, 1, 1]).allColumns
    gemv(a, view, transposeA: true, into: &z)
    #expect(z == Matrix(column: [9, 12]))
  }
}

@Suite struct ConcurrentSplitProductTests {
  /// Overlapping gemmSplittingColumns calls from many threads leave OpenBLAS
  /// with the thread count it had, and each result equals plain gemm's.
  @Test func overlappingCallersRestoreTheThreadCount() throws {
    withBLASThreads(2) {
      let a = Matrix<Float>.randomUniform(8, 300, in: -1..<1, seed: 3)
      let b = Matrix<Float>.randomUniform(300, 64, in: -1..<1, seed: 4)
      var product = Matrix<Float>.zeros(8, 64)
      gemm(a, b, into: &product)
      let expected = product
      let mismatches = Mutex(0)
      DispatchQueue.concurrentPerform(iterations: 400) { _ in
        var c = Matrix<Float>.zeros(8, 64)
        gemmSplittingColumns(a, b, into: &c)
        if !c.isApproximatelyEqual(to: expected, absoluteTolerance: 1e-4) { mismatches.withLock { $0 += 1 } }
        #expect(BLAS.threadCount == 2)
      }
      #expect(mismatches.withLock { $0 } == 0)
      #expect(BLAS.threadCount == 2)
    }
  }
}
