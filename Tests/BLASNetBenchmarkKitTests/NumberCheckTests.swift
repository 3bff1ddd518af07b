import Foundation
import Tabular
import Testing

@testable import BLASNetBenchmarkKit

/// Issue 33 (1): the readers' numbers (`DecimalNumber`) are `strtod`'s, bit
/// for bit, and so are their refusals.
@Suite struct NumberCheckTests {
  func parse(_ text: String) -> Double? { DecimalNumber.parse(text[...]) }

  /// Values by hand: the fast path's exact ones, the halfway case at 2⁵³
  /// (ties to even), exponents past ±22 (strtod's), and what strtod skips or
  /// refuses.
  @Test func knownStringsReadAsStrtodReadsThem() throws {
    #expect(parse("123.456") == 123.456)
    #expect(parse("-0.001") == -0.001)
    #expect(parse("+.5") == 0.5 && parse("7.") == 7)
    #expect(try #require(parse("-0")).sign == .minus)
    #expect(parse("9007199254740993") == 9_007_199_254_740_992)
    #expect(parse("9007199254740995") == 9_007_199_254_740_996)
    #expect(parse("1e22") == 1e22 && parse("1e23") == 1e23 && parse("1e-23") == 1e-23)
    #expect(parse("1e309") == .infinity && parse("1e-400") == 0)
    #expect(parse("4.9406564584124654e-324") == .leastNonzeroMagnitude)
    #expect(parse("inf") == .infinity && parse("-Infinity") == -.infinity)
    #expect(try #require(parse("nan")).isNaN)
    #expect(parse("0x1p3") == 8)
    // strtod skips leading blanks but does not read trailing ones.
    #expect(parse(" 1") == 1 && parse("\t2") == 2)
    for refused in ["", "1 ", "1e", "1e+", ".", "+", "1..5", "1,5", "e5", "--1"] {
      #expect(parse(refused) == nil, "\(refused)")
    }
  }

  /// The fast path decides only the plain forms it computes exactly and
  /// leaves the rest to strtod (nil): 17 significant digits, 2⁵³ + 1,
  /// exponents beyond ±22, blanks, words.
  @Test func theFastPathLeavesWhatItCannotComputeExactly() {
    func fast(_ text: String) -> Double? {
      Array(text.utf8).withUnsafeBufferPointer { DecimalNumber.fastPath($0) }
    }
    #expect(fast("123.456") == 123.456 && fast("-1.5e-3") == -0.0015 && fast("0001.25") == 1.25)
    #expect(fast("9007199254740992") == 9_007_199_254_740_992)
    for left in ["9007199254740993", "12345678901234567", "1e23", "1e-23", "0.1e-22", " 1", "inf", "0x10"] {
      #expect(fast(left) == nil, "\(left)")
    }
  }

  /// The adversarial strings and 200,000 random ones agree with strtod
  /// (`blasnet-bench --numbers N` runs more in release).
  @Test func randomAndAdversarialStringsAgreeWithStrtod() {
    let (checked, mismatches) = NumberCheck.run(count: 200_000, seed: 3)
    #expect(checked == 200_000 + NumberCheck.adversarial.count)
    #expect(mismatches.isEmpty, "\(mismatches)")
  }
}
