import Foundation

/// Numbers in text, read as `strtod` reads them, to the same bits, without
/// its cost for the forms a table holds.
///
/// A field of the plain decimal form `[+-]digits[.digits][(e|E)[+-]digits]`
/// whose significant digits fit in 2⁵³ and whose decimal exponent is at
/// most 22 either way is computed with one exact conversion and one
/// correctly rounded multiplication or division by an exact power of ten
/// (Clinger's fast path, 1990): the result is the correctly rounded value,
/// which is what glibc's `strtod` returns. Everything else (more digits,
/// larger exponents, blanks, hexadecimal, `inf`, `nan`, anything not a
/// number) goes to `strtod` itself, so what is accepted and refused does not
/// change. `blasnet-bench --numbers N` checks N random and adversarial
/// strings against `strtod`.
package enum DecimalNumber {
  /// The value of all of `bytes`, or nil when `strtod` would not read all of them.
  package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    if let value = fastPath(bytes) { return value }
    return slowPath(bytes)
  }

  /// The value of all of `text`, as `parse(_:)` reads its UTF-8 bytes.
  package static func parse(_ text: Substring) -> Double? {
    var text = text
    return text.withUTF8 { parse($0) }
  }

  /// 10⁰ … 10²², each exact in a Double.
  static let powers: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
  ]

  /// The value of a plain decimal whose digits fit in 2⁵³ and whose
  /// exponent is within ±22, or nil (for `slowPath(_:)` to decide).
  @inline(__always)
  package static func fastPath(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
    let n = b.count
    var i = 0
    var negative = false
    if i < n && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
      negative = b[i] == UInt8(ascii: "-")
      i += 1
    }
    var mantissa: UInt64 = 0
    var significant = 0  // digits in the mantissa, leading zeros not counted
    var digits = 0  // digits before the exponent, zeros included
    var scale = 0  // digits after the point
    // Reads a run of digits into the mantissa: false past 19 significant ones.
    func run(afterPoint: Bool) -> Bool {
      while i < n, b[i] &- UInt8(ascii: "0") < 10 {
        let d = UInt64(b[i] &- UInt8(ascii: "0"))
        if mantissa != 0 || d != 0 { significant += 1 }
        if significant > 19 { return false }
        mantissa = mantissa &* 10 &+ d
        digits += 1
        if afterPoint { scale += 1 }
        i += 1
      }
      return true
    }
    if !run(afterPoint: false) { return nil }
    if i < n && b[i] == UInt8(ascii: ".") {
      i += 1
      if !run(afterPoint: true) { return nil }
    }
    if digits == 0 { return nil }
    var exponent = 0
    if i < n && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
      i += 1
      var exponentNegative = false
      if i < n && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
        exponentNegative = b[i] == UInt8(ascii: "-")
        i += 1
      }
      let first = i
      while i < n, b[i] &- UInt8(ascii: "0") < 10 {
        if exponent < 100_000 { exponent = exponent * 10 + Int(b[i] &- UInt8(ascii: "0")) }
        i += 1
      }
      if i == first { return nil }
      if exponentNegative { exponent = -exponent }
    }
    if i != n || mantissa > 1 << 53 { return nil }
    let power = exponent - scale
    guard power >= -22 && power <= 22 else { return nil }
    var value = Double(mantissa)
    value = power < 0 ? value / powers[-power] : value * powers[power]
    return negative ? -value : value
  }

  /// `strtod` on a NUL-terminated copy: the value when it reads every byte.
  static func slowPath(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
    let n = b.count
    if n == 0 { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buffer -> Double? in
      for j in 0..<n { buffer[j] = CChar(bitPattern: b[j]) }
      buffer[n] = 0
      var end: UnsafeMutablePointer<CChar>?
      let value = strtod(buffer.baseAddress!, &end)
      return end == buffer.baseAddress! + n ? value : nil
    }
  }
}
