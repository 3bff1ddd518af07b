import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

@testable import BLASNetCLI

/// Issue 12: a CSV file read in a stream through the cache, and arrays saved
/// by NumPy, train the model that the file read whole trains.
@Suite(.serialized) struct StreamingCLITests {
  let quick = ["--quiet", "--epochs", "25", "--batch-size", "32", "--patience", "5"]

  func model(_ folder: URL, _ name: String) throws -> TabularModel {
    try TabularModel.load(from: folder.appendingPathComponent(name).path)
  }

  func line(_ output: String, _ prefix: String) -> String? {
    output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
  }

  func copyWDBC(into folder: URL) throws -> String {
    let path = folder.appendingPathComponent("w.csv").path
    try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("wdbc.csv").path, toPath: path)
    return path
  }

  @Test func aStreamedFileTrainsTheModelOfTheFileReadWhole() throws {
    try withTemporaryFolder { folder in
      let data = try copyWDBC(into: folder)
      let whole = try CLI.run(["train", "--data", data, "--save", "a.json", "--plot", "a.svg"] + quick, in: folder)
      let streamed = try CLI.run(
        ["train", "--data", data, "--stream", "--save", "b.json", "--plot", "b.svg"] + quick, in: folder)
      #expect(whole.status == 0 && streamed.status == 0, "\(whole.stderr)\(streamed.stderr)")
      #expect(line(streamed.stdout, "Cache:")?.hasPrefix("Cache:   \(data).blasnet-cache (") == true)
      #expect(try model(folder, "b.json") == model(folder, "a.json"))
      for prefix in ["Split:", "Trained:", "accuracy", "ROC AUC"] {
        // The time taken ("in 35 ms", "in 1.02 s") differs; the rest is the same.
        func untimed(_ output: String) -> String? {
          line(output, prefix)?.replacingOccurrences(of: #"in [0-9.]+ m?s"#, with: "", options: .regularExpression)
        }
        #expect(untimed(whole.stdout) != nil && untimed(whole.stdout) == untimed(streamed.stdout), "\(prefix)")
      }
      // A second run reads the cache as it is; a changed file makes a new one.
      let cache = URL(fileURLWithPath: data + ".blasnet-cache")
      func encodedFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cache.path).filter {
          $0.hasPrefix("x-") && $0.hasSuffix(".npy")
        }
      }
      let files = try encodedFiles()
      #expect(files.count == 1)
      let written =
        try FileManager.default.attributesOfItem(atPath: cache.appendingPathComponent(files[0]).path)[
          .modificationDate] as? Date
      let again = try CLI.run(
        ["train", "--data", data, "--stream", "--save", "c.json", "--plot", "c.svg"] + quick, in: folder)
      #expect(again.status == 0)
      #expect(try model(folder, "c.json") == model(folder, "a.json"))
      #expect(
        try FileManager.default.attributesOfItem(atPath: cache.appendingPathComponent(files[0]).path)[.modificationDate]
          as? Date == written)
      let text = try String(contentsOfFile: data, encoding: .utf8)
      try (text + text.split(separator: "\n")[1] + "\n").write(toFile: data, atomically: false, encoding: .utf8)
      let changed = try CLI.run(
        ["train", "--data", data, "--stream", "--save", "d.json", "--plot", "d.svg"] + quick, in: folder)
      #expect(changed.status == 0)
      #expect(changed.stdout.contains("570 examples"))
      // The new version's entries replace the old ones.
      #expect(try encodedFiles().count == 1 && encodedFiles() != files)
      #expect(changed.stdout.contains("of an earlier version of the file"))
    }
  }

  /// A cached label code made NaN, or a cached line number made huge, is a
  /// damaged cache: it is rebuilt from the CSV (same model), never a trap.
  @Test func aDamagedRowsCacheIsRebuiltNotTrusted() throws {
    try withTemporaryFolder { folder in
      let data = try copyWDBC(into: folder)
      let first = try CLI.run(
        ["train", "--data", data, "--stream", "--save", "a.json", "--plot", "a.svg"] + quick, in: folder)
      #expect(first.status == 0, "\(first.stderr)")
      let cache = data + ".blasnet-cache"
      let files = try FileManager.default.contentsOfDirectory(atPath: cache)
      let labels = try #require(files.first { $0.hasPrefix("rows-") && $0.hasSuffix("-labels.npy") })
      let lines = try #require(files.first { $0.hasPrefix("rows-") && $0.hasSuffix("-lines.npy") })
      for (file, damage) in [(labels, "label"), (lines, "line")] {
        let path = (cache as NSString).appendingPathComponent(file)
        if damage == "label" {
          var codes = try Matrix<Float>(npyFile: path)
          codes[0, 0] = .nan
          try codes.write(npyFile: path)
        } else {
          var numbers = try Matrix<Double>(npyFile: path)
          numbers[0, 3] = 1e12
          try numbers.write(npyFile: path)
        }
        let again = try CLI.run(
          ["train", "--data", data, "--stream", "--save", "b.json", "--plot", "b.svg"] + quick, in: folder)
        #expect(again.status == 0 && !again.crashed, "\(damage): \(again.stderr)")
        #expect(try model(folder, "b.json") == model(folder, "a.json"), "\(damage)")
      }
    }
  }

  /// SIGTERM (or Ctrl-C's SIGINT) while the cache is being built removes the
  /// partial file before the process ends as the signal says (it used to stay,
  /// about 1 GB at the README's big-CSV scale).
  @Test(arguments: [SIGTERM, SIGINT])
  func aSignalDuringTheCacheBuildLeavesNoPartialFile(_ signal: Int32) throws {
    try withTemporaryFolder { folder in
      let data = folder.appendingPathComponent("big.csv").path
      let cache = data + ".blasnet-cache"
      let text = try String(contentsOf: fixtures.appendingPathComponent("wdbc.csv"), encoding: .utf8)
      let rows = text.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
      func partial() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.contains(".part-") }
      }
      // The window (the third pass writing the encoded rows) is short on a
      // fast machine: a file whose cache was built before the signal could be
      // sent is tried again four times larger.
      var interrupted: Process?
      for copies in [40, 160, 640] where interrupted == nil {
        try? FileManager.default.removeItem(atPath: cache)
        try (text + String(repeating: rows, count: copies)).write(toFile: data, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["train", "--data", data, "--stream", "--quiet", "--epochs", "1", "--save", "m.json"]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let start = Date()
        while partial().isEmpty && process.isRunning && Date().timeIntervalSince(start) < 300 { usleep(200) }
        if process.isRunning && !partial().isEmpty {
          kill(process.processIdentifier, signal)
          interrupted = process
        }
        process.waitUntilExit()
        if interrupted == nil {
          try? FileManager.default.removeItem(atPath: folder.appendingPathComponent("m.json").path)
        }
      }
      let process = try #require(interrupted, "the cache was built before it could be interrupted, even at 640 copies")
      #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
      #expect(partial().isEmpty)
      let entries = try FileManager.default.contentsOfDirectory(atPath: cache)
      #expect(!entries.contains { $0.hasPrefix("x-") }, "\(entries)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.json").path))
    }
  }

  /// `--cache-limit` takes sizes as people write them, and a limit too small
  /// for the file is refused before anything is trained or saved.
  @Test func theCacheLimitIsASizeAndIsKept() throws {
    #expect(try ByteSize.parse("2G") == 2 << 30)
    #expect(try ByteSize.parse("500 MiB") == 500 << 20)
    #expect(try ByteSize.parse("1.5k") == 1536)
    #expect(try ByteSize.parse("1000000") == 1_000_000)
    for bad in ["", "G", "-1M", "10x", "1e30T"] { #expect(throws: (any Error).self) { try ByteSize.parse(bad) } }
    try withTemporaryFolder { folder in
      let data = try copyWDBC(into: folder)
      let small = try CLI.run(["train", "--data", data, "--stream", "--cache-limit", "40K"] + quick, in: folder)
      #expect(small.status == 1 && !small.crashed)
      #expect(
        small.stderr
          == "blasnet: error: the data cache \(data).blasnet-cache needs 76.4 kB for this file (30 encoded inputs × 569 rows × 4 bytes), more than --cache-limit 41.0 kB; raise the limit or name a folder with room (--cache)\n"
      )
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("blasnet-model.json").path))
      let arrays = try CLI.run(["train", "--x", "x.npy", "--y", "y.npy", "--cache-limit", "1G"], in: folder)
      #expect(arrays.status != 0 && arrays.stderr.contains("no cache is made"))
      let typo = try CLI.run(["train", "--data", data, "--cache-limit", "10x"], in: folder)
      #expect(typo.status != 0 && typo.stderr.contains("--cache-limit is \"10x\"; give a size such as 500M"))
    }
  }

  /// `--cache` naming the `--save` path is refused before anything is read
  /// (it used to train, then fail to save over the cache folder).
  @Test func aCacheFolderAtAnOutputPathIsRefusedUpFront() throws {
    try withTemporaryFolder { folder in
      let data = try copyWDBC(into: folder)
      let r = try CLI.run(["train", "--data", data, "--cache", "m.json", "--save", "m.json"] + quick, in: folder)
      #expect(r.status == 1 && !r.crashed)
      #expect(
        r.stderr
          == "blasnet: error: --save and --cache name the same path, m.json: the data cache is a folder; give the file another path\n"
      )
      #expect(!r.stdout.contains("Trained"))
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.json").path))
    }
  }

  @Test func aClinicalTableStreamsWithItsCategoriesAndFills() throws {
    try withTemporaryFolder { folder in
      let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/clinical/breast-masses.csv")
      let data = folder.appendingPathComponent("masses.csv").path
      try FileManager.default.copyItem(atPath: examples.path, toPath: data)
      let options = [
        "--data", data, "--label", "diagnosis", "--ignore", "patient_id", "--missing", "mean", "--positive-class", "M",
      ]
      let whole = try CLI.run(["train"] + options + ["--save", "a.json", "--plot", "a.svg"] + quick, in: folder)
      let streamed = try CLI.run(
        ["train"] + options + ["--cache", "cache", "--save", "b.json", "--plot", "b.svg"] + quick, in: folder)
      #expect(whole.status == 0 && streamed.status == 0, "\(whole.stderr)\(streamed.stderr)")
      #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("cache").path))
      for prefix in ["Encoded:", "Missing:", "Classes:", "accuracy"] {
        #expect(line(whole.stdout, prefix) != nil && line(whole.stdout, prefix) == line(streamed.stdout, prefix))
      }
      #expect(try model(folder, "b.json") == model(folder, "a.json"))
      // The median, streamed, is taken from a sample of at most 65,536 values a column: every value
      // here, so the model is the one trained on the file read whole.
      let medianOptions = Array(options.dropLast(4)) + ["--missing", "median", "--positive-class", "M"]
      let wholeMedian = try CLI.run(["train"] + medianOptions + ["--save", "c.json"] + quick, in: folder)
      let streamedMedian = try CLI.run(
        ["train"] + medianOptions + ["--stream", "--save", "d.json"] + quick, in: folder)
      #expect(wholeMedian.status == 0 && streamedMedian.status == 0, "\(wholeMedian.stderr)\(streamedMedian.stderr)")
      #expect(line(wholeMedian.stdout, "Missing:") == line(streamedMedian.stdout, "Missing:"))
      #expect(line(wholeMedian.stdout, "Missing:")?.contains("with the training split's median") == true)
      #expect(try model(folder, "d.json") == model(folder, "c.json"))
      // A bad field is named at its line, as when the file is read whole.
      var rows = try String(contentsOfFile: data, encoding: .utf8).split(
        separator: "\n", omittingEmptySubsequences: false)
      var cells = rows[300].split(separator: ",", omittingEmptySubsequences: false)
      cells[3] = "12,5"
      rows[300] = cells.joined(separator: ",")[...]
      try rows.joined(separator: "\n").write(toFile: data, atomically: false, encoding: .utf8)
      let bad = try CLI.run(["train"] + options + ["--stream"], in: folder)
      let same = try CLI.run(["train"] + options, in: folder)
      #expect(errorLine(bad) == errorLine(same))
      #expect(errorLine(bad).hasPrefix("blasnet: error: \(data):301: this row has more than 33 fields, expected 33"))
    }
  }

  /// wdbc.csv as NumPy would hold it: X (n_x × m) and y.
  func arrays() throws -> (x: Matrix<Float>, y: Matrix<Double>) {
    let text = try String(contentsOf: fixtures.appendingPathComponent("wdbc.csv"), encoding: .utf8)
    let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
    let x = Matrix<Float>(rows: rows[0].count - 1, columns: rows.count) { i, j in Float(rows[j][i]) }
    return (x, Matrix(row: rows.map { $0.last! }))
  }

  @Test func arraysSavedByNumPyTrainTheModelOfTheirCSV() throws {
    try withTemporaryFolder { folder in
      let (x, y) = try arrays()
      try x.write(npyFile: folder.appendingPathComponent("X.npy").path)
      try x.transposed.write(npyFile: folder.appendingPathComponent("rows.npy").path, fortranOrder: false)
      try y.write(npyFile: folder.appendingPathComponent("y.npy").path)
      let data = try copyWDBC(into: folder)
      let csv = try CLI.run(["train", "--data", data, "--save", "a.json", "--plot", "a.svg"] + quick, in: folder)
      let npy = try CLI.run(
        ["train", "--x", "X.npy", "--y", "y.npy", "--save", "b.json", "--plot", "b.svg"] + quick, in: folder)
      let rows = try CLI.run(
        ["train", "--x", "rows.npy", "--y", "y.npy", "--examples-as-rows", "--save", "c.json", "--plot", "c.svg"]
          + quick, in: folder)
      #expect(csv.status == 0 && npy.status == 0 && rows.status == 0, "\(npy.stderr)\(rows.stderr)")
      #expect(line(npy.stdout, "Data:") == "Data:    X.npy and y.npy: 569 examples, 30 features, label \"y\"")
      let reference = try model(folder, "a.json").network
      #expect(try model(folder, "b.json").network == reference)
      #expect(try model(folder, "c.json").network == reference)
      #expect(line(npy.stdout, "accuracy") == line(csv.stdout, "accuracy"))
    }
  }

  @Test func badArraysAreClearErrors() throws {
    try withTemporaryFolder { folder in
      var (x, y) = try arrays()
      try y.write(npyFile: folder.appendingPathComponent("y.npy").path)
      // A NaN at feature 4 of example 10.
      x[3, 9] = .nan
      try x.write(npyFile: folder.appendingPathComponent("nan.npy").path)
      #expect(
        errorLine(try CLI.run(["train", "--x", "nan.npy", "--y", "y.npy"], in: folder))
          == "blasnet: error: nan.npy: the element at row 4, column 10 (feature 4 of example 10, counting from 1) is nan; the network needs finite inputs"
      )
      // Examples as rows given without the flag.
      try x.transposed.write(npyFile: folder.appendingPathComponent("rows.npy").path)
      #expect(
        errorLine(try CLI.run(["train", "--x", "rows.npy", "--y", "y.npy"], in: folder)).hasSuffix(
          "is X m × n_x? then add --examples-as-rows"))
      // A truncated file and a missing label file.
      let full = try Data(contentsOf: folder.appendingPathComponent("y.npy"))
      try full.prefix(full.count - 8).write(to: folder.appendingPathComponent("short.npy"))
      let short = folder.appendingPathComponent("short.npy").path
      #expect(
        errorLine(try CLI.run(["train", "--x", "nan.npy", "--y", short], in: folder))
          == "blasnet: error: \(short): truncated: the header promises 4552 bytes of elements from byte 128, the file has 4544"
      )
      #expect(
        errorLine(try CLI.run(["train", "--x", "nan.npy", "--y", "none.npy"], in: folder))
          == "blasnet: error: none.npy: cannot read it: No such file or directory")
      #expect(
        errorLine(try CLI.run(["train", "--x", "nan.npy"], in: folder))
          == "blasnet: error: --x and --y go together: the inputs and their classes")
      #expect(
        errorLine(try CLI.run(["train", "--x", "nan.npy", "--y", "y.npy", "--label", "y"], in: folder))
          == "blasnet: error: --label, --ignore and --missing are for CSV columns; --x/--y are arrays of numbers")
    }
  }
}

/// Issue 22 (3): `blasnet predict` reads its file in chunks and writes as it
/// goes; a bad row keeps the predictions before it; `--format npy`.
@Suite struct StreamingPredictCLITests {
  @Test func aBadRowKeepsThePredictionsBeforeItAndNpyHoldsTheProbabilities() throws {
    try withTemporaryFolder { folder in
      let data = folder.appendingPathComponent("w.csv").path
      try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("wdbc.csv").path, toPath: data)
      let train = try CLI.run(["train", "--data", data, "--epochs", "20", "--quiet", "--save", "m.json"], in: folder)
      #expect(train.status == 0, "\(train.stderr)")
      let whole = try CLI.run(["predict", "--model", "m.json", "--data", data, "--output", "p.csv"], in: folder)
      #expect(
        whole.status == 0 && whole.stderr.hasSuffix("blasnet: wrote 569 predictions to p.csv\n"), "\(whole.stderr)")
      let csv = try String(contentsOf: folder.appendingPathComponent("p.csv"), encoding: .utf8)
        .split(separator: "\n").map(String.init)
      #expect(csv.count == 570 && csv[0] == "probability,class")
      // The same probabilities as float32, shape (569,).
      let npy = try CLI.run(
        ["predict", "--model", "m.json", "--data", data, "--output", "p.npy", "--format", "npy"], in: folder)
      #expect(npy.status == 0, "\(npy.stderr)")
      let p = try Matrix<Float>(npyFile: folder.appendingPathComponent("p.npy").path)
      #expect(p.count == 569)
      #expect(p.elements == csv.dropFirst().map { Float($0.split(separator: ",")[0])! })
      // Line 301's mean_area made text: the 299 rows before it are written, then the error.
      var lines = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n").map(String.init)
      var fields = lines[300].split(separator: ",").map(String.init)
      fields[3] = "abc"
      lines[300] = fields.joined(separator: ",")
      try (lines.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
      let bad = try CLI.run(["predict", "--model", "m.json", "--data", data, "--output", "q.csv"], in: folder)
      #expect(bad.status == 1 && !bad.crashed)
      #expect(
        bad.stderr.hasSuffix(
          "blasnet: wrote the 299 predictions of the rows before line 301 to q.csv\nblasnet: error: \(data):301: column 4 (mean_area): expected a number, found \"abc\" (the column was numeric in training)\n"
        ), "\(bad.stderr)")
      let partial = try String(contentsOf: folder.appendingPathComponent("q.csv"), encoding: .utf8)
        .split(separator: "\n").map(String.init)
      // The same rows as the whole file's first 299, within float rounding (the products run on
      // 299 columns instead of 569, so BLAS may take other kernel paths for the last ones).
      #expect(partial.count == 300 && partial[0] == csv[0])
      for (a, b) in zip(partial.dropFirst(), csv.dropFirst().prefix(299)) {
        let (x, y) = (a.split(separator: ","), b.split(separator: ","))
        #expect(Swift.abs(Float(x[0])! - Float(y[0])!) <= 1e-6 && x[1] == y[1], "\(a) against \(b)")
      }
      // npy needs a file; no partial file is left anywhere.
      let stdout = try CLI.run(["predict", "--model", "m.json", "--data", data, "--format", "npy"], in: folder)
      #expect(stdout.status != 0 && stdout.stderr.contains("--format npy writes a binary file"))
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }.isEmpty)
    }
  }
}
