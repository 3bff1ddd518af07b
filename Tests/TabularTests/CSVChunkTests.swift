import Foundation
import Tabular
import Testing

@testable import Tabular

/// Issue 12: a file read a chunk at a time gives the records, fields and
/// line numbers of the file read whole, wherever the chunks end.
@Suite struct CSVChunkTests {
  static let text =
    "\u{FEFF}name,\"note, with comma\",value\r\n\"a \"\"quoted\"\" word\",\"two\nlines\",1.5\r\n\nb,,2e3\rc,\"x\",3\n"
    // A quote inside an unquoted field is text; the next field's quotes hold a line break.
    + "x\"y,\"p\nq\",7\n"
    + (0..<40).map { "row\($0),\"multi\nline \($0)\",\($0)\n" }.joined() + "last,\"end\",99"

  /// Every record as (line, fields).
  static func rows(_ csv: CSVFile) -> [(Int, [String])] {
    csv.records.indices.map { r in
      (csv.records[r].line, (0..<csv.records[r].count).map { csv.text(record: r, field: $0) })
    }
  }

  @Test(arguments: [1, 2, 7, 64, 1 << 20])
  func chunksGiveTheRecordsOfTheWholeFile(chunkBytes: Int) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("t.csv").path
    try Data(Self.text.utf8).write(to: URL(fileURLWithPath: path))
    let whole = try CSVFile(path: path)
    var reader = try CSVChunkReader(path: path, chunkBytes: chunkBytes)
    defer { reader.close() }
    #expect(reader.header == whole.header && reader.header == ["name", "note, with comma", "value"])
    var chunked: [(Int, [String])] = []
    var chunks = 0
    while let chunk = try reader.next() {
      chunked += Self.rows(chunk)
      chunks += 1
    }
    let expected = Self.rows(whole)
    #expect(expected.count == 45)
    #expect(chunked.map(\.0) == expected.map(\.0))
    #expect(chunked.map(\.1) == expected.map(\.1))
    #expect(expected[2].0 == 6 && expected[2].1 == ["c", "x", "3"])  // after a lone CR
    #expect(expected[3].0 == 7 && expected[3].1 == ["x\"y", "p\nq", "7"])
    #expect(expected.last!.0 == 89 && expected.last!.1 == ["last", "end", "99"])
    if chunkBytes < 64 { #expect(chunks > 10) }
  }

  @Test func aRowWithTooManyFieldsInALaterChunkNamesItsLine() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("t.csv").path
    try Data(("a,b\n" + String(repeating: "1,2\n", count: 30) + "1,2,3\n").utf8).write(to: URL(fileURLWithPath: path))
    var reader = try CSVChunkReader(path: path, chunkBytes: 16)
    defer { reader.close() }
    #expect(throws: TableError("\(path):32: this row has more than 2 fields, expected 2 (as the header has)")) {
      while try reader.next() != nil {}
    }
  }
}
