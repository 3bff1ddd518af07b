#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// NumPy's `.npy` format (format versions 1.0, 2.0 and 3.0): the magic bytes
// `\x93NUMPY`, a major and a minor version byte, the header's length (2
// bytes little-endian in version 1, 4 bytes from version 2 on), the header,
// a Python dict literal such as `{'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }` padded with spaces and ended by a newline, and then the
// elements, in C order (row by row) unless `fortran_order` is True.

/// The element types of `.npy` files that load as a ``Matrix``.
///
/// Floats convert to the matrix's scalar type (`<f4` into `Matrix<Float>`
/// is a copy of the bits); integers and booleans (NumPy's usual types for
/// labels) convert to their value. Big-endian types are refused.
public enum NPYDataType: String, Sendable, CaseIterable {
  case float32 = "<f4"
  case float64 = "<f8"
  case int8 = "|i1"
  case uint8 = "|u1"
  case bool = "|b1"
  case int16 = "<i2"
  case uint16 = "<u2"
  case int32 = "<i4"
  case uint32 = "<u4"
  case int64 = "<i8"
  case uint64 = "<u8"

  /// The type of a `descr` field: `<f4`, or a one-byte type with any byte
  /// order mark (`|u1`, `<u1`, `=u1`); `=` means the machine's order, which is
  /// little-endian on every machine BLASNet builds for.
  init?(descr: String) {
    var text = descr
    if text.hasPrefix("=") { text = "<" + text.dropFirst() }
    if text.count == 3, text.hasSuffix("1"), let order = text.first, order == "<" || order == "|" {
      text = "|" + text.dropFirst()
    }
    self.init(rawValue: text)
  }

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .int8, .uint8, .bool: 1
    case .int16, .uint16: 2
    case .float32, .int32, .uint32: 4
    case .float64, .int64, .uint64: 8
    }
  }

  /// The type's name in NumPy (`float32`, `int64`, …).
  public var numpyName: String {
    switch self {
    case .float32: "float32"
    case .float64: "float64"
    case .int8: "int8"
    case .uint8: "uint8"
    case .bool: "bool"
    case .int16: "int16"
    case .uint16: "uint16"
    case .int32: "int32"
    case .uint32: "uint32"
    case .int64: "int64"
    case .uint64: "uint64"
    }
  }
}

/// A `.npy` file that cannot be read or written, with the file and what is wrong.
public struct NPYError: Error, Equatable, CustomStringConvertible {
  public enum Problem: Equatable, Sendable {
    /// The file cannot be opened, mapped or written (the system's reason).
    case cannotOpen(String)
    /// The file does not start with `\x93NUMPY` (the first bytes found, escaped).
    case notNPY(found: String)
    /// A format version other than 1.0, 2.0 and 3.0.
    case unsupportedVersion(major: Int, minor: Int)
    /// The header dict cannot be read; `offset` is the byte of the file where reading stopped.
    case malformedHeader(String, offset: Int)
    /// An element type BLASNet does not load (`descr` as written).
    case unsupportedType(String)
    /// More than two dimensions, or a dimension too large for BLAS.
    case unsupportedShape([Int])
    /// Fewer bytes of elements than the header promises.
    case truncated(expectedBytes: Int, foundBytes: Int, dataOffset: Int)
    /// Writing failed (the system's reason).
    case cannotWrite(String)
  }

  public var path: String
  public var problem: Problem

  public init(path: String, problem: Problem) {
    self.path = path
    self.problem = problem
  }

  public var description: String {
    switch problem {
    case .cannotOpen(let reason):
      return "\(path): cannot read it: \(reason)"
    case .notNPY(let found):
      return
        "\(path): not a NumPy .npy file: it starts with \"\(found)\", not \"\\x93NUMPY\" (np.save writes .npy files)"
    case .unsupportedVersion(let major, let minor):
      return "\(path): .npy format version \(major).\(minor); versions 1.0, 2.0 and 3.0 are read"
    case .malformedHeader(let what, let offset):
      return "\(path): byte \(offset) of the header: \(what)"
    case .unsupportedType(let descr):
      let known = NPYDataType.allCases.map(\.numpyName).joined(separator: ", ")
      return
        "\(path): element type '\(descr)' is not read (\(known) are, little-endian); convert it in NumPy first, e.g. np.save(path, a.astype('<f4'))"
    case .unsupportedShape(let shape):
      let text = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
      if shape.count > 2 {
        return
          "\(path): shape \(text) has \(shape.count) dimensions; a Matrix has 2: reshape it in NumPy first (a.reshape(a.shape[0], -1))"
      }
      return "\(path): shape \(text): every dimension of a Matrix must be at most \(Int32.max)"
    case .truncated(let expected, let found, let offset):
      return
        "\(path): truncated: the header promises \(expected) bytes of elements from byte \(offset), the file has \(found)"
    case .cannotWrite(let reason):
      return "\(path): cannot write it: \(reason)"
    }
  }
}

/// The pages of a file mapped read-only, unmapped when the last copy goes.
final class MappedFile: @unchecked Sendable {
  let base: UnsafeRawPointer?
  let count: Int
  /// The file, kept open for `pread` of scattered columns.
  let fd: Int32
  /// Bytes of pages mapped in by reads since they were last given back (an estimate).
  var touched = 0
  /// Past this many, ``NPYArray/gatherColumns(_:transposed:into:)`` gives the pages back.
  static let residentLimit = 128 << 20
  /// The file's size when a read found it shorter than it was mapped (cut
  /// short while being read, by `np.save` over it, say); nil while it is whole.
  var shortenedTo: Int?

  /// The file's size now.
  func currentSize() -> Int {
    var info = stat()
    return fstat(fd, &info) == 0 ? Int(info.st_size) : 0
  }

  init(path: String) throws(NPYError) {
    func failure(_ reason: String) -> NPYError { NPYError(path: path, problem: .cannotOpen(reason)) }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw failure(String(cString: strerror(errno))) }
    var info = stat()
    if fstat(fd, &info) != 0 || (info.st_mode & S_IFMT) != S_IFREG {
      let reason = (info.st_mode & S_IFMT) != S_IFREG ? "not a regular file" : String(cString: strerror(errno))
      close(fd)
      throw failure(reason)
    }
    self.fd = fd
    count = Int(info.st_size)
    if count == 0 {
      base = nil
      return
    }
    guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      close(fd)
      throw failure(String(cString: strerror(errno)))
    }
    base = UnsafeRawPointer(p)
    // Reads jump about (shuffled batches): no read-ahead.
    madvise(p, count, MADV_RANDOM)
  }

  /// Notes `bytes` more of pages mapped in; gives all of them back past the limit.
  func noteRead(_ bytes: Int) {
    touched += bytes
    if touched > Self.residentLimit, let base {
      madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_DONTNEED)
      touched = 0
    }
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    close(fd)
  }

  /// Reads `count` bytes at `offset` into `target` with `pread` (from the
  /// page cache, mapping nothing in); false if the read falls short.
  func read(_ target: UnsafeMutableRawPointer, count: Int, at offset: Int) -> Bool {
    var done = 0
    while done < count {
      let n = pread(fd, target + done, count - done, off_t(offset + done))
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return false }
      done += n
    }
    return true
  }
}

/// A `.npy` file mapped into memory: its header read and checked, its
/// elements read only when asked for, so a file larger than memory can be
/// read a few columns at a time.
///
/// The array is seen as a matrix: a 2-D array of shape `(r, c)` is `r × c`,
/// a 1-D array of `n` elements is `1 × n` (a row, as labels are in a network)
/// and a 0-D array is `1 × 1`. With `transposed: true` the methods read it as
/// its transpose, which is how an array with examples as rows (`m × n_x`, as
/// scikit-learn keeps them) becomes `n_x × m`.
///
///     let x = try NPYArray(path: "X.npy")          // shape (569, 30), float64
///     let batch: Matrix<Float> = x.columns(0..<64, transposed: true)   // 30 × 64
public struct NPYArray: Sendable {
  /// The file's path.
  public let path: String
  /// Why the elements read so far cannot be trusted, or nil: the file was cut
  /// short after it was opened (reads then give NaN instead of a SIGBUS).
  public var problem: String? {
    guard let now = file.shortenedTo else { return nil }
    return
      "\(path) was cut short while it was being read: it has \(now) bytes now, its header promises \(dataOffset + rows * columns * dataType.size); was it saved again (np.save over the same name)? nothing was trained from it"
  }
  /// The array's shape as NumPy reports it.
  public let shape: [Int]
  /// The element type.
  public let dataType: NPYDataType
  /// Whether the elements are stored column by column (Fortran order).
  public let fortranOrder: Bool
  /// The format version, e.g. (1, 0).
  public let version: (major: Int, minor: Int)
  /// The byte of the file where the elements start.
  public let dataOffset: Int
  let file: MappedFile

  /// Maps `path` and reads its header; throws ``NPYError`` for a file that
  /// is not a `.npy` file, has an unsupported type or shape, or is shorter
  /// than its header says.
  public init(path: String) throws(NPYError) {
    self.path = path
    file = try MappedFile(path: path)
    let header = try Self.readHeader(UnsafeRawBufferPointer(start: file.base, count: file.count), path: path)
    (shape, dataType, fortranOrder, version, dataOffset) =
      (header.shape, header.dataType, header.fortranOrder, header.version, header.dataOffset)
  }

  /// What the header of a `.npy` file says, checked against the bytes after it.
  struct Header {
    var shape: [Int]
    var dataType: NPYDataType
    var fortranOrder: Bool
    var version: (major: Int, minor: Int)
    var dataOffset: Int
    /// The elements' bytes the shape and type need.
    var dataBytes: Int
  }

  /// Where the header dict of the `.npy` bytes `bytes` starts and how long
  /// it is, from the magic, the version and the header's length (the first
  /// 10 bytes, 12 from version 2 on).
  static func preamble(_ bytes: UnsafeRawBufferPointer, path: String) throws(NPYError) -> (
    version: (major: Int, minor: Int), headerStart: Int, headerLength: Int
  ) {
    func fail(_ problem: NPYError.Problem) -> NPYError { NPYError(path: path, problem: problem) }
    let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
      throw fail(.notNPY(found: Self.escaped(bytes.prefix(8))))
    }
    let (major, minor) = (Int(bytes[6]), Int(bytes[7]))
    guard (1...3).contains(major), minor == 0 else { throw fail(.unsupportedVersion(major: major, minor: minor)) }
    let lengthBytes = major == 1 ? 2 : 4
    guard bytes.count >= 8 + lengthBytes else {
      throw fail(.malformedHeader("the file ends before the header's length", offset: bytes.count))
    }
    var headerLength = 0
    for k in 0..<lengthBytes { headerLength |= Int(bytes[8 + k]) << (8 * k) }
    return ((major, minor), 8 + lengthBytes, headerLength)
  }

  /// Reads and checks the header of the `.npy` bytes `bytes` (the whole file):
  /// magic, version, the dict, a shape of at most 2 dimensions, and enough
  /// bytes after it for every element (unless `elementsFollow` is false:
  /// `bytes` may then end with the header).
  static func readHeader(_ bytes: UnsafeRawBufferPointer, path: String, elementsFollow: Bool = true) throws(NPYError)
    -> Header
  {
    func fail(_ problem: NPYError.Problem) -> NPYError { NPYError(path: path, problem: problem) }
    let ((major, minor), headerStart, headerLength) = try preamble(bytes, path: path)
    guard bytes.count >= headerStart + headerLength else {
      throw fail(
        .malformedHeader(
          "the header is \(headerLength) bytes long but the file ends after \(bytes.count - headerStart)",
          offset: bytes.count))
    }
    let text = Array(bytes[headerStart..<(headerStart + headerLength)])
    if major < 3, let k = text.firstIndex(where: { $0 >= 0x80 }) {
      throw fail(
        .malformedHeader("a byte that is not ASCII (version \(major) headers are ASCII)", offset: headerStart + k))
    }
    var parser = HeaderParser(bytes: text, start: headerStart)
    let fields: HeaderParser.Fields
    do {
      fields = try parser.parse()
    } catch {
      throw fail(.malformedHeader(error.message, offset: error.offset))
    }
    guard let type = NPYDataType(descr: fields.descr) else { throw fail(.unsupportedType(fields.descr)) }
    let shape = fields.shape
    guard shape.count <= 2 else { throw fail(.unsupportedShape(shape)) }
    let dataOffset = headerStart + headerLength
    var elements = 1
    for d in shape {
      let (product, overflow) = elements.multipliedReportingOverflow(by: d)
      guard !overflow, d <= Int(Int32.max) else { throw fail(.unsupportedShape(shape)) }
      elements = product
    }
    let (expected, overflow) = elements.multipliedReportingOverflow(by: type.size)
    guard !overflow else { throw fail(.unsupportedShape(shape)) }
    let found = bytes.count - dataOffset
    guard found >= expected || !elementsFollow else {
      throw fail(.truncated(expectedBytes: expected, foundBytes: found, dataOffset: dataOffset))
    }
    return Header(
      shape: shape, dataType: type, fortranOrder: fields.fortranOrder, version: (major, minor), dataOffset: dataOffset,
      dataBytes: expected)
  }

  /// Rows of the array seen as a matrix (before any transposition).
  public var rows: Int { shape.count == 2 ? shape[0] : 1 }
  /// Columns of the array seen as a matrix (before any transposition).
  public var columns: Int { shape.count == 2 ? shape[1] : (shape.first ?? 1) }

  /// The whole array as a matrix (its transpose with `transposed: true`).
  public func matrix<S: BLASScalar>(_ type: S.Type = S.self, transposed: Bool = false) -> Matrix<S> {
    let count = transposed ? rows : columns
    return columns(0..<count, transposed: transposed)
  }

  /// Columns `range` of the array seen as a matrix (of its transpose with
  /// `transposed: true`), converted to `S`. Traps for a range outside it.
  public func columns<S: BLASScalar>(_ range: Range<Int>, transposed: Bool = false) -> Matrix<S> {
    var out = Matrix<S>.zeros(transposed ? columns : rows, range.count)
    gatherColumns(range, transposed: transposed, into: &out)
    return out
  }

  /// Copies the columns `indices` (in that order) of the array seen as a
  /// matrix (or of its transpose) into the columns of `out`, which must have
  /// as many rows as that matrix and one column per index. Only the pages of
  /// the file that hold those columns are read, and once reads have mapped
  /// in 128 MB of them they are given back (`madvise(MADV_DONTNEED)`; they
  /// stay in the page cache), so reading a file larger than memory keeps the
  /// process small.
  @_specialize(where S == Float, C == ArraySlice<Int>)
  @_specialize(where S == Float, C == [Int])
  @_specialize(where S == Double, C == ArraySlice<Int>)
  public func gatherColumns<S: BLASScalar, C: Collection<Int>>(
    _ indices: C, transposed: Bool = false, into out: inout Matrix<S>
  ) {
    let (r, c) = transposed ? (columns, rows) : (rows, columns)
    if out.rows != r || out.columns != indices.count {
      shapeFailure(
        "NPYArray.gatherColumns: out must be \(r)×\(indices.count) (the array's rows × the indices); out is \(out.shape)"
      )
    }
    // Element (i, j) of the matrix read is at i·rowStride + j·columnStride.
    let storedRowStride = fortranOrder ? 1 : columns
    let storedColumnStride = fortranOrder ? rows : 1
    let (rowStride, columnStride) =
      transposed ? (storedColumnStride, storedRowStride) : (storedRowStride, storedColumnStride)
    guard let base = file.base, r > 0 else { return }
    // A file cut short since it was mapped would raise SIGBUS on a read
    // through the mapping: check its size first, and read nothing from it
    // once it is short (NaN in, ``problem`` says why).
    let size = dataType.size
    let now = file.currentSize()
    if file.shortenedTo != nil || now < dataOffset + rows * columns * size {
      file.shortenedTo = file.shortenedTo ?? now
      out.withUnsafeMutableBufferPointer { $0.update(repeating: .nan) }
      return
    }
    let data = base + dataOffset
    // What a read maps in: a fault maps the 64 KB around it (Linux's fault-around),
    // so a column far from the last one read costs 64 KB at least, and a
    // column read element by element a page or more per element.
    let far = rowStride == 1 ? Swift.max(r * size, 1 << 16) : r * Swift.max(rowStride * size, 1 << 16)
    let near = rowStride == 1 ? r * size : far
    var mapped = 0
    // Columns of the scalar's own type stored in one run are read with pread,
    // each run of consecutive columns in one call: from the page cache,
    // mapping nothing in (a fault would map 64 KB to take a few hundred bytes).
    let direct =
      rowStride == 1 && MemoryLayout<S>.size == size && (S.self == Float.self) == (dataType == .float32)
      && (S.self == Double.self) == (dataType == .float64)
    out.withUnsafeMutableBufferPointer { dst in
      var k = 0
      var run: (first: Int, column: Int, count: Int)?
      func flush() {
        guard let r0 = run else { return }
        let target = dst.baseAddress! + r0.column * r
        if !file.read(target, count: r0.count * r * size, at: dataOffset + r0.first * columnStride * size) {
          // Cut short since the size was checked: NaN, and ``problem`` says why.
          file.shortenedTo = file.currentSize()
          target.update(repeating: .nan, count: r0.count * r)
        }
        run = nil
      }
      var previous = Int.min
      for j in indices {
        if j < 0 || j >= c { shapeFailure("NPYArray.gatherColumns: column \(j) is outside 0..<\(c)") }
        if direct {
          if let r0 = run, j == r0.first + r0.count {
            run!.count += 1
          } else {
            flush()
            run = (j, k, 1)
          }
        } else {
          let column = dst.baseAddress! + k * r
          Self.convert(dataType, data + j * columnStride * size, stride: rowStride, count: r, into: column)
          mapped += j == previous + 1 ? near : far
        }
        previous = j
        k += 1
      }
      flush()
    }
    file.noteRead(mapped)
  }

  /// Converts `count` elements `stride` elements apart, starting at `source`.
  static func convert<S: BLASScalar>(
    _ type: NPYDataType, _ source: UnsafeRawPointer, stride: Int, count: Int, into target: UnsafeMutablePointer<S>
  ) {
    if stride == 1 && S.self == Float.self && type == .float32 {
      UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 4)
      return
    }
    if stride == 1 && S.self == Double.self && type == .float64 {
      UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 8)
      return
    }
    switch type {
    case .float32: run(source, stride, count, target, Float.self) { S($0) }
    case .float64: run(source, stride, count, target, Double.self) { S($0) }
    case .int8: run(source, stride, count, target, Int8.self) { S($0) }
    case .uint8: run(source, stride, count, target, UInt8.self) { S($0) }
    case .bool: run(source, stride, count, target, UInt8.self) { $0 == 0 ? 0 : 1 }
    case .int16: run(source, stride, count, target, Int16.self) { S($0) }
    case .uint16: run(source, stride, count, target, UInt16.self) { S($0) }
    case .int32: run(source, stride, count, target, Int32.self) { S($0) }
    case .uint32: run(source, stride, count, target, UInt32.self) { S($0) }
    case .int64: run(source, stride, count, target, Int64.self) { S($0) }
    case .uint64: run(source, stride, count, target, UInt64.self) { S($0) }
    }
  }

  @inline(__always)
  static func run<T, S>(
    _ source: UnsafeRawPointer, _ stride: Int, _ count: Int, _ target: UnsafeMutablePointer<S>, _: T.Type,
    _ convert: (T) -> S
  ) {
    let step = stride * MemoryLayout<T>.size
    for i in 0..<count {
      target[i] = convert(source.loadUnaligned(fromByteOffset: i * step, as: T.self))
    }
  }

  static func escaped(_ bytes: some Collection<UInt8>) -> String {
    bytes.map { b in
      (0x20..<0x7F).contains(b) && b != 0x22 && b != 0x5C
        ? String(UnicodeScalar(b)) : "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
    }.joined()
  }
}

/// A `.npy` array read whole from bytes in memory, such as a member of an
/// `.npz` archive (which is a zip of `.npy` files).
///
///     let w = try NPYBuffer(bytes: member, path: "model.npz/W1.npy")
///     let W1: Matrix<Float> = w.matrix()
public struct NPYBuffer: Sendable {
  /// Where the bytes came from, for messages.
  public let path: String
  /// The array's shape as NumPy reports it (at most 2 dimensions).
  public let shape: [Int]
  /// The element type.
  public let dataType: NPYDataType
  /// Whether the elements are stored column by column (Fortran order).
  public let fortranOrder: Bool
  /// The elements' bytes, as stored.
  let data: [UInt8]

  /// Reads the header of `bytes` (a whole `.npy` file) and keeps the
  /// elements; throws ``NPYError`` as ``NPYArray/init(path:)`` does, naming
  /// `path`.
  public init(bytes: [UInt8], path: String) throws(NPYError) {
    let header = try bytes.withUnsafeBytes { raw in
      Result { () throws(NPYError) in try NPYArray.readHeader(raw, path: path) }
    }.get()
    self.path = path
    (shape, dataType, fortranOrder) = (header.shape, header.dataType, header.fortranOrder)
    let count = shape.reduce(1, *) * dataType.size
    data = Array(bytes[header.dataOffset..<(header.dataOffset + count)])
  }

  /// What the header of a `.npy` file says, read before its elements (an
  /// `.npz` member is checked against it before it is inflated whole).
  package struct Layout: Sendable {
    package var shape: [Int]
    package var dataType: NPYDataType
    /// The bytes of the whole file: the header, then the elements its shape and type need.
    package var byteCount: Int
  }

  /// The length of the header of the `.npy` file that `prefix` begins (the
  /// offset of its elements), from its first 12 bytes (or all of a shorter
  /// file); throws as ``NPYArray/init(path:)`` does for a wrong magic or version.
  package static func headerEnd(_ prefix: [UInt8], path: String) throws(NPYError) -> Int {
    let (_, start, length) = try prefix.withUnsafeBytes { raw in
      Result { () throws(NPYError) in try NPYArray.preamble(raw, path: path) }
    }.get()
    return start + length
  }

  /// The layout of the `.npy` file whose first bytes, up to the end of its
  /// header, are `header`; throws as ``NPYArray/init(path:)`` does.
  package static func layout(_ header: [UInt8], path: String) throws(NPYError) -> Layout {
    let h = try header.withUnsafeBytes { raw in
      Result { () throws(NPYError) in try NPYArray.readHeader(raw, path: path, elementsFollow: false) }
    }.get()
    let (total, overflow) = h.dataOffset.addingReportingOverflow(h.dataBytes)
    guard !overflow else { throw NPYError(path: path, problem: .unsupportedShape(h.shape)) }
    return Layout(shape: h.shape, dataType: h.dataType, byteCount: total)
  }

  /// Rows of the array seen as a matrix: a 1-D array of `n` elements is `1 × n`.
  public var rows: Int { shape.count == 2 ? shape[0] : 1 }
  /// Columns of the array seen as a matrix.
  public var columns: Int { shape.count == 2 ? shape[1] : (shape.first ?? 1) }

  /// The array as a `rows × columns` matrix, converted to `S`.
  public func matrix<S: BLASScalar>(_ type: S.Type = S.self) -> Matrix<S> {
    var out = Matrix<S>.zeros(rows, columns)
    let (r, c) = (rows, columns)
    let (rowStride, columnStride) = fortranOrder ? (1, r) : (c, 1)
    let size = dataType.size
    data.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer { dst in
        guard let source = raw.baseAddress, r > 0 else { return }
        for j in 0..<c {
          NPYArray.convert(
            dataType, source + j * columnStride * size, stride: rowStride, count: r, into: dst.baseAddress! + j * r)
        }
      }
    }
    return out
  }
}

/// Reads the header dict: exactly the keys `descr` (a string),
/// `fortran_order` (True or False) and `shape` (a tuple of whole numbers), in
/// any order, with Python's spacing and an optional trailing comma.
struct HeaderParser {
  struct Fields {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
  }

  struct Failure: Error {
    var message: String
    var offset: Int
  }

  let bytes: [UInt8]
  let start: Int
  var i = 0

  init(bytes: [UInt8], start: Int) {
    self.bytes = bytes
    self.start = start
  }

  func failure(_ message: String) -> Failure { Failure(message: message, offset: start + i) }

  var current: String {
    i < bytes.count ? "\"" + NPYArray.escaped([bytes[i]]) + "\"" : "the end of the header"
  }

  mutating func skipSpaces() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
  }

  mutating func expect(_ c: Character, _ what: String) throws(Failure) {
    skipSpaces()
    guard i < bytes.count, bytes[i] == c.asciiValue! else { throw failure("expected \(what), found \(current)") }
    i += 1
  }

  mutating func peek(_ c: Character) -> Bool {
    skipSpaces()
    return i < bytes.count && bytes[i] == c.asciiValue!
  }

  mutating func string() throws(Failure) -> String {
    skipSpaces()
    guard i < bytes.count, bytes[i] == 0x27 || bytes[i] == 0x22 else {
      throw failure("expected a quoted string, found \(current)")
    }
    let quote = bytes[i]
    i += 1
    let from = i
    while i < bytes.count && bytes[i] != quote { i += 1 }
    guard i < bytes.count else { throw failure("a string that is not closed") }
    let text = String(decoding: bytes[from..<i], as: UTF8.self)
    i += 1
    return text
  }

  mutating func word() -> String {
    skipSpaces()
    let from = i
    while i < bytes.count, (0x41...0x5A).contains(bytes[i]) || (0x61...0x7A).contains(bytes[i]) { i += 1 }
    return String(decoding: bytes[from..<i], as: UTF8.self)
  }

  mutating func tuple() throws(Failure) -> [Int] {
    try expect("(", "a tuple such as (3, 4) for the shape")
    var values: [Int] = []
    while !peek(")") {
      let from = i
      while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
      guard i > from, let value = Int(String(decoding: bytes[from..<i], as: UTF8.self)) else {
        throw failure("expected a whole number ≥ 0 in the shape, found \(current)")
      }
      values.append(value)
      if peek(",") {
        i += 1
      } else if !peek(")") {
        throw failure("expected \",\" or \")\" in the shape, found \(current)")
      }
    }
    i += 1
    return values
  }

  mutating func parse() throws(Failure) -> Fields {
    try expect("{", "the header dict's \"{\"")
    var descr: String?
    var fortran: Bool?
    var shape: [Int]?
    while !peek("}") {
      let keyOffset = i
      let key = try string()
      try expect(":", "\":\" after '\(key)'")
      switch key {
      case "descr":
        if peek("[") { throw failure("a structured element type (a list of fields); only plain arrays are read") }
        descr = try string()
      case "fortran_order":
        switch word() {
        case "True": fortran = true
        case "False": fortran = false
        default: throw failure("fortran_order must be True or False")
        }
      case "shape": shape = try tuple()
      default:
        i = keyOffset
        throw failure("an unknown key '\(key)' (a header has descr, fortran_order and shape)")
      }
      if peek(",") { i += 1 } else if !peek("}") { throw failure("expected \",\" or \"}\", found \(current)") }
    }
    i += 1
    skipSpaces()
    guard i == bytes.count else { throw failure("\(current) after the header dict") }
    guard let descr else { throw failure("the header has no 'descr'") }
    guard let fortran else { throw failure("the header has no 'fortran_order'") }
    guard let shape else { throw failure("the header has no 'shape'") }
    return Fields(descr: descr, fortranOrder: fortran, shape: shape)
  }
}

extension Matrix {
  /// The magic, version 1.0 and the header of a `rows × columns` array of
  /// this scalar, padded to a multiple of 64 bytes as NumPy pads it.
  static func npyHeader(rows: Int, columns: Int, fortranOrder: Bool) -> [UInt8] {
    let descr = Scalar.self == Float.self ? "<f4" : "<f8"
    var header =
      "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': (\(rows), \(columns)), }"
    // Magic (6) + version (2) + length (2) + header + "\n", padded to 64 bytes.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let length = header.utf8.count
    return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
  }

  /// Reads a `.npy` file written by NumPy (`np.save`): 2-D as it is, 1-D as a
  /// row, `transposed: true` for its transpose (e.g. an `m × n_x` array of
  /// examples as rows, read as `n_x × m`). Types and errors are those of
  /// ``NPYArray``; the file is memory-mapped and read once.
  public init(npyFile path: String, transposed: Bool = false) throws(NPYError) {
    self = try NPYArray(path: path).matrix(Scalar.self, transposed: transposed)
  }

  /// Writes the matrix as a `.npy` file (format 1.0, `<f4` for Float, `<f8`
  /// for Double, shape `(rows, columns)`) that `np.load` reads back as the same
  /// array. The elements are written in Fortran order, which is how a
  /// Matrix keeps them, unless `fortranOrder` is false.
  ///
  /// The file is written next to its destination and renamed over it, so a
  /// reader never sees half a file; a destination that exists and is not a
  /// regular file (a device, a folder) is refused.
  public func write(npyFile path: String, fortranOrder: Bool = true) throws(NPYError) {
    let writer = try NPYWriter<Scalar>(path: path, rows: rows, columns: columns, fortranOrder: fortranOrder)
    // In C order the file holds the rows one after the other: the storage of the transpose.
    let stored = fortranOrder ? self : transposed
    try writer.appendRaw(stored)
    writer.written = columns
    try writer.finish()
  }
}

/// Writes a `.npy` file of a known shape a block of columns at a time (in
/// Fortran order), for a matrix that is never in memory whole: ``append(_:)``
/// the columns in order, then ``finish()``, which renames the file into
/// place. Until then the data is in `path.part-HOST-PID`, removed if the
/// writer is dropped unfinished, or on SIGINT/SIGTERM/SIGHUP once a program
/// has called ``PartialFiles/removeOnTermination()``.
public final class NPYWriter<Scalar: BLASScalar> {
  public let path: String
  public let rows: Int
  public let columns: Int
  public internal(set) var written = 0
  let temporary: String
  var slot: Int?
  var fd: Int32
  var buffer: [UInt8] = []

  /// Creates the file's temporary and writes the header of a `rows × columns` array.
  public convenience init(path: String, rows: Int, columns: Int) throws(NPYError) {
    try self.init(path: path, rows: rows, columns: columns, fortranOrder: true)
  }

  init(path: String, rows: Int, columns: Int, fortranOrder: Bool) throws(NPYError) {
    self.path = path
    self.rows = rows
    self.columns = columns
    temporary = path + PartialFiles.suffix
    var info = stat()
    if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
      throw NPYError(path: path, problem: .cannotWrite("it exists and is not a regular file; refusing to replace it"))
    }
    // Registered before it exists, so that a signal never leaves it behind.
    slot = PartialFiles.started(temporary)
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 {
      PartialFiles.finished(slot)
      slot = nil
      throw NPYError(path: path, problem: .cannotWrite(String(cString: strerror(errno))))
    }
    buffer = Matrix<Scalar>.npyHeader(rows: rows, columns: columns, fortranOrder: fortranOrder)
  }

  deinit {
    if fd >= 0 {
      close(fd)
      unlink(temporary)
    }
    PartialFiles.finished(slot)
    slot = nil
  }

  /// Appends the columns of `block` (which has ``rows`` rows).
  public func append(_ block: Matrix<Scalar>) throws(NPYError) {
    if block.rows != rows || written + block.columns > columns {
      shapeFailure(
        "NPYWriter.append: a block of \(block.shape) after \(written) of \(columns) columns of \(rows) rows does not fit"
      )
    }
    try appendRaw(block)
    written += block.columns
  }

  /// Appends the storage of `block` as it is.
  func appendRaw(_ block: Matrix<Scalar>) throws(NPYError) {
    block.withUnsafeBufferPointer { buffer.append(contentsOf: UnsafeRawBufferPointer($0)) }
    if buffer.count >= 1 << 22 { try flush() }
  }

  func flush() throws(NPYError) {
    let ok = buffer.withUnsafeBytes { p in
      var done = 0
      while done < p.count {
        let n = Glibc.write(fd, p.baseAddress! + done, p.count - done)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        done += n
      }
      return true
    }
    if !ok { throw NPYError(path: path, problem: .cannotWrite(String(cString: strerror(errno)))) }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes what is left and renames the file into place; traps unless
  /// every column was appended.
  public func finish() throws(NPYError) {
    if written != columns { shapeFailure("NPYWriter.finish: \(written) of \(columns) columns were appended") }
    try flush()
    let closed = close(fd)
    fd = -1
    defer {
      PartialFiles.finished(slot)
      slot = nil
    }
    guard closed == 0, rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw NPYError(path: path, problem: .cannotWrite(reason))
    }
  }
}
