import Foundation
import Tabular

/// `TabularModel.predict(_ records:)` timed: the default model fitted on a
/// CSV file (its last column the label), then its rows as `[String: String]`
/// records (the label left out), repeated to `count`, predicted in one call
/// and one record a call (the two compared), and the same records as typed
/// values (`[String: TabularValue]`, numbers as numbers) in one call.
public enum RecordsTiming {
  public struct Result: Sendable {
    /// Microseconds a record in one call of `count` records, and one record a call.
    public var batched: Double
    public var single: Double
    /// Microseconds a typed record in one call of `count`.
    public var typed: Double
    public var count: Int
    public var singleCount: Int
    /// Whether every record predicted alone, and every typed record, gave
    /// what the record gave in the batch.
    public var samePredictions: Bool
  }

  public static func run(csv path: String, count: Int, singleCount: Int = 10_000) throws -> Result {
    let model = try TabularModel.fit(.csvFile(path), options: TabularModel.FitOptions()).model
    let file = try CSVFile(path: path)
    let features = Array(file.header.indices.dropLast())
    let rows = (0..<file.records.count).map { r in
      Dictionary(uniqueKeysWithValues: features.map { (file.header[$0], file.text(record: r, field: $0)) })
    }
    let records = (0..<count).map { rows[$0 % rows.count] }
    // The same rows typed as a program would hold them: numbers as Double, the rest as text.
    let typedRows = rows.map { row in
      row.mapValues { field -> TabularValue in
        if let v = Double(field) { return .number(v) }
        return .text(field)
      }
    }
    let typedRecords = (0..<count).map { typedRows[$0 % typedRows.count] }
    func microseconds(_ d: Duration, _ n: Int) -> Double {
      (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(Swift.max(n, 1))
    }
    let a = ContinuousClock.now
    let all = try model.predict(records)
    let b = ContinuousClock.now
    var agree = true
    for k in 0..<Swift.min(singleCount, count) where try model.predict(records[k]) != all[k] { agree = false }
    let c = ContinuousClock.now
    let typed = try model.predict(typedRecords)
    let d = ContinuousClock.now
    if typed != all { agree = false }
    return Result(
      batched: microseconds(b - a, count), single: microseconds(c - b, Swift.min(singleCount, count)),
      typed: microseconds(d - c, count), count: count, singleCount: Swift.min(singleCount, count),
      samePredictions: agree)
  }
}
