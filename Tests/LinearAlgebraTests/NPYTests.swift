import Foundation
import LinearAlgebra
import Testing

/// Issue 12: `.npy` files written by NumPy (Fixtures/npy/make-fixtures.py) read
/// bit for bit, BLASNet's own files read back, and every bad file a clear error.
@Suite struct NPYTests {
  /// The array `a` of make-fixtures.py, row by row, as Python's doubles.
  static let a: [[Double]] = [
    [0.1, -2.25, 1e-8, 3.0e38], [7.0, 0.3, -0.0, 65504.5], [1.0 / 3.0, -1e-30, 2.5, 100.0],
  ]

  static func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "npy"))
    return url.path
  }

  /// Column-major bit patterns, so that −0.0 and 0.0 differ.
  static func bits(_ m: Matrix<Float>) -> [UInt32] { m.elements.map(\.bitPattern) }
  static func bits(_ m: Matrix<Double>) -> [UInt64] { m.elements.map(\.bitPattern) }

  static func float() throws -> Matrix<Float> { try Matrix(a.map { $0.map { Float($0) } }) }
  static func double() throws -> Matrix<Double> { try Matrix(a) }

  @Test func float32InCOrderReadsBitForBit() throws {
    let file = try NPYArray(path: Self.fixture("f4-c"))
    #expect(file.shape == [3, 4] && file.dataType == .float32 && !file.fortranOrder)
    #expect(file.version == (1, 0) && file.dataOffset == 128)
    let m = try Matrix<Float>(npyFile: Self.fixture("f4-c"))
    #expect(m.shape == Shape(3, 4))
    #expect(Self.bits(m) == Self.bits(try Self.float()))
    #expect(m[1, 2].sign == .minus && m[1, 2] == 0)
  }

  @Test func float64InFortranOrderReadsBitForBit() throws {
    let file = try NPYArray(path: Self.fixture("f8-fortran"))
    #expect(file.fortranOrder && file.dataType == .float64)
    let m = try Matrix<Double>(npyFile: Self.fixture("f8-fortran"))
    #expect(Self.bits(m) == Self.bits(try Self.double()))
    // Double into Float rounds once, as NumPy's astype('<f4') does.
    let f = try Matrix<Float>(npyFile: Self.fixture("f8-fortran"))
    #expect(Self.bits(f) == Self.bits(try Self.float()))
  }

  @Test func formatVersion2Reads() throws {
    let file = try NPYArray(path: Self.fixture("f4-v2"))
    #expect(file.version == (2, 0))
    #expect(Self.bits(file.matrix(Float.self)) == Self.bits(try Self.float()))
  }

  @Test func transposedReadsTheArrayOfExamplesAsRows() throws {
    let c = try Matrix<Float>(npyFile: Self.fixture("f4-c"), transposed: true)
    let fortran = try Matrix<Float>(npyFile: Self.fixture("f8-fortran"), transposed: true)
    #expect(c.shape == Shape(4, 3))
    #expect(Self.bits(c) == Self.bits(try Self.float().transposed))
    #expect(Self.bits(fortran) == Self.bits(try Self.float().transposed))
  }

  @Test func columnsAreGatheredInTheOrderAsked() throws {
    for name in ["f4-c", "f8-fortran"] {
      let file = try NPYArray(path: Self.fixture(name))
      var out = Matrix<Float>.zeros(3, 3)
      file.gatherColumns([3, 0, 3], into: &out)
      #expect(out.elements == [3.0e38, 65504.5, 100, 0.1, 7, Float(1.0 / 3.0), 3.0e38, 65504.5, 100], "\(name)")
      // Transposed, the columns are the file's rows: row 2 then row 0.
      var rows = Matrix<Float>.zeros(4, 2)
      file.gatherColumns([2, 0], transposed: true, into: &rows)
      #expect(rows.elements == [Float(1.0 / 3.0), -1e-30, 2.5, 100, 0.1, -2.25, 1e-8, 3.0e38], "\(name)")
      let range: Matrix<Float> = file.columns(1..<3)
      #expect(range.elements == [-2.25, 0.3, -1e-30, 1e-8, -0, 2.5], "\(name)")
    }
  }

  @Test func integerAndBooleanArraysReadAsTheirValues() throws {
    let labels = try Matrix<Float>(npyFile: Self.fixture("labels-i8"))
    #expect(labels.shape == Shape(1, 5) && labels.elements == [0, 1, 1, 0, 1])
    let mask = try Matrix<Double>(npyFile: Self.fixture("mask-bool"))
    #expect(mask.elements == [1, 0, 0, 1])
    let scalar = try Matrix<Double>(npyFile: Self.fixture("f8-scalar"))
    #expect(scalar.shape == Shape(1, 1) && scalar[0, 0] == 2.5)
  }

  @Test func badFilesAreClearErrors() throws {
    func problem(_ path: String) -> NPYError? {
      do {
        _ = try NPYArray(path: path)
        return nil
      } catch {
        return error
      }
    }
    let truncated = try Self.fixture("f4-truncated")
    #expect(problem(truncated)?.problem == .truncated(expectedBytes: 48, foundBytes: 43, dataOffset: 128))
    #expect(
      problem(truncated)?.description
        == "\(truncated): truncated: the header promises 48 bytes of elements from byte 128, the file has 43")
    let deep = try Self.fixture("f4-3d")
    #expect(problem(deep)?.problem == .unsupportedShape([2, 3, 4]))
    #expect(problem(deep)?.description.contains("shape (2, 3, 4) has 3 dimensions; a Matrix has 2") == true)
    let big = try Self.fixture("f4-big-endian")
    #expect(problem(big)?.problem == .unsupportedType(">f4"))
    #expect(problem(big)?.description.contains("element type '>f4' is not read") == true)

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
      let path = folder.appendingPathComponent(name).path
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      return path
    }
    let csv = try file("data.npy", Array("a,b,c\n1,2,3\n".utf8))
    #expect(problem(csv)?.problem == .notNPY(found: "a,b,c\\x0a1,"))
    #expect(problem(try file("empty.npy", []))?.problem == .notNPY(found: ""))
    let missing = folder.appendingPathComponent("none.npy").path
    #expect(problem(missing)?.description == "\(missing): cannot read it: No such file or directory")
    #expect(problem(folder.path)?.problem == .cannotOpen("not a regular file"))
    let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    func npy(_ header: String, version: UInt8 = 1) -> [UInt8] {
      let h = Array(header.utf8)
      return magic + [version, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
    }
    #expect(
      problem(try file("v4.npy", npy("{}", version: 4)))?.problem == .unsupportedVersion(major: 4, minor: 0))
    let noShape = try file("noshape.npy", npy("{'descr': '<f4', 'fortran_order': False, }\n"))
    #expect(problem(noShape)?.problem == .malformedHeader("the header has no 'shape'", offset: 53))
    let extra = try file("extra.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n"))
    #expect(
      problem(extra)?.problem
        == .malformedHeader("an unknown key 'x' (a header has descr, fortran_order and shape)", offset: 66))
    let order = try file("order.npy", npy("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}\n"))
    #expect(problem(order)?.problem == .malformedHeader("fortran_order must be True or False", offset: 44))
    let shape = try file("shape.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -1)}\n"))
    #expect(
      problem(shape)?.problem
        == .malformedHeader("expected a whole number ≥ 0 in the shape, found \"-\"", offset: 64))
    let short = try file("short.npy", magic + [1, 0, 200, 0] + Array("{'descr'".utf8))
    #expect(
      problem(short)?.problem
        == .malformedHeader("the header is 200 bytes long but the file ends after 8", offset: 18))
    let structured = try file("rec.npy", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}\n"))
    #expect(
      problem(structured)?.problem
        == .malformedHeader("a structured element type (a list of fields); only plain arrays are read", offset: 20))
  }

  @Test func writtenFilesReadBackAndHaveNumPysLayout() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let m = try Self.float()
    let path = folder.appendingPathComponent("m.npy").path
    try m.write(npyFile: path)
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    // 128 bytes of header (a multiple of 64, ended by a newline), then 12 floats column by column.
    #expect(bytes.count == 128 + 48 && bytes[127] == 0x0A)
    let header = String(decoding: bytes[10..<127], as: UTF8.self).trimmingCharacters(in: .whitespaces)
    #expect(header == "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }")
    #expect(Self.bits(try Matrix<Float>(npyFile: path)) == Self.bits(m))
    // In C order the same matrix reads back the same; in Double too.
    try m.write(npyFile: path, fortranOrder: false)
    #expect(try !NPYArray(path: path).fortranOrder)
    #expect(Self.bits(try Matrix<Float>(npyFile: path)) == Self.bits(m))
    let d = try Self.double()
    try d.write(npyFile: path)
    #expect(try NPYArray(path: path).dataType == .float64)
    #expect(Self.bits(try Matrix<Double>(npyFile: path)) == Self.bits(d))
    // A device or a folder is never replaced; no temporary file is left behind.
    #expect(throws: NPYError.self) { try m.write(npyFile: folder.path) }
    #expect(throws: NPYError.self) { try m.write(npyFile: "/dev/null") }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.npy"])
    let unwritable = folder.appendingPathComponent("no/such/folder.npy").path
    #expect(throws: NPYError(path: unwritable, problem: .cannotWrite("No such file or directory"))) {
      try m.write(npyFile: unwritable)
    }
  }

  @Test func aWriterAppendsBlocksOfColumns() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = Matrix<Float>(rows: 3, columns: 10) { i, j in Float(10 * j + i) + 0.5 }
    let path = folder.appendingPathComponent("x.npy").path
    let writer = try NPYWriter<Float>(path: path, rows: 3, columns: 10)
    for range in [0..<4, 4..<5, 5..<10] {
      try writer.append(Matrix(rows: 3, columns: range.count) { i, j in whole[i, range.lowerBound + j] })
    }
    #expect(!FileManager.default.fileExists(atPath: path))  // not before finish()
    try writer.finish()
    #expect(try Matrix<Float>(npyFile: path) == whole)
    #expect(try NPYArray(path: path).fortranOrder)
    // A writer dropped unfinished leaves nothing behind.
    do {
      let unfinished = try NPYWriter<Float>(path: folder.appendingPathComponent("y.npy").path, rows: 3, columns: 10)
      try unfinished.append(whole)
      _ = unfinished
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["x.npy"])
  }

  /// Scattered columns are read with pread, so the mapping stays out of the
  /// resident set (shuffled batches of a file larger than memory); the
  /// values are those of the file.
  @Test func scatteredColumnsAreReadWithoutMappingTheFileIn() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("big.npy").path
    let (rows, columns) = (256, 32768)  // 32 MiB
    let writer = try NPYWriter<Float>(path: path, rows: rows, columns: columns)
    for block in 0..<32 {
      try writer.append(Matrix(rows: rows, columns: 1024) { i, j in Float((block * 1024 + j) * rows + i) })
    }
    try writer.finish()
    let file = try NPYArray(path: path)
    var order = Array(0..<columns)
    var generator = Xoshiro256StarStar(seed: 4)
    generator.shuffle(&order)
    var batch = Matrix<Float>.zeros(rows, 512)
    var start = 0
    while start < columns {
      file.gatherColumns(order[start..<(start + 512)], into: &batch)
      #expect(batch[7, 3] == Float(order[start + 3] * rows + 7))
      start += 512
    }
    // Runs of consecutive columns too, in one read each.
    var runs = Matrix<Float>.zeros(rows, 5)
    file.gatherColumns([5, 6, 7, 100, 101], into: &runs)
    #expect((0..<5).map { runs[1, $0] } == [5, 6, 7, 100, 101].map { Float($0 * rows + 1) })
    // The mapping's resident size, from /proc/self/smaps: what reading the
    // header maps in (a 4 KiB page, or a 2 MiB folio where the page cache
    // holds large ones), far from the 32 MiB read.
    // (/proc files report a size of 0: read them to the end.)
    let smaps = try withExtendedLifetime(file) {
      let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
      defer { try? handle.close() }
      return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
    }
    var resident: Int?
    for (k, line) in smaps.enumerated() where line.hasSuffix(path) {
      for detail in smaps[(k + 1)...] {
        if detail.hasPrefix("Rss:") {
          resident = Int(detail.split(separator: " ", omittingEmptySubsequences: true)[1])
          break
        }
      }
    }
    let kilobytes = try #require(resident, "\(path) is not mapped")
    #expect(kilobytes <= 4096, "\(kilobytes) kB of the file resident")
  }

  /// A file cut short after it was opened (np.save over the same name does
  /// that) is never read through the mapping past its end (a SIGBUS): the
  /// columns come back NaN and `problem` names the file and its sizes.
  @Test(arguments: [false, true])
  func aFileCutShortWhileMappedGivesAProblemNotASignal(transposed: Bool) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("x.npy").path
    let x = Matrix<Float>(rows: 4, columns: 3000) { i, j in Float(i * 10_000 + j) }
    try x.write(npyFile: path, fortranOrder: !transposed)
    let array = try NPYArray(path: path)
    var out = Matrix<Float>.zeros(transposed ? 3000 : 4, 2)
    array.gatherColumns([0, 1], transposed: transposed, into: &out)
    #expect(array.problem == nil && !out.elements.contains { $0.isNaN })
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: 200)
    try handle.close()
    array.gatherColumns([2, 1], transposed: transposed, into: &out)
    #expect(out.elements.allSatisfy { $0.isNaN })
    let expected = array.dataOffset + 4 * 3000 * 4
    #expect(
      array.problem
        == "\(path) was cut short while it was being read: it has 200 bytes now, its header promises \(expected); was it saved again (np.save over the same name)? nothing was trained from it"
    )
  }
}
