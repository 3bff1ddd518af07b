import Foundation
import Tabular
import Testing

@testable import Tabular

@Suite struct CSVTests {
  func parse(_ text: String) throws -> CSVFile { try CSVFile(path: "t.csv", bytes: Array(text.utf8)) }

  @Test func quotedFieldsCRLFAndByteOrderMark() throws {
    let csv = try parse(
      "\u{FEFF}name,\"note, with comma\",value\r\n\"a \"\"quoted\"\" word\",\"two\nlines\",1.5\r\nb,,2e3\r\n")
    #expect(csv.header == ["name", "note, with comma", "value"])
    #expect(csv.records.count == 2)
    #expect(csv.text(record: 0, field: 0) == "a \"quoted\" word")
    #expect(csv.text(record: 0, field: 1) == "two\nlines")
    #expect(csv.number(record: 0, field: 2) == 1.5)
    #expect(csv.records[1].line == 4)  // the quoted line break counts
    #expect(csv.text(record: 1, field: 1) == "")
    #expect(csv.number(record: 1, field: 1) == nil)
    #expect(csv.number(record: 1, field: 2) == 2000)
  }

  /// Blanks at a field's ends go as Foundation's `.whitespaces` trimming
  /// takes them (spaces, tabs, other Unicode blanks), not line breaks or
  /// blanks inside; a field with no blank at its ends comes back as it is.
  @Test func fieldsAreTrimmedAsFoundationTrimsThem() {
    let cases = [
      "a", " a", "a ", "\ta\t", "  a b  ", "", " ", "\t", "é", " é ", "\u{00A0}x\u{2003}", "x\u{00A0}", "a\n",
      "\u{2003}", "名前", "\u{3000}名前",
    ]
    for text in cases {
      #expect(trimmed(text) == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
    }
    #expect(trimmed(" a b\t") == "a b" && trimmed("\u{00A0}x\u{2003}") == "x" && trimmed("a\n") == "a\n")
  }

  @Test func blankLinesAndSpacesAreIgnored() throws {
    let csv = try parse("x, y\n\n 1 , 2\n\n3,4")
    #expect(csv.header == ["x", "y"])
    #expect(csv.records.count == 2)
    #expect(csv.number(record: 0, field: 0) == 1)
    #expect(csv.number(record: 1, field: 1) == 4)
    #expect(csv.records[1].line == 5)
  }

  @Test func numbersMustBeWholeFields() throws {
    let csv = try parse("x\n12abc\n1e5\n-0.25\n0x10\n")
    #expect(csv.number(record: 0, field: 0) == nil)
    #expect(csv.number(record: 1, field: 0) == 1e5)
    #expect(csv.number(record: 2, field: 0) == -0.25)
  }

  @Test func textAfterAClosingQuoteIsAnError() {
    #expect(throws: TableError("t.csv:2: column 1: unexpected text after the closing quote of a field")) {
      try parse("x,y\n\"a\"b,1\n")
    }
  }

  func refusal(_ bytes: [UInt8]) -> String {
    do {
      _ = try CSVFile(path: "t.csv", bytes: bytes)
      return "accepted"
    } catch {
      return error.description
    }
  }

  @Test func aRowWiderThanTheHeaderStopsAtTheFirstExtraField() throws {
    // 3 fields in the header, then a row of a million: refused at its line,
    // and its fields are never kept (the error comes before the 4th).
    let row = Array(repeating: "1", count: 1_000_000).joined(separator: ",")
    let message = refusal(Array("a,b,c\n1,2,3\n\(row)\n".utf8))
    #expect(message == "t.csv:3: this row has more than 3 fields, expected 3 (as the header has)")
  }

  @Test func aHeaderWiderThanTenMillionColumnsIsRefused() throws {
    var bytes = [UInt8](repeating: UInt8(ascii: ","), count: CSVFile.maxColumns + 1)
    bytes += Array("\n1\n".utf8)
    #expect(refusal(bytes) == "t.csv:1: the header has more than 10000000 columns, the most this reader takes")
  }

  @Test func aFieldPastOneMebibyteIsAnErrorAtItsLine() throws {
    let long = String(repeating: "7", count: CSVFile.maxFieldBytes + 1)
    #expect(
      refusal(Array("a,b\n1,2\n3,\(long)\n".utf8))
        == "t.csv:3: column 2: a field is longer than 1048576 bytes, the most this reader takes")
    #expect(
      refusal(Array("a,b\n\"\(long)\",2\n".utf8))
        == "t.csv:2: column 1: a field is longer than 1048576 bytes, the most this reader takes (a quote never closed?)"
    )
    // Exactly the limit is still a field.
    let limit = String(repeating: "7", count: CSVFile.maxFieldBytes)
    #expect(refusal(Array("a,b\n1,\(limit)\n".utf8)) == "accepted")
  }

  @Test func utf16AndBinaryFilesAreNamedAsSuch() throws {
    let text = "a,b\n17.99,1\n"
    var le: [UInt8] = [0xFF, 0xFE]
    var be: [UInt8] = [0xFE, 0xFF]
    var bare: [UInt8] = []
    for unit in text.utf16 {
      le += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
      be += [UInt8(unit >> 8), UInt8(unit & 0xFF)]
      bare += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
    }
    #expect(
      refusal(le)
        == "t.csv: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); BLASNet reads UTF-8 CSV; convert it first, e.g. iconv -f UTF-16 -t UTF-8"
    )
    #expect(refusal(be).hasPrefix("t.csv: the file is UTF-16 text"))
    #expect(refusal([0xFF, 0xFE, 0, 0] + Array("a".utf8)).hasPrefix("t.csv: the file is UTF-32 text"))
    #expect(refusal(bare).hasPrefix("t.csv:1: the file has a NUL byte at byte offset 1: it is UTF-16 text without"))
  }

  @Test func quotedValuesInMessagesAreCappedAt80Characters() {
    #expect(quoted("abc") == "\"abc\"")
    let long = String(repeating: "x", count: 5000)
    let q = quoted(long)
    #expect(q == "\"" + String(repeating: "x", count: 79) + "…\" (5000 bytes)")
  }
}
