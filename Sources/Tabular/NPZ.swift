import CZlib
import Foundation
import LinearAlgebra
import NeuralNetwork

extension TabularModel {
  /// Reads a NumPy `.npz` archive (`np.savez`, or `np.savez_compressed`,
  /// whose members are deflated) of a dense network's weights, named in one
  /// of three ways:
  ///
  /// - the deep-learning course's `W1…WL` (`n_l × n_{l−1}`) and `b1…bL`
  ///   (`n_l × 1` or `n_l`);
  /// - PyTorch's `state_dict` names, `0.weight` (out × in), `0.bias`, …;
  /// - Keras's `dense/kernel` (in × out, transposed on import),
  ///   `dense/bias`, … (`:0` suffixes allowed), layers in the archive's order.
  ///
  /// - Parameters:
  ///   - path: the `.npz` file.
  ///   - activations: one per layer; nil: ReLU on the hidden layers, and a
  ///     sigmoid (one output) or softmax (more) on the last.
  /// - Throws: ``ImportError`` naming the member and what is wrong with it.
  public static func importWeights(npz path: String, activations: [Activation]? = nil) throws(ImportError)
    -> ImportReport
  {
    try importWeights(npzBytes: weightsFile(path), path: path, activations: activations)
  }

  /// ``importWeights(npz:activations:)`` of the file's bytes.
  static func importWeights(npzBytes bytes: [UInt8], path: String, activations: [Activation]?) throws(ImportError)
    -> ImportReport
  {
    var tensors: [WeightTensor] = []
    for member in try ZipArchive.members(bytes, path: path) {
      let name = member.name.hasSuffix(".npy") ? String(member.name.dropLast(4)) : member.name
      let array: NPYBuffer
      do {
        array = try NPYBuffer(bytes: member.bytes, path: "\(path)/\(member.name)")
      } catch {
        let text = "\(error)"
        let problem = text.hasPrefix(error.path + ": ") ? String(text.dropFirst(error.path.count + 2)) : text
        throw .malformed(path: path, detail: "member \(quoted(member.name)): \(problem)")
      }
      guard array.dataType == .float32 || array.dataType == .float64 else {
        throw .unsupportedType(path: path, name: name, dtype: array.dataType.numpyName)
      }
      tensors.append(
        WeightTensor(name: name, shape: array.shape) { () throws(ImportError) in
          try WeightTensor.rounded(array.matrix(Double.self).rowMajorElements, path: path, name: name)
        })
    }
    return try assemble(WeightNaming.layers(tensors, path: path), path: path, activations: activations)
  }
}

/// The members of a zip archive, as `np.savez` writes them: stored or
/// deflated, with or without ZIP64 records, no encryption, one disk.
enum ZipArchive {
  struct Member {
    var name: String
    var bytes: [UInt8]
  }

  /// A member larger than this is refused (no network's weights are).
  static let largestMember = 1 << 31

  static func members(_ bytes: [UInt8], path: String) throws(ImportError) -> [Member] {
    func fail(_ detail: String) -> ImportError { .malformed(path: path, detail: detail) }
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
    func int(_ v: UInt64, _ what: String) throws(ImportError) -> Int {
      guard v <= UInt64(bytes.count) else { throw fail("\(what) \(v) lies beyond the file's \(bytes.count) bytes") }
      return Int(v)
    }
    if bytes.count >= 4 && bytes[0] == 0x93 && bytes[1] == 0x4E {
      throw fail("it is a single .npy array, not an .npz archive (np.savez writes those)")
    }
    // The end-of-central-directory record: 22 bytes and a comment of up to 65,535.
    var end = -1
    var k = bytes.count - 22
    while k >= 0 && k >= bytes.count - 22 - 65_535 {
      if bytes[k] == 0x50 && bytes[k + 1] == 0x4B && bytes[k + 2] == 5 && bytes[k + 3] == 6 {
        end = k
        break
      }
      k -= 1
    }
    guard end >= 0 else { throw fail("no zip end record: it is not an .npz archive (a zip of .npy files)") }
    var count = u16(end + 10)
    var directorySize = u32(end + 12)
    var directoryOffset = u32(end + 16)
    guard u16(end + 4) == 0 || u16(end + 4) == 0xFFFF else { throw fail("an archive split over several disks") }
    if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
      // ZIP64: a locator just before the end record points at the ZIP64 end record.
      let locator = end - 20
      guard locator >= 0, u32(locator) == 0x0706_4B50 else { throw fail("a ZIP64 archive without its locator") }
      let record = try int(u64(locator + 8), "the ZIP64 end record's offset")
      guard record + 56 <= bytes.count, u32(record) == 0x0606_4B50 else {
        throw fail("no ZIP64 end record at byte \(record)")
      }
      count = try int(u64(record + 32), "the member count")
      directorySize = try int(u64(record + 40), "the central directory's size")
      directoryOffset = try int(u64(record + 48), "the central directory's offset")
    }
    guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
      throw fail(
        "the central directory lies at bytes \(directoryOffset)–\(directoryOffset + directorySize) of \(bytes.count)")
    }
    var members: [Member] = []
    var at = directoryOffset
    for index in 0..<count {
      guard at + 46 <= directoryOffset + directorySize, u32(at) == 0x0201_4B50 else {
        throw fail("central directory entry \(index + 1) of \(count) is damaged (byte \(at))")
      }
      let flags = u16(at + 8)
      let method = u16(at + 10)
      let crc = UInt32(u32(at + 16))
      var compressed = UInt64(u32(at + 20))
      var size = UInt64(u32(at + 24))
      let (nameLength, extraLength, commentLength) = (u16(at + 28), u16(at + 30), u16(at + 32))
      var local = UInt64(u32(at + 42))
      let nameStart = at + 46
      let extraStart = nameStart + nameLength
      let next = extraStart + extraLength + commentLength
      guard next <= directoryOffset + directorySize else {
        throw fail("central directory entry \(index + 1) runs past the directory's end")
      }
      let name = String(decoding: bytes[nameStart..<extraStart], as: UTF8.self)
      // The ZIP64 extra field holds the sizes and the offset that read 0xFFFFFFFF.
      var e = extraStart
      while e + 4 <= extraStart + extraLength {
        let (id, length) = (u16(e), u16(e + 2))
        guard e + 4 + length <= extraStart + extraLength else { break }
        if id == 1 {
          var f = e + 4
          for field in [0, 1, 2] {
            let wide = [size, compressed, local][field] == 0xFFFF_FFFF
            guard wide else { continue }
            guard f + 8 <= e + 4 + length else { throw fail("member \(quoted(name)): a short ZIP64 field") }
            switch field {
            case 0: size = u64(f)
            case 1: compressed = u64(f)
            default: local = u64(f)
            }
            f += 8
          }
        }
        e += 4 + length
      }
      guard flags & 1 == 0 else { throw fail("member \(quoted(name)) is encrypted") }
      guard method == 0 || method == 8 else {
        throw fail(
          "member \(quoted(name)) is compressed with method \(method); np.savez stores (0) and np.savez_compressed deflates (8)"
        )
      }
      let header = try int(local, "member \(quoted(name))'s offset")
      guard header + 30 <= bytes.count, u32(header) == 0x0403_4B50 else {
        throw fail("member \(quoted(name)): no local header at byte \(header)")
      }
      let dataStart = header + 30 + u16(header + 26) + u16(header + 28)
      let length = try int(compressed, "member \(quoted(name))'s compressed size")
      guard dataStart <= bytes.count, length <= bytes.count - dataStart else {
        throw fail("member \(quoted(name)) lies at bytes \(dataStart)–\(dataStart + length) of \(bytes.count)")
      }
      guard size <= UInt64(largestMember), method == 8 || size == compressed,
        method == 0 || size <= compressed &* 1100 &+ 1024
      else {
        throw fail("member \(quoted(name)) claims \(size) bytes from \(compressed) stored")
      }
      let stored = bytes[dataStart..<(dataStart + length)]
      let content = method == 0 ? Array(stored) : try inflate(stored, size: Int(size), name: name, path: path)
      let check = content.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
      guard UInt32(check) == crc else {
        throw fail("member \(quoted(name)) is damaged: its CRC-32 is \(check), the directory says \(crc)")
      }
      members.append(Member(name: name, bytes: content))
      at = next
    }
    return members
  }

  /// A raw deflate stream inflated to exactly `size` bytes.
  static func inflate(_ input: ArraySlice<UInt8>, size: Int, name: String, path: String) throws(ImportError)
    -> [UInt8]
  {
    var output = [UInt8](repeating: 0, count: size)
    var stream = z_stream()
    guard blasnet_inflate_init_raw(&stream) == Z_OK else {
      throw .malformed(path: path, detail: "member \(quoted(name)): zlib could not start")
    }
    defer { inflateEnd(&stream) }
    let status = input.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        stream.avail_in = uInt(source.count)
        stream.next_out = target.baseAddress
        stream.avail_out = uInt(target.count)
        return CZlib.inflate(&stream, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END, Int(stream.total_out) == size else {
      let why =
        status == Z_STREAM_END || status == Z_BUF_ERROR
        ? "its size is not the \(size) bytes the directory says" : "its deflate stream is damaged"
      throw .malformed(path: path, detail: "member \(quoted(name)): \(why)")
    }
    return output
  }
}
