import Foundation
import Tabular
import Testing

@Suite(.serialized) struct CLITrainingTests {
  @Test func trainWithNoArgumentsUsesTheBuiltInDataAndReaches95Percent() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--quiet"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      // 30 numeric inputs, each its value and 4 bins.
      #expect(r.stdout.contains("Network [150 → 100 ReLU → 1 sigmoid]"))
      // 364 training rows: batches of 32 (12 steps an epoch), so 1000 epochs
      // and a patience of 42 epochs (500 steps).
      #expect(
        r.stdout.contains(
          "Training: up to 1000 epochs in batches of 32, stopping after 42 epochs without a better validation cost (by at least 0.001), then keeping the best epoch's weights, L2 λ 0.247, dropout 0.3; epochs, batch size, patience chosen for 364 training rows"
        ), "\(r.stdout)")
      #expect(r.stdout.contains("364 train / 91 validation / 114 test"))
      let accuracy = try #require(metric(r.stdout, "accuracy", column: 2))
      #expect(accuracy >= 0.95, "\(r.stdout)")
      for row in ["sensitivity", "specificity", "precision", "F1", "ROC AUC"] {
        #expect(metric(r.stdout, row, column: 1) != nil, "row \(row) missing: \(r.stdout)")
      }
      #expect(r.stdout.contains("Confusion matrix (test)"))
      let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
      #expect(files == ["blasnet-cost.svg", "blasnet-model.json"])
      let svg = try String(contentsOf: folder.appendingPathComponent("blasnet-cost.svg"), encoding: .utf8)
      #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<polyline").count == 3, "two curves")
      #expect(svg.contains(">training cost</text>") && svg.contains(">validation cost</text>"), "a legend")
    }
  }

  @Test func progressIsPrintedWhenNotQuiet() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--epochs", "20", "--save", "m.json", "--plot", "c.svg"], in: folder)
      #expect(r.status == 0)
      // Not a terminal: plain lines, one per tenth of the run.
      #expect(r.stderr.contains("epoch 1/20"))
      #expect(r.stderr.contains("epoch 20/20  cost"))
    }
  }

  @Test func softmaxOnDigitsReaches90Percent() throws {
    try withTemporaryFolder { folder in
      let digits = fixtures.appendingPathComponent("digits.csv").path
      let r = try CLI.run(
        ["train", "--data", digits, "--layers", "32", "--epochs", "60", "--learning-rate", "0.003", "--quiet"],
        in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      // 44 of the 64 pixels have enough distinct values for 4 bins (or fewer).
      #expect(r.stdout.contains("Network [211 → 32 ReLU → 10 softmax]"))
      let accuracy = try #require(metric(r.stdout, "accuracy", column: 2))
      #expect(accuracy >= 0.90, "\(r.stdout)")
    }
  }

  @Test func evaluateAndPredictUseTheTabularModel() throws {
    try withTemporaryFolder { folder in
      let wdbc = fixtures.appendingPathComponent("wdbc.csv").path
      #expect(try CLI.run(["train", "--data", wdbc, "--quiet", "--save", "model.json"], in: folder).status == 0)
      let evaluation = try CLI.run(["evaluate", "--model", "model.json", "--data", wdbc], in: folder)
      #expect(evaluation.status == 0, "\(evaluation.stderr)")
      #expect(try #require(metric(evaluation.stdout, "accuracy", column: 0)) >= 0.95)
      // Predict on the features only, columns in another order: matched by name.
      let text = try String(contentsOfFile: wdbc, encoding: .utf8)
      let rows = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
      let shuffled = rows.map { r in ([r[29]] + r[0..<29]).joined(separator: ",") }.joined(separator: "\n")
      let features = try write(shuffled + "\n", "features.csv", in: folder)
      let prediction = try CLI.run(
        ["predict", "--model", "model.json", "--data", features, "--output", "p.csv"], in: folder)
      #expect(prediction.status == 0, "\(prediction.stderr)")
      let lines = try String(contentsOf: folder.appendingPathComponent("p.csv"), encoding: .utf8)
        .split(separator: "\n")
      #expect(lines.count == 570)
      #expect(lines[0] == "probability,class")
      // Agreement with the labels, row by row.
      let correct = zip(lines.dropFirst(), rows.dropFirst()).filter { p, r in p.split(separator: ",")[1] == r[30] }
      #expect(Double(correct.count) / 569 >= 0.95)
    }
  }

  @Test func saveReplacesAnExistingModelOnlyWithACompleteOne() throws {
    try withTemporaryFolder { folder in
      let old = try write("precious", "model.json", in: folder)
      // A run that fails before saving leaves the file alone.
      let bad = try CLI.run(["train", "--quiet", "--layers", "0", "--save", "model.json"], in: folder)
      #expect(bad.status == 1)
      #expect(try String(contentsOfFile: old, encoding: .utf8) == "precious")
      // A successful run replaces it with a complete model, and leaves no temporary file.
      #expect(try CLI.run(["train", "--quiet", "--epochs", "5", "--save", "model.json"], in: folder).status == 0)
      let saved = try String(contentsOfFile: old, encoding: .utf8)
      #expect(saved.hasPrefix("{") && saved.hasSuffix("}"))
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["blasnet-cost.svg", "model.json"])
    }
  }
}

/// Each kind of bad input: one line on stderr naming what and where, exit status 1, no crash.
@Suite struct CLIBadInputTests {
  func expectError(
    _ arguments: [String], _ fragments: [String], files: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    try withTemporaryFolder { folder in
      for (name, text) in files { _ = try write(text, name, in: folder) }
      let r = try CLI.run(arguments, in: folder)
      #expect(!r.crashed, "crashed: \(r.stderr)", sourceLocation: sourceLocation)
      #expect(r.status == 1, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1, "expected one line, got: \(r.stderr)", sourceLocation: sourceLocation)
      #expect(r.stderr.hasPrefix("blasnet: error: "), "\(r.stderr)", sourceLocation: sourceLocation)
      for f in fragments {
        #expect(r.stderr.contains(f), "stderr lacks \"\(f)\": \(r.stderr)", sourceLocation: sourceLocation)
      }
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("blasnet-model.json").path))
    }
  }

  let header = "a,b,label\n"

  @Test func missingFile() throws {
    try expectError(["train", "--data", "nope.csv"], ["nope.csv: no such file"])
  }

  @Test func emptyFile() throws {
    try expectError(["train", "--data", "e.csv"], ["e.csv: the file is empty"], files: ["e.csv": ""])
  }

  @Test func headerOnly() throws {
    try expectError(
      ["train", "--data", "h.csv"], ["h.csv: the file has a header but no data rows"], files: ["h.csv": header])
  }

  @Test func raggedRow() throws {
    try expectError(
      ["train", "--data", "r.csv"], ["r.csv:3:", "this row has 2 fields, expected 3"],
      files: ["r.csv": header + "1,2,0\n3,4\n5,6,1\n"])
  }

  @Test func nonNumericValue() throws {
    try expectError(
      ["train", "--data", "n.csv"], ["n.csv:3: column 2 (b): expected a number, found \"abc\""],
      files: ["n.csv": header + "1,2,0\n3,abc,1\n"])
  }

  @Test func nonFiniteValue() throws {
    try expectError(
      ["train", "--data", "f.csv"], ["f.csv:2: column 1 (a):", "finite", "\"inf\""],
      files: ["f.csv": header + "inf,2,0\n3,4,1\n"])
    // NaN is a missing marker: refused under --missing error (filled by default).
    try expectError(
      ["train", "--data", "f.csv", "--missing", "error"], ["f.csv:3: column 2 (b):", "\"NaN\""],
      files: ["f.csv": header + "1,2,0\n3,NaN,1\n"])
  }

  @Test func emptyField() throws {
    try expectError(
      ["train", "--data", "e.csv", "--missing", "error"],
      [
        "e.csv:2: column 2 (b): a missing value (an empty field); fill missing values in with --missing mean, median or zero"
      ],
      files: ["e.csv": header + "1,,0\n"])
  }

  @Test func labelColumnMissingOrMissingALabel() throws {
    try expectError(
      ["train", "--data", "d.csv", "--label", "target"],
      ["label column \"target\" does not exist", "\"a\", \"b\", \"label\""],
      files: ["d.csv": header + "1,2,0\n"])
    try expectError(
      ["train", "--data", "d.csv"],
      ["d.csv:3: column 3 (label): the label is missing (\"NA\"); every example needs one"],
      files: ["d.csv": header + "1,2,M\n3,4,NA\n"])
  }

  @Test func singleClassLabel() throws {
    try expectError(
      ["train", "--data", "s.csv"], ["single class (1)"], files: ["s.csv": header + "1,2,1\n3,4,1\n5,6,1\n"])
  }

  @Test func testFractionOutOfRange() throws {
    try expectError(["train", "--test-fraction", "1"], ["--test-fraction must be at least 0 and below 1", "got 1.0"])
    try expectError(["train", "--test-fraction=-0.5"], ["--test-fraction must be at least 0 and below 1", "got -0.5"])
  }

  @Test func badLayerLists() throws {
    try expectError(["train", "--layers", ""], ["--layers is empty"])
    try expectError(["train", "--layers", "16,0"], ["--layers: size 2 is \"0\""])
    try expectError(["train", "--layers", "16,,8"], ["--layers: size 2 is \"\""])
    try expectError(["train", "--layers", "abc"], ["--layers: size 1 is \"abc\""])
  }

  @Test func badOptions() throws {
    try expectError(["train", "--optimizer", "adagrad"], ["--optimizer", "adagrad", "rmsprop", "adamw"])
    try expectError(["train", "--keep-prob", "0"], ["--keep-prob"])
    try expectError(["train", "--activation", "softmax"], ["--activation"])
    try expectError(["train", "--threads", "0"], ["--threads must be at least 1"])
    try expectError(
      ["train", "--learning-rate", "1e6", "--epochs", "5"],
      ["training diverged at batch", "of epoch 1", "lower --learning-rate (now 1000000.0)", "nothing was saved"])
  }

  @Test func unclosedQuote() throws {
    try expectError(
      ["train", "--data", "q.csv"], ["q.csv:3: column 2: a quoted field is never closed"],
      files: ["q.csv": header + "1,2,0\n3,\"4,1\n"])
  }

  @Test func corruptOrIncompatibleModel() throws {
    try expectError(
      ["predict", "--model", "m.json", "--data", "d.csv"], ["m.json: not a valid model file (truncated or not JSON)"],
      files: ["m.json": "{\"format\": \"blasnet-model\", \"vers", "d.csv": header + "1,2,0\n"])
    try expectError(
      ["evaluate", "--model", "m.json", "--data", "d.csv"], ["m.json: this JSON file is not a BLASNet model"],
      files: ["m.json": "[1, 2, 3]", "d.csv": header + "1,2,0\n"])
    try expectError(
      ["predict", "--model", "missing.json", "--data", "d.csv"],
      ["missing.json: cannot read the model file: no such file"],
      files: ["d.csv": header + "1,2,0\n"])
  }

  @Test func headerMustMatchTheModelsFeatures() throws {
    try withTemporaryFolder { folder in
      #expect(try CLI.run(["train", "--quiet", "--epochs", "2", "--save", "model.json"], in: folder).status == 0)
      let r = try CLI.run(
        ["predict", "--model", "model.json", "--data", fixtures.appendingPathComponent("digits.csv").path], in: folder)
      #expect(r.status == 1 && !r.crashed)
      #expect(r.stderr.contains("the columns do not match the model's 30 input columns"), "\(r.stderr)")
      #expect(r.stderr.contains("missing \"mean_radius\""), "\(r.stderr)")
      #expect(r.stderr.contains("unexpected \"pixel_0_0\""), "\(r.stderr)")
      let e = try CLI.run(
        ["evaluate", "--model", "model.json", "--data", try write("mean_radius\n1\n", "x.csv", in: folder)], in: folder)
      #expect(e.stderr.contains("the label column \"malignant\" the model was trained on is missing"), "\(e.stderr)")
    }
  }
}

@Suite struct CLIPredictTests {
  @Test func predictSkipsALabelColumnItDoesNotNeed() throws {
    try withTemporaryFolder { folder in
      let wdbc = fixtures.appendingPathComponent("wdbc.csv").path
      #expect(
        try CLI.run(["train", "--data", wdbc, "--quiet", "--epochs", "5", "--save", "m.json"], in: folder).status == 0)
      // The same rows with the label spelled as text: predict does not read it.
      let text = try String(contentsOfFile: wdbc, encoding: .utf8)
      let relabelled = text.split(separator: "\n").enumerated().map { i, line in
        i == 0 ? String(line) : String(line.dropLast()) + (line.hasSuffix("1") ? "M" : "B")
      }.joined(separator: "\n")
      let data = try write(relabelled + "\n", "text-labels.csv", in: folder)
      let r = try CLI.run(["predict", "--model", "m.json", "--data", data], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.split(separator: "\n").count == 570)
      // evaluate needs the label, so there the text is an error that names the place.
      let e = try CLI.run(["evaluate", "--model", "m.json", "--data", data], in: folder)
      #expect(e.status == 1)
      #expect(
        e.stderr.contains("text-labels.csv:2: label \"M\" is not one of the model's classes \"0\", \"1\""),
        "\(e.stderr)")
    }
  }
}
