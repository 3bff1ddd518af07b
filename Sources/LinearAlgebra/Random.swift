#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit generator whose only use
/// here is to expand one seed into the 256-bit state of ``Xoshiro256StarStar``.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// xoshiro256** (Blackman and Vigna, 2018): the library's seeded generator.
///
/// Every random thing in BLASNet (initialisation, shuffling, dropout) draws
/// from this generator, so the same seed gives the same numbers on every run
/// and every platform: the state is seeded from SplitMix64, the outputs are
/// pure 64-bit integer arithmetic, and the conversions to floating point below
/// are exact. (The normal sampler uses `log`, `sqrt` and `cos` from the C
/// library; those are correctly rounded or nearly so on glibc, but a different
/// libm could differ in the last bit.)
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
  @usableFromInline var s0: UInt64
  @usableFromInline var s1: UInt64
  @usableFromInline var s2: UInt64
  @usableFromInline var s3: UInt64

  /// A generator whose state is four outputs of SplitMix64 seeded with `seed`.
  public init(seed: UInt64) {
    var sm = SplitMix64(seed: seed)
    s0 = sm.next()
    s1 = sm.next()
    s2 = sm.next()
    s3 = sm.next()
  }

  @inlinable
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }
}

extension RandomNumberGenerator {
  /// A uniform `Double` in [0, 1): the top 53 bits of the next output times 2⁻⁵³.
  @inlinable
  public mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal `Double` (mean 0, variance 1) by the Box–Muller
  /// transform of two uniforms, `√(−2 ln u₁)·cos(2π u₂)` with u₁ in (0, 1].
  ///
  /// It uses two outputs per sample and keeps no state between samples, so the
  /// n-th sample depends only on the generator's state and n. Any generator
  /// works; with ``Xoshiro256StarStar`` a seed gives the same samples everywhere.
  @inlinable
  public mutating func nextStandardNormal() -> Double {
    let u1 = 1 - nextUnitDouble()
    let u2 = nextUnitDouble()
    return (-2 * _cLog(u1)).squareRoot() * _cCos(2 * Double.pi * u2)
  }
}

@inlinable @inline(__always) func _cCos(_ x: Double) -> Double { cos(x) }

extension Matrix {
  /// A matrix of independent uniform samples in `[lower, upper)`, filled column by column.
  public static func randomUniform(
    _ rows: Int, _ columns: Int, in range: Range<Scalar> = 0..<1, using generator: inout some RandomNumberGenerator
  ) -> Matrix {
    let width = Double(range.upperBound - range.lowerBound)
    let low = Double(range.lowerBound)
    return Matrix(rows: rows, columns: columns) { _, _ in
      // Rounding to Float can land exactly on the upper bound; keep the interval half-open.
      let x = Scalar(low + width * generator.nextUnitDouble())
      return x < range.upperBound ? x : range.upperBound.nextDown
    }
  }

  /// A matrix of uniform samples in `[lower, upper)` from a fresh generator seeded with `seed`.
  public static func randomUniform(_ rows: Int, _ columns: Int, in range: Range<Scalar> = 0..<1, seed: UInt64) -> Matrix
  {
    var g = Xoshiro256StarStar(seed: seed)
    return randomUniform(rows, columns, in: range, using: &g)
  }

  /// A matrix of independent normal samples `mean + standardDeviation·N(0, 1)`, filled column by column.
  public static func randomNormal(
    _ rows: Int, _ columns: Int, mean: Scalar = 0, standardDeviation: Scalar = 1,
    using generator: inout some RandomNumberGenerator
  ) -> Matrix {
    let mu = Double(mean)
    let sigma = Double(standardDeviation)
    return Matrix(rows: rows, columns: columns) { _, _ in Scalar(mu + sigma * generator.nextStandardNormal()) }
  }

  /// Normal samples from a fresh generator seeded with `seed`.
  public static func randomNormal(
    _ rows: Int, _ columns: Int, mean: Scalar = 0, standardDeviation: Scalar = 1, seed: UInt64
  ) -> Matrix {
    var g = Xoshiro256StarStar(seed: seed)
    return randomNormal(rows, columns, mean: mean, standardDeviation: standardDeviation, using: &g)
  }
}

extension RandomNumberGenerator {
  /// Fisher–Yates shuffle of `0..<n` driven only by this generator (no
  /// dependence on the standard library's shuffle algorithm), so a seed of
  /// ``Xoshiro256StarStar`` gives the same permutation everywhere.
  public mutating func permutation(_ n: Int) -> [Int] {
    var p = Array(0..<n)
    shuffle(&p)
    return p
  }

  /// Shuffles `array` in place by Fisher–Yates. Inlinable so that callers
  /// get it specialised: unspecialised, each `swapAt` of an unknown `T` took
  /// a heap temporary (3,200 mallocs an epoch on 3,200 training rows).
  @inlinable
  public mutating func shuffle<T>(_ array: inout [T]) {
    if array.count < 2 { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
      let j = Int(nextBounded(UInt64(i + 1)))
      array.swapAt(i, j)
    }
  }

  /// A uniform integer in `0..<bound` by Lemire's multiply-and-reject method.
  public mutating func nextBounded(_ bound: UInt64) -> UInt64 {
    if bound == 0 { shapeFailure("nextBounded: bound must be positive, got 0") }
    let threshold = (0 &- bound) % bound
    while true {
      let r = next().multipliedFullWidth(by: bound)
      if r.low >= threshold { return r.high }
    }
  }
}
