import Foundation
import Tabular
import Testing

@testable import TabularONNX

/// Files and outputs that used to get past the CLI or trap it (issue 32).
@Suite struct HostileFilesCLITests {
  /// A two-class model of a numeric and a text column, exported to ONNX.
  func exportedWithTextColumn(in folder: URL) throws -> Onnx_ModelProto {
    var lines = ["x,color,label"]
    for k in 0..<40 {
      let color = ["red", "green", "blue"][k % 3]
      lines.append("\(Double(k) / 10),\(color),\(k % 3 == 0 || k > 30 ? 1 : 0)")
    }
    let csv = try write(lines.joined(separator: "\n") + "\n", "colors.csv", in: folder)
    var options = TabularModel.FitOptions()
    options.label = "label"
    options.hiddenLayers = [4]
    options.epochs = 5
    let model = try TabularModel.fit(.csvFile(csv), options: options).model
    return try Onnx_ModelProto(serializedBytes: model.onnxModel())
  }

  /// `blasnet import` of an ONNX file whose OneHotEncoder lists a category
  /// twice: one error naming the node and the category, and no model file
  /// (it used to save one that `blasnet predict` then refused).
  @Test func anImportThatWouldNotLoadWritesNothing() throws {
    try withTemporaryFolder { folder in
      var graph = try exportedWithTextColumn(in: folder)
      let k = try #require(graph.graph.node.firstIndex { $0.opType == "OneHotEncoder" })
      let a = try #require(graph.graph.node[k].attribute.firstIndex { $0.name == "cats_strings" })
      let category = try #require(graph.graph.node[k].attribute[a].strings.last)
      graph.graph.node[k].attribute[a].strings.insert(category, at: 0)
      let onnx = folder.appendingPathComponent("twice.onnx")
      let bytes: [UInt8] = try graph.serializedBytes()
      try Data(bytes).write(to: onnx)
      let result = try CLI.run(["import", "twice.onnx", "--save", "imported.json"], in: folder)
      #expect(!result.crashed && result.status == 1)
      #expect(
        result.stderr
          == "blasnet: error: twice.onnx: node \"\(graph.graph.node[k].name)\" (OneHotEncoder): category \"\(String(decoding: category, as: UTF8.self))\" appears twice in cats_strings\n"
      )
      #expect(result.stdout.isEmpty)
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("imported.json").path))
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["colors.csv", "twice.onnx"])
    }
  }

  /// Leave-one-out on 44 rows, 11 positive: no fold of one row has a ROC
  /// AUC (printed n/a, never "nan ± nan"), a sensitivity only the 11
  /// positive folds and a specificity the 33 others (said so); the report
  /// holds no NaN or infinity anywhere, its charts included.
  @Test func leaveOneOutSaysWhichMeansCoverWhichFolds() throws {
    try withTemporaryFolder { folder in
      var lines = ["x,z,label"]
      for k in 0..<44 { lines.append("\(Double(k) / 8),\(k % 5),\(k % 4 == 0 ? 1 : 0)") }
      _ = try write(lines.joined(separator: "\n") + "\n", "loo.csv", in: folder)
      let r = try CLI.run(
        ["cv", "--data", "loo.csv", "--label", "label", "--folds", "44", "--epochs", "10", "--report", "cv.html"],
        in: folder)
      #expect(r.status == 0 && !r.crashed, "\(r.stderr)")
      let summary = r.stdout.split(separator: "\n").map(String.init).filter {
        $0.hasPrefix("  ") && !$0.hasPrefix("   ")
      }
      #expect(summary.count == 5, "\(r.stdout)")
      func line(_ name: String) -> String { summary.first { $0.hasPrefix("  " + name + " ") } ?? "" }
      #expect(line("ROC AUC") == "  ROC AUC       n/a")
      let number = "[0-9]\\.[0-9]{4}"
      let spread = "\(number) ± \(number) \\(\(number)–\(number)\\)"
      #expect(line("accuracy").wholeMatch(of: try Regex("  accuracy      \(spread)")) != nil, "\(line("accuracy"))")
      #expect(
        line("sensitivity").wholeMatch(of: try Regex("  sensitivity   \(spread), 11 of 44 folds")) != nil,
        "\(line("sensitivity"))")
      #expect(
        line("specificity").wholeMatch(of: try Regex("  specificity   \(spread), 33 of 44 folds")) != nil,
        "\(line("specificity"))")
      #expect(!r.stdout.lowercased().contains("nan") && !r.stdout.contains("inf"), "\(r.stdout)")
      let html = try String(contentsOf: folder.appendingPathComponent("cv.html"), encoding: .utf8)
      #expect(html.contains("<th>ROC AUC</th><td>n/a</td><td>n/a</td><td>n/a</td><td>0 of 44</td>"), "\(html)")
      #expect(html.contains("<th>sensitivity</th>") && html.contains("<td>11 of 44</td>"))
      #expect(html.firstMatch(of: try Regex("(?i)\\b-?(nan|inf|infinity)\\b")) == nil)
      #expect(!html.contains("=\"nan\""))
    }
  }
}
