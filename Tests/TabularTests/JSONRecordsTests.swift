import Tabular
import Testing

@Suite struct JSONRecordsTests {
  func decode(_ text: String, maxRecords: Int = 10) throws(JSONRecords.Failure) -> [[String: String]] {
    try JSONRecords.decode(Array(text.utf8), maxRecords: maxRecords)
  }

  @Test func oneRecordAnArrayAndTheRecordsKeyGiveTextValues() throws {
    #expect(
      try decode(#"{"a": 17.99, "b": "x y", "c": null, "d": true, "e": 1e0}"#) == [
        ["a": "17.99", "b": "x y", "c": "", "d": "true", "e": "1.0"]
      ])
    #expect(try decode(#"[{"a": -2}, {"a": false}]"#) == [["a": "-2"], ["a": "false"]])
    #expect(try decode(#"{"records": [{"a": "NA"}]}"#) == [["a": "NA"]])
    // A field named "records" beside others is an ordinary record.
    #expect(try decode(#"{"records": 1, "b": 2}"#) == [["records": "1", "b": "2"]])
    // Control characters and newlines in names and values are kept as sent.
    #expect(try decode(#"{"a\r\n": "x\u001b\n"}"#) == [["a\r\n": "x\u{1B}\n"]])
  }

  /// As typed values: numbers as numbers (17.99 is the Double 17.99), text
  /// as text, booleans spelt as text, null as missing; the same refusals.
  @Test func typedValuesKeepNumbersAsNumbers() throws {
    let body = #"[{"a": 17.99, "b": "x y", "c": null, "d": true, "e": 1e0, "f": -2}, {"a": "NA"}]"#
    #expect(
      try JSONRecords.decodeValues(Array(body.utf8)) == [
        ["a": .number(17.99), "b": .text("x y"), "c": .missing, "d": .text("true"), "e": .number(1), "f": .number(-2)],
        ["a": .text("NA")],
      ])
    #expect(throws: JSONRecords.Failure.self) { try JSONRecords.decodeValues(Array("[]".utf8)) }
    #expect(throws: JSONRecords.Failure.self) { try JSONRecords.decodeValues(Array("[{}, {}]".utf8), maxRecords: 1) }
  }

  @Test func whatIsNotAListOfRecordsIsRefusedNamingRecordAndField() {
    let cases: [(String, JSONRecords.Failure.Kind, String, Int?, String?)] = [
      ("{nope", .notJSON, "the body is not JSON", nil, nil),
      (
        "42", .notRecords, "the body must be a record (a JSON object), an array of records, or {\"records\": [...]}",
        nil, nil
      ),
      ("[]", .empty, "no records to predict", nil, nil),
      ("[{}, 3]", .notAnObject, "record 1 is not a JSON object", 1, nil),
      (
        #"[{"a": 1}, {"b": [1]}]"#, .badValue, #"record 1, field "b": a value must be a string, a number or null"#, 1,
        "b"
      ),
      (#"[{"a": {"x": 1}}]"#, .badValue, #"record 0, field "a": a value must be a string, a number or null"#, 0, "a"),
      ("[{}, {}, {}]", .tooMany, "3 records in one request; the most is 2", nil, nil),
    ]
    for (body, kind, message, record, field) in cases {
      #expect(throws: JSONRecords.Failure.self, "\(body)") { try decode(body, maxRecords: 2) }
      do {
        _ = try decode(body, maxRecords: 2)
      } catch {
        #expect(error.kind == kind, "\(body)")
        #expect(error.message.hasPrefix(message), "\(body): \(error.message)")
        #expect(error.record == record && error.field == field, "\(body)")
      }
    }
  }
}
