import Foundation
import LinearAlgebra
import NeuralNetwork
import Testing

@testable import Tabular

/// A CSV file read in a stream (three passes) that changes between the passes
/// is an error naming the file and what changed, never a trap, never a model
/// of two versions of the data.
@Suite struct ChangingFileTests {
  let wdbc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralNetworkTests/Fixtures/wdbc.csv")

  @Test(arguments: ["appended", "shortened"])
  func aFileChangedBetweenPassesIsAnError(_ change: String) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("changing-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("w.csv").path
    let text = try String(contentsOf: wdbc, encoding: .utf8)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let cache = try DataCache(csv: path, folder: nil)
    try cache.create()
    let rows = try StreamedRows.read(
      path: path, label: nil, ignore: [], markers: TabularEncoder.defaultMissingMarkers, cache: cache, mayBuild: true)
    #expect(rows.count == 569)
    // Between the first pass and the others, the file changes.
    let lines = text.split(separator: "\n")
    let changed = change == "appended" ? text + lines[1] + "\n" : lines.dropLast(10).joined(separator: "\n") + "\n"
    try changed.write(toFile: path, atomically: false, encoding: .utf8)
    do {
      _ = try rows.encode(
        trainingRows: Array(0..<400), missing: .error, maxCategories: 50, cache: cache, mayBuild: true)
      Issue.record("a file changed between the passes was encoded")
    } catch {
      #expect(
        error.description.hasPrefix("\(path) changed while it was being read (before the second pass"),
        "\(error.description)")
      #expect(error.description.contains("nothing was trained from it"))
    }
  }
}
