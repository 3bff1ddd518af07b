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
    let members = try ZipArchive.npyMembers(bytes, path: path) { (member, layout) throws(ImportError) in
      guard layout.dataType == .float32 || layout.dataType == .float64 else {
        throw .unsupportedType(path: path, name: tensorName(member), dtype: layout.dataType.numpyName)
      }
    }
    for (member, array) in members {
      let name = tensorName(member)
      tensors.append(
        WeightTensor(name: name, shape: array.shape) { () throws(ImportError) in
          try WeightTensor.rounded(array.matrix(Double.self).rowMajorElements, path: path, name: name)
        })
    }
    return try assemble(WeightNaming.layers(tensors, path: path), path: path, activations: activations)
  }

  /// A member's tensor: its name without `.npy`.
  static func tensorName(_ member: String) -> String {
    member.hasSuffix(".npy") ? String(member.dropLast(4)) : member
  }
}

/// The members of a zip archive, as `np.savez` writes it: stored or
/// deflated, with or without ZIP64 records, no encryption, one disk.
///
/// A hostile archive must not make the reader inflate more than it holds:
/// the whole central directory is checked first (every member's bytes inside
/// the file, before the directory, none sharing or overlapping another's,
/// their sizes together bounded), then each member's `.npy` header is
/// inflated alone and its shape must account for the directory's size
/// exactly before the rest is inflated, into exactly that size.
enum ZipArchive {
  /// A member as the central directory describes it, its bytes checked to lie in the file.
  struct Entry {
    /// Its place in the central directory, from 1.
    var index: Int
    var name: String
    var deflated: Bool
    var crc: UInt32
    /// The local header's offset.
    var localHeader: Int
    /// The stored (deflated or not) bytes.
    var data: Range<Int>
    /// The size inflated, as the directory says.
    var size: Int
  }

  /// A member larger than this is refused (no network's weights are).
  static let largestMember = 1 << 31
  /// The members' sizes together: no more than this is inflated from one archive.
  static let largestTotal = 1 << 31
  /// A member's `.npy` header longer than this is refused (NumPy's own
  /// reader refuses more than 10,000 bytes unless told otherwise).
  static let largestHeader = 1 << 16

  /// The archive's central directory, every entry checked and nothing inflated.
  static func directory(_ bytes: [UInt8], path: String) throws(ImportError) -> [Entry] {
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
    var entries: [Entry] = []
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
      guard dataStart + length <= directoryOffset else {
        throw fail(
          "member \(quoted(name)) (bytes \(header)–\(dataStart + length)) runs into the central directory at byte \(directoryOffset)"
        )
      }
      guard size <= UInt64(largestMember), method == 8 || size == compressed,
        method == 0 || size <= compressed &* 1100 &+ 1024
      else {
        throw fail("member \(quoted(name)) claims \(size) bytes from \(compressed) stored")
      }
      entries.append(
        Entry(
          index: index + 1, name: name, deflated: method == 8, crc: crc, localHeader: header,
          data: dataStart..<(dataStart + length), size: Int(size)))
      at = next
    }
    // Each member's bytes, local header to the end of its data, are its own.
    let inFileOrder = entries.sorted { ($0.localHeader, $0.index) < ($1.localHeader, $1.index) }
    for (a, b) in zip(inFileOrder, inFileOrder.dropFirst()) {
      if a.localHeader == b.localHeader {
        throw fail(
          "members \(quoted(a.name)) and \(quoted(b.name)) (central directory entries \(a.index) and \(b.index)) share the local header at byte \(a.localHeader)"
        )
      }
      if a.data.upperBound > b.localHeader {
        throw fail(
          "members \(quoted(a.name)) (bytes \(a.localHeader)–\(a.data.upperBound)) and \(quoted(b.name)) (bytes \(b.localHeader)–\(b.data.upperBound)) overlap"
        )
      }
    }
    // Each size is at most 2^31, so the sum of any count of them fits an Int.
    let total = entries.reduce(0) { $0 + $1.size }
    guard total <= largestTotal else {
      throw fail(
        "its \(entries.count) members add up to \(total) bytes inflated; at most \(largestTotal) are read from one archive"
      )
    }
    return entries
  }

  /// The archive's members as `.npy` arrays, in the directory's order. Each
  /// member's header is read first: `check` sees its layout, and its shape
  /// and type must need exactly the directory's size, before the rest is
  /// inflated.
  static func npyMembers(
    _ bytes: [UInt8], path: String, check: (String, NPYBuffer.Layout) throws(ImportError) -> Void
  ) throws(ImportError) -> [(name: String, array: NPYBuffer)] {
    var arrays: [(name: String, array: NPYBuffer)] = []
    for entry in try directory(bytes, path: path) {
      let content = try contents(entry, of: bytes, path: path, check: check)
      do {
        arrays.append((entry.name, try NPYBuffer(bytes: content, path: "\(path)/\(entry.name)")))
      } catch {
        throw npyFailure(error, member: entry.name, path: path)
      }
    }
    return arrays
  }

  /// An ``NPYError`` of member `member` as an ``ImportError`` naming the archive and the member.
  static func npyFailure(_ error: NPYError, member: String, path: String) -> ImportError {
    let text = "\(error)"
    let problem = text.hasPrefix(error.path + ": ") ? String(text.dropFirst(error.path.count + 2)) : text
    return .malformed(path: path, detail: "member \(quoted(member)): \(problem)")
  }

  /// The bytes of one member: its `.npy` header inflated and checked first,
  /// then the rest into exactly the directory's size, then its CRC-32.
  static func contents(
    _ entry: Entry, of bytes: [UInt8], path: String, check: (String, NPYBuffer.Layout) throws(ImportError) -> Void
  ) throws(ImportError) -> [UInt8] {
    func fail(_ detail: String) -> ImportError {
      .malformed(path: path, detail: "member \(quoted(entry.name)): \(detail)")
    }
    let inflater = entry.deflated ? Inflater(input: entry.data) : nil
    var produced = 0
    /// The member's next `count` bytes into `target` from `offset`.
    func read(_ count: Int, into target: inout [UInt8], at offset: Int) throws(ImportError) {
      guard let inflater else {
        let from = entry.data.lowerBound + produced
        target.withUnsafeMutableBytes { $0[offset..<(offset + count)].copyBytes(from: bytes[from..<(from + count)]) }
        produced += count
        return
      }
      let written = target.withUnsafeMutableBytes {
        inflater.read(bytes, into: .init(rebasing: $0[offset..<(offset + count)]))
      }
      guard let written else { throw fail("its deflate stream is damaged") }
      guard written == count else { throw fail("its size is not the \(entry.size) bytes the directory says") }
      produced += count
    }
    let npyPath = "\(path)/\(entry.name)"
    // The magic, the version and the header's length; then the header.
    var header = [UInt8](repeating: 0, count: Swift.min(entry.size, 12))
    try read(header.count, into: &header, at: 0)
    let headerEnd: Int
    do {
      headerEnd = try NPYBuffer.headerEnd(header, path: npyPath)
    } catch {
      throw npyFailure(error, member: entry.name, path: path)
    }
    guard headerEnd <= largestHeader else {
      throw fail("its .npy header is \(headerEnd) bytes long; at most \(largestHeader) are read")
    }
    let known = header.count
    header += [UInt8](repeating: 0, count: Swift.max(0, Swift.min(headerEnd, entry.size) - known))
    try read(header.count - known, into: &header, at: known)
    let layout: NPYBuffer.Layout
    do {
      layout = try NPYBuffer.layout(header, path: npyPath)
    } catch {
      throw npyFailure(error, member: entry.name, path: path)
    }
    guard layout.byteCount == entry.size else {
      let shape = "(" + layout.shape.map(String.init).joined(separator: ", ") + (layout.shape.count == 1 ? ",)" : ")")
      throw fail(
        "its .npy header declares shape \(shape) of \(layout.dataType.numpyName), \(layout.byteCount) bytes with the header, but the directory says the member has \(entry.size)"
      )
    }
    try check(entry.name, layout)
    var content = [UInt8](repeating: 0, count: entry.size)
    content.withUnsafeMutableBytes { $0.copyBytes(from: header) }
    try read(entry.size - header.count, into: &content, at: header.count)
    if let inflater, !inflater.ends(bytes) {
      throw fail("its size is not the \(entry.size) bytes the directory says")
    }
    let crc = content.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
    guard UInt32(crc) == entry.crc else {
      throw .malformed(
        path: path,
        detail: "member \(quoted(entry.name)) is damaged: its CRC-32 is \(crc), the directory says \(entry.crc)")
    }
    return content
  }
}

/// A raw deflate stream (a deflated zip member: `input`, a range of the
/// archive's bytes) inflated a piece at a time.
final class Inflater {
  private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
  private let started: Bool
  private let input: Range<Int>
  /// The input bytes inflated so far.
  private var consumed = 0
  private var ended = false

  init(input: Range<Int>) {
    // zlib keeps the stream's address: it lives on the heap, where it does not move.
    stream.initialize(to: z_stream())
    self.input = input
    started = blasnet_inflate_init_raw(stream) == Z_OK
  }

  deinit {
    if started { inflateEnd(stream) }
    stream.deinitialize(count: 1)
    stream.deallocate()
  }

  /// Fills `target` from the stream, `bytes` being the whole archive: the
  /// bytes written (fewer when the stream ends or is cut short first), or
  /// nil for a damaged stream.
  func read(_ bytes: [UInt8], into target: UnsafeMutableRawBufferPointer) -> Int? {
    guard started else { return nil }
    var written = 0
    while written < target.count && !ended {
      let status = bytes.withUnsafeBufferPointer { file -> Int32 in
        let left = input.count - consumed
        stream.pointee.next_in =
          left == 0 ? nil : UnsafeMutablePointer(mutating: file.baseAddress! + input.lowerBound + consumed)
        stream.pointee.avail_in = uInt(Swift.min(left, Int(UInt32.max)))
        stream.pointee.next_out = target.baseAddress!.assumingMemoryBound(to: UInt8.self) + written
        stream.pointee.avail_out = uInt(Swift.min(target.count - written, Int(UInt32.max)))
        let (inBefore, outBefore) = (stream.pointee.avail_in, stream.pointee.avail_out)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        consumed += Int(inBefore - stream.pointee.avail_in)
        written += Int(outBefore - stream.pointee.avail_out)
        return status
      }
      switch status {
      case Z_STREAM_END: ended = true
      case Z_OK: continue
      case Z_BUF_ERROR: return written  // no progress: the input ends before the stream does
      default: return nil
      }
    }
    return written
  }

  /// Whether the stream ends where the bytes read so far end (no byte more).
  func ends(_ bytes: [UInt8]) -> Bool {
    if ended { return true }
    var spare: UInt8 = 0
    let written = withUnsafeMutableBytes(of: &spare) { read(bytes, into: $0) }
    return written == 0 && ended
  }
}
