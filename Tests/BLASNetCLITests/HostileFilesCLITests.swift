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
}
