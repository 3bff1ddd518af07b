import LinearAlgebra
import Testing

/// Reference values from an independent Python implementation of the
/// published SplitMix64 and xoshiro256** algorithms (64-bit integer arithmetic
/// masked to 2⁶⁴, the same seeding from SplitMix64).
@Suite struct RandomTests {
  @Test func splitMix64MatchesTheReference() {
    var g = SplitMix64(seed: 0)
    #expect([g.next(), g.next(), g.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
  }

  @Test func xoshiroMatchesTheReference() {
    var g = Xoshiro256StarStar(seed: 42)
    #expect(
      [g.next(), g.next(), g.next(), g.next()] == [
        1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009, 17_057_574_109_182_124_193,
      ])
  }

  @Test func uniformAndNormalMatchTheReference() {
    var g = Xoshiro256StarStar(seed: 7)
    #expect(
      [g.nextUnitDouble(), g.nextUnitDouble(), g.nextUnitDouble()] == [
        0.7005764821796896, 0.2787512294737843, 0.8396274618764198,
      ])
    var h = Xoshiro256StarStar(seed: 7)
    let normals = [h.nextStandardNormal(), h.nextStandardNormal(), h.nextStandardNormal()]
    let expected = [-0.2790239910251981, 1.8997685786889567, 2.136306014732201]
    for (x, e) in zip(normals, expected) { #expect(abs(x - e) < 1e-14) }
  }

  @Test func sameSeedSameMatrices() {
    #expect(Matrix<Float>.randomNormal(20, 30, seed: 11) == Matrix<Float>.randomNormal(20, 30, seed: 11))
    #expect(Matrix<Float>.randomNormal(20, 30, seed: 11) != Matrix<Float>.randomNormal(20, 30, seed: 12))
    let u = Matrix<Double>.randomUniform(4, 1, in: -1..<1, seed: 7)
    #expect(abs(u[0, 0] - (-1 + 2 * 0.7005764821796896)) < 1e-15)
  }

  @Test func momentsAreRight() {
    let n = Matrix<Double>.randomNormal(200, 500, mean: 3, standardDeviation: 2, seed: 1)
    let mean = n.mean()
    let variance = (n - mean).map { $0 * $0 }.mean()
    // 100 000 samples: standard error of the mean 0.0063, of the variance ≈ 0.018.
    #expect(abs(mean - 3) < 0.03)
    #expect(abs(variance - 4) < 0.1)
    let u = Matrix<Float>.randomUniform(100, 100, in: 2..<5, seed: 3)
    #expect(u.elements.allSatisfy { $0 >= 2 && $0 < 5 })
    #expect(abs(u.mean() - 3.5) < 0.03)
  }

  @Test func permutationIsAPermutationAndSeeded() {
    var g = Xoshiro256StarStar(seed: 5)
    let p = g.permutation(100)
    #expect(p.sorted() == Array(0..<100))
    #expect(p != Array(0..<100))
    var h = Xoshiro256StarStar(seed: 5)
    #expect(h.permutation(100) == p)
  }
}
