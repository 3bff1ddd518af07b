import Testing

@testable import BLASNetCLI

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
    #expect(throws: CLIError("t.csv:2: column 1: unexpected text after the closing quote of a field")) {
      try parse("x,y\n\"a\"b,1\n")
    }
  }
}
