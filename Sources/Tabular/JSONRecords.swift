import Foundation

/// Records sent as JSON, as a prediction service receives them: one object,
/// an array of objects, or `{"records": [...]}`; each value a string, a
/// number, a boolean or `null` (missing). The result feeds
/// ``TabularModel/inputs(for:unseenCategories:)-([[String:String]],_)``, or,
/// from ``decodeValues(_:maxRecords:)``, its form for typed values.
///
///     let records = try JSONRecords.decodeValues(Array(body), maxRecords: 10_000)
///     let x = try model.inputs(for: records)
public enum JSONRecords {
  /// Why a body is not a list of records.
  public struct Failure: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
      /// The bytes are not JSON.
      case notJSON
      /// JSON, but neither a record, an array of records nor `{"records": [...]}`.
      case notRecords
      /// No records at all.
      case empty
      /// More records than allowed.
      case tooMany
      /// An element of the array is not an object.
      case notAnObject
      /// A value is an array or an object.
      case badValue
    }
    public var kind: Kind
    public var message: String
    /// The 0-based record, when the problem is in one.
    public var record: Int?
    /// The field of that record, when the problem is in one.
    public var field: String?

    public var description: String { message }
  }

  /// The records of a JSON body, each field's value as text: a string as it
  /// is, a number as JSON spelt it (`1e0`, `17.99`), `true`/`false`, and
  /// `null` as the empty string (which every model reads as missing).
  public static func decode(_ bytes: [UInt8], maxRecords: Int = .max) throws(Failure) -> [[String: String]] {
    try records(
      bytes, maxRecords: maxRecords, text: { $0 }, null: "",
      number: { number, boolean in boolean ? (number.boolValue ? "true" : "false") : number.stringValue })
  }

  /// The records of a JSON body as typed values: a string as text, a
  /// number as a number (used as it is, not printed and parsed again),
  /// `true`/`false` as text, `null` as missing.
  public static func decodeValues(_ bytes: [UInt8], maxRecords: Int = .max) throws(Failure)
    -> [[String: TabularValue]]
  {
    try records(
      bytes, maxRecords: maxRecords, text: { .text($0) }, null: .missing,
      number: { number, boolean in boolean ? .text(number.boolValue ? "true" : "false") : .number(number.doubleValue) })
  }

  /// The records of a JSON body, each value made by `text`, `null` or
  /// `number` (given whether the number is a JSON boolean).
  static func records<Value>(
    _ bytes: [UInt8], maxRecords: Int, text: (String) -> Value, null: Value,
    number: (NSNumber, Bool) -> Value
  ) throws(Failure) -> [[String: Value]] {
    // JSONSerialization, not a Decodable value type: decoding each field by
    // trying types one after another threw an error per miss (120 µs a record).
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    } catch {
      throw Failure(kind: .notJSON, message: "the body is not JSON: \(error.localizedDescription)")
    }
    let list: [Any]
    if let array = json as? [Any] {
      list = array
    } else if let object = json as? [String: Any], object.count == 1, let array = object["records"] as? [Any] {
      list = array
    } else if json is [String: Any] {
      list = [json]
    } else {
      throw Failure(
        kind: .notRecords,
        message: "the body must be a record (a JSON object), an array of records, or {\"records\": [...]}")
    }
    if list.isEmpty { throw Failure(kind: .empty, message: "no records to predict") }
    if list.count > maxRecords {
      throw Failure(kind: .tooMany, message: "\(list.count) records in one request; the most is \(maxRecords)")
    }
    var records: [[String: Value]] = []
    records.reserveCapacity(list.count)
    for (r, item) in list.enumerated() {
      guard let object = item as? [String: Any] else {
        throw Failure(kind: .notAnObject, message: "record \(r) is not a JSON object", record: r)
      }
      var record: [String: Value] = [:]
      record.reserveCapacity(object.count)
      for (key, value) in object {
        if let string = value as? String {
          record[key] = text(string)
        } else if value is NSNull {
          record[key] = null
        } else if let n = value as? NSNumber {
          // A JSON true or false is a boolean NSNumber (a class of its own); keep its spelling.
          record[key] = number(n, String(describing: type(of: n)).contains("Boolean"))
        } else {
          throw Failure(
            kind: .badValue, message: "record \(r), field \(quoted(key)): a value must be a string, a number or null",
            record: r, field: key)
        }
      }
      records.append(record)
    }
    return records
  }
}
