import Foundation

/// Records sent as JSON, as a prediction service receives them: one object,
/// an array of objects, or `{"records": [...]}`; each value a string, a
/// number, a boolean or `null` (missing). The result feeds
/// ``TabularModel/inputs(for:unseenCategories:)``.
///
///     let records = try JSONRecords.decode(Array(body), maxRecords: 10_000)
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
    var records: [[String: String]] = []
    records.reserveCapacity(list.count)
    for (r, item) in list.enumerated() {
      guard let object = item as? [String: Any] else {
        throw Failure(kind: .notAnObject, message: "record \(r) is not a JSON object", record: r)
      }
      var record: [String: String] = [:]
      record.reserveCapacity(object.count)
      for (key, value) in object {
        if let text = value as? String {
          record[key] = text
        } else if value is NSNull {
          record[key] = ""
        } else if let number = value as? NSNumber {
          // A JSON true or false is a boolean NSNumber (a class of its own); keep its spelling.
          let boolean = String(describing: type(of: number)).contains("Boolean")
          record[key] = boolean ? (number.boolValue ? "true" : "false") : number.stringValue
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
