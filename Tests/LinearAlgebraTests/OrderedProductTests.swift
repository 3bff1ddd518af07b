import LinearAlgebra
import Testing

/// The ordered products against a reference written here: each element one
/// chain of `addingProduct` (a fused multiply-add) in ascending k from +0.
@Suite struct OrderedProductTests {
  /// Shapes (m, n, k) that reach every tile of the vector code: full and
  /// masked rows (1, 7, 8, 9, 16, 17, 30, 32, 33, 40, 70), full and short
  /// column tiles, one or two columns (the tall tiles), more rows than
  /// columns and the reverse (the two loop orders), k = 0 and k = 1.
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 37, 8), (7, 3, 5), (8, 8, 30), (9, 12, 4), (16, 16, 1), (17, 9, 13), (30, 1000, 30),
    (32, 7, 64), (33, 25, 3), (40, 19, 155), (5, 4, 0), (33, 1, 17), (70, 2, 9), (64, 3, 5), (17, 4, 6),
  ]

  /// Values spread over several binades with both signs, so that orders of
  /// summation that differ show in the last bits.
  func values<S: BLASScalar>(_ count: Int, seed: UInt64, as: S.Type) -> [S] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in
      let u = S(Double(g.next() >> 11) / Double(1 << 53))
      let scale = S(1 << Int(g.next() % 8))
      return (u - S(0.5)) * scale
    }
  }

  /// `C = A·B` for column-major A (m×k, lda) and B (k×n, ldb), element by element.
  func reference<S: BLASScalar>(_ m: Int, _ n: Int, _ k: Int, _ a: [S], lda: Int, _ b: [S], ldb: Int) -> [S] {
    var c = [S](repeating: 0, count: m * n)
    for j in 0..<n {
      for i in 0..<m {
        var sum: S = 0
        for p in 0..<k { sum.addProduct(a[i + p * lda], b[p + j * ldb]) }
        c[i + j * m] = sum
      }
    }
    return c
  }

  /// The same bits: sign, exponent and significand.
  func identical<S: BLASScalar>(_ x: S, _ y: S) -> Bool {
    x.sign == y.sign && x.exponentBitPattern == y.exponentBitPattern
      && x.significandBitPattern == y.significandBitPattern
  }

  func checkEveryVariant<S: BLASScalar>(_: S.Type) {
    for (m, n, k) in Self.shapes {
      // Leading dimensions larger than the rows: the code must step by them.
      let (lda, ldb) = (m + 3, k + 2)
      let a: [S] = values(lda * Swift.max(k, 1), seed: UInt64(m * 31 + k), as: S.self)
      let b: [S] = values(ldb * n, seed: UInt64(n * 17 + k + 5), as: S.self)
      let expected = reference(m, n, k, a, lda: lda, b, ldb: ldb)
      for variant in OrderedProducts.Variant.allCases where OrderedProducts.supports(variant) {
        var c = [S](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { ap in
          b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
              OrderedProducts.multiply(
                m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!,
                ldc: m, variant: variant)
            }
          }
        }
        let differing = (0..<(m * n)).filter { !identical(c[$0], expected[$0]) }
        #expect(
          differing.isEmpty,
          "\(S.self) \(m)×\(n)×\(k) \(variant): \(differing.count) elements differ from the fused chain, first at \(differing.first ?? -1)"
        )
      }
    }
  }

  @Test func everyVariantGivesTheFusedChainBitForBitInFloat() { checkEveryVariant(Float.self) }

  @Test func everyVariantGivesTheFusedChainBitForBitInDouble() { checkEveryVariant(Double.self) }

  @Test func aColumnAloneComesOutAsInABatch() {
    let a = Matrix<Float>.randomNormal(30, 155, seed: 3)
    let b = Matrix<Float>.randomNormal(155, 1000, seed: 4)
    let batch = a.orderedProduct(b)
    for j in [0, 1, 7, 8, 500, 999] {
      let alone = a.orderedProduct(b.column(j))
      for i in 0..<30 { #expect(alone[i, 0].bitPattern == batch[i, j].bitPattern, "row \(i) of column \(j)") }
    }
  }

  @Test func theProductIsTheProductUpToRounding() {
    let a = Matrix<Double>.randomNormal(33, 40, seed: 1)
    let b = Matrix<Double>.randomNormal(40, 21, seed: 2)
    #expect(a.orderedProduct(b).isApproximatelyEqual(to: matmul(a, b), absoluteTolerance: 1e-12))
    // No columns, no rows, or k = 0 (a product of zeros).
    #expect(Matrix<Double>.zeros(3, 0).orderedProduct(.zeros(0, 4)) == .zeros(3, 4))
    #expect(Matrix<Double>.zeros(0, 5).orderedProduct(.zeros(5, 4)).shape == Shape(0, 4))
  }
}
