import Foundation
import LinearAlgebra
import Tabular

/// `DecimalNumber.parse` (the CSV and record readers' numbers) against
/// glibc's `strtod` on random and adversarial strings: the same bits, or
/// both refusing.
public enum NumberCheck {
  /// Strings chosen to break a fast path: halfway and near-halfway cases at
  /// 2⁵³, exponents at and past ±22 and at the limits of Double, subnormals,
  /// long mantissas, leading zeros, signs, blanks, `inf`/`nan` spellings,
  /// hexadecimal, and malformed forms.
  public static let adversarial: [String] = [
    "0", "-0", "+0", "0.0", "-0.0", "00000000000000000000000000001", "1.", ".5", "-.5", "+.5", ".", "+", "-", "",
    "e5", "1e", "1e+", "1e-", "1.5e", "1..5", "1.5.5", "--1", "+-1", "1e5.5", " 1", "1 ", "\t1", "1\t", "1,5",
    "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995", "-9007199254740993",
    "900719925474099.3", "90071992547409.93e2", "9007199254740993e-16", "4503599627370497.5",
    "1e22", "1e23", "1e-22", "1e-23", "9e22", "9.999999999999999e22", "123456789e14", "123456789e-14",
    "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
    "1e308", "1e309", "-1e309", "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9406564584124654e-324",
    "2.4703282292062327e-324", "2.4703282292062328e-324", "5e-324", "1e-325", "1e-400", "1e-99999999999",
    "1e99999999999", "0.1", "0.2", "0.3", "0.7", "3.14159265358979323846264338327950288", "1.0000000000000002",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.000000000000000111022302462515654042363166809082031250001",
    "0.000000000000000000000000000000000000000000000000000000000000000000000000000001",
    "123456789012345678901234567890",
    "0.1234567890123456789", "12345678901234567", "1234567890123456.7", "7.2057594037927933e16",
    "inf", "-inf", "+inf", "INF", "Infinity", "-Infinity", "infinity", "nan", "NaN", "-nan", "NAN", "nan(123)",
    "0x1p3", "0X1P-3", "0x1.8", "0x", "1e0000000000000000000000005", "1E5", "1e+05", "1E-05", "+1.5E+3",
  ]

  /// A random decimal: 1 to 24 digits (leading zeros now and then), a point
  /// anywhere or nowhere, an exponent of −340 to 340 or none, a sign or none.
  static func randomString(_ g: inout Xoshiro256StarStar) -> String {
    var s = ""
    switch g.next() % 4 {
    case 0: s += "-"
    case 1: s += "+"
    default: break
    }
    let digits = 1 + Int(g.next() % 24)
    let point = Int(g.next() % UInt64(digits + 2))
    if g.next() % 8 == 0 { s += String(repeating: "0", count: 1 + Int(g.next() % 5)) }
    for k in 0..<digits {
      if k == point { s += "." }
      s += String(g.next() % 10)
    }
    if point == digits { s += "." }
    switch g.next() % 3 {
    case 0:
      s += g.next() % 2 == 0 ? "e" : "E"
      let e = Int(g.next() % 681) - 340
      s += e < 0 ? String(e) : (g.next() % 2 == 0 ? "+" : "") + String(e)
    case 1:
      // Exponents where the fast path decides.
      s += "e" + String(Int(g.next() % 47) - 23)
    default: break
    }
    return s
  }

  /// What `strtod` reads from all of `text` (nil when it stops early).
  public static func strtodValue(_ text: String) -> Double? {
    text.withCString { start -> Double? in
      var end: UnsafeMutablePointer<CChar>?
      let value = strtod(start, &end)
      return !text.isEmpty && end == UnsafeMutablePointer(mutating: start) + text.utf8.count ? value : nil
    }
  }

  /// Whether two readings agree: both nil, both NaN, or the same bits.
  public static func agree(_ a: Double?, _ b: Double?) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case (let x?, let y?): x.isNaN ? y.isNaN : x.bitPattern == y.bitPattern
    default: false
    }
  }

  /// The adversarial strings and `count` random ones (from `seed`) read
  /// both ways: how many were checked and the first disagreements (at most 20).
  public static func run(count: Int, seed: UInt64 = 1) -> (checked: Int, mismatches: [String]) {
    var g = Xoshiro256StarStar(seed: seed)
    var mismatches: [String] = []
    var checked = 0
    func check(_ text: String) {
      checked += 1
      let ours = DecimalNumber.parse(text[...])
      let theirs = strtodValue(text)
      if !agree(ours, theirs) && mismatches.count < 20 {
        mismatches.append(
          "\(text): \(ours.map { "\($0)" } ?? "nil") against strtod's \(theirs.map { "\($0)" } ?? "nil")")
      }
    }
    for text in adversarial { check(text) }
    for _ in 0..<count { check(randomString(&g)) }
    return (checked, mismatches)
  }

  /// Nanoseconds a string, ours and `strtod`'s, over `count` table-like
  /// numbers (up to 8 digits with a point somewhere, a sign now and then),
  /// laid out one after the other in one buffer, each followed by a NUL
  /// for strtod, so that neither pays for scattered memory; and whether the
  /// two sums of what they read are equal (the same values, in order).
  public static func timing(count: Int, seed: UInt64 = 2) -> (ours: Double, strtod: Double, sameSums: Bool) {
    var g = Xoshiro256StarStar(seed: seed)
    var buffer: [UInt8] = []
    var spans: [(start: Int, end: Int)] = []
    for _ in 0..<count {
      let digits = String(g.next() % 100_000_000)
      let point = Int(g.next() % UInt64(digits.count + 1))
      let sign = g.next() % 5 == 0 ? "-" : ""
      let start = buffer.count
      buffer += Array((sign + digits.prefix(point) + "." + digits.dropFirst(point)).utf8)
      spans.append((start, buffer.count))
      buffer.append(0)
    }
    var (sum, sumOfStrtod) = (0.0, 0.0)
    let (a, b, c) = buffer.withUnsafeBufferPointer { all in
      let a = ContinuousClock.now
      for (start, end) in spans { sum += DecimalNumber.parse(UnsafeBufferPointer(rebasing: all[start..<end])) ?? 0 }
      let b = ContinuousClock.now
      all.withMemoryRebound(to: CChar.self) { chars in
        for (start, _) in spans { sumOfStrtod += strtod(chars.baseAddress! + start, nil) }
      }
      return (a, b, ContinuousClock.now)
    }
    func ns(_ d: Duration) -> Double {
      (Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9) / Double(Swift.max(count, 1))
    }
    return (ns(b - a), ns(c - b), sum == sumOfStrtod)
  }
}
