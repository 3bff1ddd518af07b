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

  /// Runs the built `blasnet` with standard output sent to `output` (a file
  /// handle, or the write end of a pipe that `reader` reads from while it
  /// runs); stderr without the OpenBLAS kernel note.
  func run(
    _ arguments: [String], in folder: URL, standardOutput output: Any, reader: (() -> Void)? = nil
  ) throws -> (status: Int32, crashed: Bool, stderr: String) {
    let process = Process()
    process.executableURL = CLI.executable
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.standardOutput = output
    let err = Pipe()
    process.standardError = err
    try process.run()
    reader?()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let stderr = String(decoding: errData, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix("blasnet: note: OpenBLAS chose its ") }.joined(separator: "\n")
    return (process.terminationStatus, process.terminationReason == .uncaughtSignal, stderr)
  }

  /// A saved two-class model of `colors.csv` (x, color, label), and a CSV of
  /// `rows` rows for it.
  func savedModel(in folder: URL, rows: Int) throws -> (model: String, data: String) {
    _ = try exportedWithTextColumn(in: folder)
    var options = TabularModel.FitOptions()
    options.label = "label"
    options.hiddenLayers = [4]
    options.epochs = 5
    let model = try TabularModel.fit(.csvFile(folder.appendingPathComponent("colors.csv").path), options: options)
      .model
    try model.save(to: folder.appendingPathComponent("m.json").path)
    var lines = ["x,color"]
    for k in 0..<rows { lines.append("\(Double(k % 40) / 10),\(["red", "green", "blue"][k % 3])") }
    _ = try write(lines.joined(separator: "\n") + "\n", "rows.csv", in: folder)
    return ("m.json", "rows.csv")
  }

  /// A full disk on standard output: one line naming it, with the
  /// system's reason, and status 1 (it was a Swift trap, status 132).
  @Test func aFullStandardOutputIsOneErrorLine() throws {
    try withTemporaryFolder { folder in
      let (model, data) = try savedModel(in: folder, rows: 50)
      let line = "blasnet: error: standard output: No space left on device"
      for arguments in [
        ["predict", "--model", model, "--data", data], ["export", model, "--onnx", "-"],
        ["train", "--data", "colors.csv", "--label", "label", "--epochs", "3", "--quiet", "--save", "-"],
      ] {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let r = try run(arguments, in: folder, standardOutput: full)
        try full.close()
        #expect(!r.crashed && r.status == 1, "\(arguments): \(r.stderr)")
        if arguments[0] == "train" {
          // train's report goes to standard error when the model goes to standard output.
          let lines = r.stderr.split(separator: "\n").map(String.init)
          #expect(lines.last == line && lines.filter { $0.hasPrefix("blasnet:") }.count == 1, "\(r.stderr)")
        } else {
          #expect(r.stderr == line + "\n", "\(arguments)")
        }
      }
    }
  }

  /// `blasnet predict … | head -1`: the reader goes after the first line;
  /// blasnet ends quietly, status 0 (SIGPIPE ignored, EPIPE a normal end).
  @Test func aReaderThatGoesEndsPredictQuietly() throws {
    try withTemporaryFolder { folder in
      // 50,000 rows: far more than a pipe holds, so writes go on after the reader has gone.
      let (model, data) = try savedModel(in: folder, rows: 50_000)
      let pipe = Pipe()
      var first = ""
      let r = try run(["predict", "--model", model, "--data", data], in: folder, standardOutput: pipe) {
        try? pipe.fileHandleForWriting.close()
        let reader = pipe.fileHandleForReading
        var bytes = Data()
        while !bytes.contains(0x0A) {
          let chunk = reader.availableData
          if chunk.isEmpty { break }
          bytes += chunk
        }
        first = String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)
        try? reader.close()
      }
      #expect(first == "probability,class")
      #expect(!r.crashed && r.status == 0, "\(r.stderr)")
      #expect(r.stderr.isEmpty, "\(r.stderr)")
    }
  }
}
