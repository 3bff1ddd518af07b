import CZlib
import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// A zip archive made byte by byte from local members and central-directory
/// entries given separately, so that entries can share, overlap or misstate
/// their members.
struct HandMadeZip {
  struct Local {
    var name: String
    /// 0: stored, 8: deflated.
    var method: Int
    var stored: [UInt8]
    var crc: Int
    var size: Int
  }

  struct Entry {
    var name: String
    /// The local member it points at.
    var local: Int
    /// The directory's sizes; nil: the local member's.
    var size: Int? = nil
    var compressed: Int? = nil
  }

  var locals: [Local]
  var entries: [Entry]

  static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 255) } }

  /// The archive's bytes: the local members, the directory, the end record.
  func bytes() -> [UInt8] {
    let le = Self.le
    var out: [UInt8] = []
    var offsets: [Int] = []
    for m in locals {
      offsets.append(out.count)
      let name = Array(m.name.utf8)
      out +=
        le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(m.method, 2) + le(0, 4) + le(m.crc, 4) + le(m.stored.count, 4)
        + le(m.size, 4) + le(name.count, 2) + le(0, 2) + name + m.stored
    }
    var directory: [UInt8] = []
    for e in entries {
      let m = locals[e.local]
      let name = Array(e.name.utf8)
      directory +=
        le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(m.method, 2) + le(0, 4) + le(m.crc, 4)
        + le(e.compressed ?? m.stored.count, 4) + le(e.size ?? m.size, 4) + le(name.count, 2) + le(0, 2) + le(0, 2)
        + le(0, 2) + le(0, 2) + le(0, 4) + le(offsets[e.local], 4) + name
    }
    let start = out.count
    out += directory
    out +=
      le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(entries.count, 2) + le(entries.count, 2) + le(directory.count, 4)
      + le(start, 4) + le(0, 2)
    return out
  }

  /// A member deflated with zlib (raw deflate, as zip stores it): `head`,
  /// then `zeros` zero bytes fed a MiB at a time (64 MiB of zeros become
  /// about 64 KB).
  static func deflated(_ name: String, head: [UInt8], zeros: Int = 0) -> Local {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer {
      deflateEnd(stream)
      stream.deallocate()
    }
    precondition(blasnet_deflate_init_raw(stream) == Z_OK)
    var output: [UInt8] = []
    var crc = crc32(0, nil, 0)
    func feed(_ input: [UInt8], last: Bool) {
      crc = input.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      input.withUnsafeBufferPointer { source in
        stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        stream.pointee.avail_in = uInt(source.count)
        repeat {
          let produced = buffer.withUnsafeMutableBufferPointer { target -> Int in
            stream.pointee.next_out = target.baseAddress
            stream.pointee.avail_out = uInt(target.count)
            let status = deflate(stream, last ? Z_FINISH : Z_NO_FLUSH)
            precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR)
            return target.count - Int(stream.pointee.avail_out)
          }
          output += buffer[0..<produced]
        } while stream.pointee.avail_out == 0
      }
    }
    let mebibyte = [UInt8](repeating: 0, count: 1 << 20)
    feed(head, last: zeros == 0)
    var left = zeros
    while left > 0 {
      let piece = min(left, mebibyte.count)
      left -= piece
      feed(piece == mebibyte.count ? mebibyte : Array(mebibyte[0..<piece]), last: left == 0)
    }
    return Local(name: name, method: 8, stored: output, crc: Int(crc), size: head.count + zeros)
  }

  static func stored(_ name: String, _ bytes: [UInt8]) -> Local {
    let crc = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
    return Local(name: name, method: 0, stored: bytes, crc: Int(crc), size: bytes.count)
  }
}

/// The header of a `.npy` file of float32 values of `shape` (C order), as NumPy pads it.
func npyHeader(shape: [Int], descr: String = "<f4") -> [UInt8] {
  let tuple = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
  var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }".utf8)
  while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
  header.append(0x0A)
  return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 255), UInt8(header.count >> 8)] + header
}

/// Archives built to make the importer inflate far more than they hold.
@Suite struct NPZBombTests {
  typealias Net = SafetensorsImportTests

  func refusal(_ bytes: [UInt8]) throws -> (path: String, message: String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString).npz").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
      _ = try TabularModel.importWeights(npz: path)
      return (path, "imported")
    } catch {
      return (path, "\(error)")
    }
  }

  /// One deflated member of 16 Mi float32s (64 MiB + its 128-byte header,
  /// about 64 KB deflated) and 200 directory entries naming it: refused
  /// from the directory alone, before anything is inflated.
  @Test func entriesSharingOneLocalHeaderAreRefusedBeforeInflating() throws {
    let member = HandMadeZip.deflated("W1.npy", head: npyHeader(shape: [4096, 4096]), zeros: 4096 * 4096 * 4)
    #expect(member.size == 67_108_992 && member.stored.count < 70_000)
    let names = (0..<200).map { $0 % 2 == 0 ? "W\($0 / 2 + 1).npy" : "b\($0 / 2 + 1).npy" }
    let bomb = HandMadeZip(locals: [member], entries: names.map { .init(name: $0, local: 0) }).bytes()
    #expect(bomb.count < 80_000)
    let (path, message) = try refusal(bomb)
    #expect(
      message
        == "\(path): not a valid weights file: members \"W1.npy\" and \"b1.npy\" (central directory entries 1 and 2) share the local header at byte 0"
    )
  }

  /// 40 members of their own, each 64 MiB inflated: 2.5 GiB in all, more
  /// than an archive may inflate, refused before the first is inflated.
  @Test func membersTogetherLargerThanTheBoundAreRefused() throws {
    let one = HandMadeZip.deflated("x.npy", head: npyHeader(shape: [4096, 4096]), zeros: 4096 * 4096 * 4)
    let locals = (1...40).map { k in
      var m = one
      m.name = "W\(k).npy"
      return m
    }
    let archive = HandMadeZip(locals: locals, entries: (0..<40).map { .init(name: locals[$0].name, local: $0) })
    let (path, message) = try refusal(archive.bytes())
    #expect(
      message
        == "\(path): not a valid weights file: its 40 members add up to 2684359680 bytes inflated; at most 2147483648 are read from one archive"
    )
  }

  /// A stored member holding a whole second member (local header and data),
  /// which a directory entry names: the two overlap.
  @Test func overlappingMembersAreRefusedNamingBoth() throws {
    let inner = HandMadeZip(locals: [HandMadeZip.stored("b1.npy", npyFile(Net.b1, shape: [4]))], entries: [])
    let innerBytes = Array(inner.bytes().dropLast(22))  // its local header and data, no directory
    let outer = HandMadeZip.stored("W1.npy", innerBytes)
    var archive = HandMadeZip(locals: [outer], entries: [.init(name: "W1.npy", local: 0)]).bytes()
    // A second directory entry naming the inner member, at W1's data (byte 30 + 6).
    let innerLength = innerBytes.count
    let le = HandMadeZip.le
    let entry =
      le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4)
      + Array(innerBytes[14..<26]) + le(6, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(36, 4)
      + Array("b1.npy".utf8)
    let end = archive.count - 22
    let directoryStart = 36 + innerLength
    archive.insert(contentsOf: entry, at: end)
    archive.replaceSubrange(
      (archive.count - 22)..<archive.count,
      with: le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(2, 2) + le(2, 2) + le(end + entry.count - directoryStart, 4)
        + le(directoryStart, 4) + le(0, 2))
    let (path, message) = try refusal(archive)
    // W1: its local header (30 + 6 bytes of name) and its data; b1 likewise, from byte 36.
    #expect(
      message
        == "\(path): not a valid weights file: members \"W1.npy\" (bytes 0–\(36 + innerLength)) and \"b1.npy\" (bytes 36–\(36 + innerLength)) overlap"
    )
  }

  /// A member whose directory sizes reach past its data into the directory.
  @Test func aMemberRunningIntoTheDirectoryIsRefused() throws {
    let w1 = HandMadeZip.stored("W1.npy", npyFile(Net.w1, shape: [4, 3]))
    let size = w1.stored.count + 10
    let archive = HandMadeZip(locals: [w1], entries: [.init(name: "W1.npy", local: 0, size: size, compressed: size)])
    let (path, message) = try refusal(archive.bytes())
    let dataEnd = 36 + size
    #expect(
      message
        == "\(path): not a valid weights file: member \"W1.npy\" (bytes 0–\(dataEnd)) runs into the central directory at byte \(36 + w1.stored.count)"
    )
  }

  /// The directory's size of a member must be its header and exactly the
  /// bytes its shape and type need: 128 (header) + 4 × 3 × 8 = 224 here.
  @Test func aMemberLargerThanItsShapeIsRefused() throws {
    let w1 = HandMadeZip.stored("W1.npy", npyFile(Net.w1, shape: [4, 3]) + [UInt8](repeating: 0, count: 8))
    let b1 = HandMadeZip.stored("b1.npy", npyFile(Net.b1, shape: [4]))
    let archive = HandMadeZip(
      locals: [w1, b1], entries: [.init(name: "W1.npy", local: 0), .init(name: "b1.npy", local: 1)])
    let (path, message) = try refusal(archive.bytes())
    #expect(
      message
        == "\(path): not a valid weights file: member \"W1.npy\": its .npy header declares shape (4, 3) of float64, 224 bytes with the header, but the directory says the member has 232"
    )
  }

  /// A deflated member whose header declares 16 Mi float32s but that holds
  /// 1,000 bytes: refused from its header, the 64 MiB never allocated.
  @Test func aDeflatedMemberSmallerThanItsShapeIsRefusedFromItsHeader() throws {
    let w1 = HandMadeZip.deflated("W1.npy", head: npyHeader(shape: [4096, 4096]), zeros: 1000)
    let archive = HandMadeZip(locals: [w1], entries: [.init(name: "W1.npy", local: 0)])
    let (path, message) = try refusal(archive.bytes())
    #expect(
      message
        == "\(path): not a valid weights file: member \"W1.npy\": its .npy header declares shape (4096, 4096) of float32, 67108992 bytes with the header, but the directory says the member has 1128"
    )
  }

  /// np.savez_compressed's kind of archive, made here: four deflated
  /// members still import and predict as the network they hold.
  @Test func aDeflatedArchiveOfFourMembersImports() throws {
    let members = [
      ("W1.npy", npyFile(Net.w1, shape: [4, 3], descr: "<f4")), ("b1.npy", npyFile(Net.b1, shape: [4])),
      ("W2.npy", npyFile(Net.w2, shape: [1, 4])), ("b2.npy", npyFile(Net.b2, shape: [1])),
    ]
    let locals = members.map { HandMadeZip.deflated($0.0, head: $0.1) }
    let archive = HandMadeZip(locals: locals, entries: (0..<4).map { .init(name: members[$0].0, local: $0) })
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ok-\(UUID().uuidString).npz").path
    try Data(archive.bytes()).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let report = try TabularModel.importWeights(npz: path)
    #expect(report.model.network.sizes == [3, 4, 1])
    let x: [Double] = [0.5, -1.25, 2.0]
    let p = report.model.network.predict(try Matrix<Float>(rows: 3, columns: 1, columnMajor: x.map(Float.init)))
    #expect(abs(Double(p[0, 0]) - Net.expected(x)) < 1e-6, "\(p[0, 0]) vs \(Net.expected(x))")
  }
}
