import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

@testable import Tabular

/// Issue 22 (3): a file predicted a chunk at a time gives what the file read
/// whole gives, notes included, and a bad row keeps every row before it.
@Suite struct StreamingPredictTests {
  /// The clinical model of the README (text labels, an id, categories, gaps).
  static let model: TabularModel = {
    try! TabularModel.fit(
      .csvFile(clinical.appendingPathComponent("breast-masses.csv").path), options: clinicalOptions(epochs: 20)
    ).model
  }()

  func withFile<R>(_ text: String, _ body: (String) throws -> R) throws -> R {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("t.csv").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try body(path)
  }

  /// The new patients, repeated so that small chunks cut the file many times.
  func patients(times: Int) throws -> String {
    let text = try String(
      contentsOf: clinical.appendingPathComponent("new-patients.csv"), encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
    return ([String(lines[0])] + Array(repeating: lines.dropFirst().map(String.init), count: times).flatMap { $0 })
      .joined(separator: "\n") + "\n"
  }

  @Test(arguments: [64, 1000, 8 << 20])
  func chunksGiveTheWholeFilesPredictionsAndNotes(_ chunkBytes: Int) throws {
    let model = Self.model
    try withFile(try patients(times: 7)) { path in
      let whole = try model.predict(csvFile: path, keep: ["patient_id"])
      var predictions: [TabularPrediction] = []
      var lines: [Int] = []
      var ids: [String] = []
      var chunks = 0
      let notes = try model.predict(csvFile: path, keep: ["patient_id"], chunkBytes: chunkBytes) {
        (chunk) throws(TableError) in
        chunks += 1
        predictions += chunk.predictions
        lines += chunk.lines
        ids += chunk.keptColumns[0].fields
        #expect(chunk.outputs.columns == chunk.predictions.count)
        #expect(chunk.fractionRead > 0 && chunk.fractionRead <= 1)
      }
      // Within float rounding: the products of a chunk's rows may take other BLAS kernel paths.
      #expect(predictions.map(\.className) == whole.predictions.map(\.className))
      #expect(predictions.count == whole.predictions.count)
      for (a, b) in zip(predictions, whole.predictions) {
        #expect(zip(a.probabilities, b.probabilities).allSatisfy { Swift.abs($0 - $1) <= 1e-6 })
      }
      #expect(lines == Array(2..<(2 + whole.predictions.count)))
      #expect(ids == whole.keptColumns[0].fields)
      #expect(notes == whole.notes, "\(notes)\n\(whole.notes)")
      #expect(!notes.isEmpty)
      #expect(chunkBytes > 1000 ? chunks == 1 : chunks > 3)
    }
  }

  /// A bad row in the middle of a chunk: the chunk's rows before it are
  /// delivered, then the error names its line and column.
  @Test(arguments: [64, 8 << 20])
  func aBadRowKeepsEveryRowBeforeIt(_ chunkBytes: Int) throws {
    let model = Self.model
    var text = try patients(times: 5)
    var lines = text.split(separator: "\n").map(String.init)
    // Line 14 (row 13): its second field, a number, made text.
    var fields = lines[13].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let header = lines[0].split(separator: ",").map(String.init)
    let numeric = try #require(header.firstIndex(of: "mean_radius"))
    fields[numeric] = "twelve"
    lines[13] = fields.joined(separator: ",")
    text = lines.joined(separator: "\n") + "\n"
    try withFile(text) { path in
      var seen: [Int] = []
      do {
        _ = try model.predict(csvFile: path, chunkBytes: chunkBytes) { (chunk) throws(TableError) in
          seen += chunk.lines
        }
        Issue.record("a bad row was predicted")
      } catch let error as TableError {
        #expect(error.line == 14 && error.column == numeric + 1, "\(error.description)")
      }
      #expect(seen == Array(2..<14))
    }
  }
}

extension StreamingPredictTests {
  /// `evaluate(csvFile:)` reads its file in chunks now: its metrics are those
  /// of the whole file read at once, for two classes and for several.
  @Test func evaluationInChunksGivesTheWholeFilesMetrics() throws {
    let model = Self.model
    let path = clinical.appendingPathComponent("breast-masses.csv").path
    let whole = try Dataset.forModel(path: path, model: model, requireLabel: true)
    let expected = try Evaluation(model: model).metrics(name: "breast-masses.csv", whole)
    let streamed = try model.evaluate(csvFile: path)
    let a = try #require(streamed.metrics.binary)
    let b = try #require(expected.binary)
    #expect(a.confusion == b.confusion && a.rocAUC == b.rocAUC)
    #expect(a.confusion.truePositives + a.confusion.falseNegatives > 0)
    #expect(streamed.metrics.name == "breast-masses.csv")
  }
}
