import Foundation
import LinearAlgebra

/// A fast 64-bit checksum of bytes (four independent multiply–rotate lanes
/// over 8-byte words, then a final mix), for telling whether data changed:
/// a CSV file between the passes that read it, a cached array since it was
/// written, the data of the processes of a group. Not cryptographic: it
/// finds damage and change, not deliberate forgery.
package enum Checksum {
  static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
  static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
  static let prime3: UInt64 = 0x1656_67B1_9E37_79F9

  @inline(__always) static func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
    let mixed = lane &+ word &* prime2
    return ((mixed << 31) | (mixed >> 33)) &* prime1
  }

  @inline(__always) static func avalanche(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 33
    h = h &* prime2
    h ^= h >> 29
    h = h &* prime3
    h ^= h >> 32
    return h
  }

  /// The checksum of `bytes`, continuing from `seed` (a previous checksum, to chain parts).
  package static func of(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    var a = seed &+ prime1 &+ prime2
    var b = seed &+ prime2
    var c = seed
    var d = seed &- prime1
    let n = bytes.count
    var i = 0
    if let base = bytes.baseAddress {
      while i + 32 <= n {
        a = round(a, base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        b = round(b, base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
        c = round(c, base.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
        d = round(d, base.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
        i += 32
      }
    }
    var h = ((a << 1) | (a >> 63)) &+ ((b << 7) | (b >> 57)) &+ ((c << 12) | (c >> 52)) &+ ((d << 18) | (d >> 46))
    for lane in [a, b, c, d] { h = (h ^ round(0, lane)) &* prime1 &+ prime3 }
    h &+= UInt64(n)
    if let base = bytes.baseAddress {
      while i + 8 <= n {
        h ^= round(0, base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        h = ((h << 27) | (h >> 37)) &* prime1 &+ prime3
        i += 8
      }
      while i < n {
        h ^= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) &* prime1
        h = ((h << 11) | (h >> 53)) &* prime2
        i += 1
      }
    }
    return avalanche(h)
  }

  package static func of(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
    bytes.withUnsafeBytes { of($0, seed: seed) }
  }

  package static func of(_ strings: [String], seed: UInt64 = 0) -> UInt64 {
    var h = seed
    for s in strings { h = of(Array(s.utf8) + [0], seed: h) }
    return avalanche(h &+ UInt64(strings.count))
  }

  /// As 16 hexadecimal digits (how cache records store it: JSON numbers lose 64-bit integers in some readers).
  package static func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  /// Checksums of consecutive blocks of `blockBytes` bytes of a stream of
  /// bytes (the last block may be shorter): a damaged block is then found
  /// and named, not only "somewhere in the file".
  package struct Blocks {
    package let blockBytes: Int
    package private(set) var sums: [UInt64] = []
    private var partial: [UInt8] = []

    package init(blockBytes: Int) {
      if blockBytes < 1 { shapeFailure("Checksum.Blocks: blockBytes must be at least 1, got \(blockBytes)") }
      self.blockBytes = blockBytes
      partial.reserveCapacity(blockBytes)
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
      var rest = bytes[...]
      while !rest.isEmpty {
        if partial.isEmpty && rest.count >= blockBytes {
          // A whole block straight from the input, without a copy.
          sums.append(Checksum.of(UnsafeRawBufferPointer(rebasing: rest.prefix(blockBytes))))
          rest = rest.dropFirst(blockBytes)
          continue
        }
        let take = min(blockBytes - partial.count, rest.count)
        partial.append(contentsOf: rest.prefix(take))
        rest = rest.dropFirst(take)
        if partial.count == blockBytes {
          sums.append(Checksum.of(partial))
          partial.removeAll(keepingCapacity: true)
        }
      }
    }

    /// The sums, the last (short) block included.
    package mutating func finish() -> [UInt64] {
      if !partial.isEmpty {
        sums.append(Checksum.of(partial))
        partial.removeAll()
      }
      return sums
    }
  }
}
