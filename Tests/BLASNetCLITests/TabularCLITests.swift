import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

@testable import BLASNetCLI

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A CSV of well-separated blobs: one per class name, in two features `x1`,
/// `x2`, with `extra` columns (name → value of row r) before the label.
func blobs(
  _ classes: [String], perClass: Int, label: String = "label", seed: UInt64 = 7,
  extra: [(name: String, value: (Int) -> String)] = []
) -> String {
  var g = Xoshiro256StarStar(seed: seed)
  var lines = [(["x1", "x2"] + extra.map(\.name) + [label]).joined(separator: ",")]
  var r = 0
  for (k, name) in classes.enumerated() {
    let angle = 2 * Double.pi * Double(k) / Double(classes.count)
    for _ in 0..<perClass {
      let x1 = 4 * cos(angle) + g.nextStandardNormal()
      let x2 = 4 * sin(angle) + g.nextStandardNormal()
      lines.append(([format(x1, 4), format(x2, 4)] + extra.map { $0.value(r) } + [name]).joined(separator: ","))
      r += 1
    }
  }
  return lines.joined(separator: "\n") + "\n"
}

/// The lines of `text` that start with `prefix`.
func lines(_ text: String, startingWith prefix: String) -> [Substring] {
  text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
}

/// Issue 10: text labels, missing values, text features, ignored columns,
/// thresholds, ROC curves and the multi-class report, as a user runs them.
@Suite(.serialized) struct TabularCLITests {
  /// `--test-data`: the Split line names the file and its rows, and the
  /// test column's accuracy is what `evaluate` prints for the saved model.
  @Test func aTestFileGivesTheTestColumn() throws {
    try withTemporaryFolder { folder in
      let lines = try String(contentsOf: fixtures.appendingPathComponent("wdbc.csv"), encoding: .utf8)
        .split(separator: "\n")
      try (lines.prefix(451).joined(separator: "\n") + "\n").write(
        to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
      try (([lines[0]] + lines.dropFirst(451)).joined(separator: "\n") + "\n").write(
        to: folder.appendingPathComponent("test.csv"), atomically: true, encoding: .utf8)
      let r = try CLI.run(
        ["train", "--data", "train.csv", "--test-data", "test.csv", "--save", "m.json", "--plot", "m.svg"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("Split:   360 train / 90 validation (stratified, seed 42) / 119 test from test.csv\n"))
      let e = try CLI.run(["evaluate", "--model", "m.json", "--data", "test.csv"], in: folder)
      #expect(e.status == 0, "\(e.stderr)")
      let trained = r.stdout.split(separator: "\n").first { $0.hasPrefix("accuracy") }.map(String.init) ?? ""
      let evaluated = e.stdout.split(separator: "\n").first { $0.hasPrefix("accuracy") }.map(String.init) ?? ""
      // The test column's point estimate (before its interval) is evaluate's.
      let point = trained.split(separator: " ").dropLast().last.map(String.init) ?? "?"
      #expect(evaluated.contains(point), "train: \(trained) / evaluate: \(evaluated)")
      // Saving over the test file is refused before anything is trained; the file stays.
      let before = try Data(contentsOf: folder.appendingPathComponent("test.csv"))
      let clash = try CLI.run(
        ["train", "--data", "train.csv", "--test-data", "test.csv", "--save", "test.csv", "--plot", "n.svg"],
        in: folder)
      #expect(clash.status == 1 && clash.stderr.contains("--test-data"), "\(clash.stderr)")
      #expect(try Data(contentsOf: folder.appendingPathComponent("test.csv")) == before)
    }
  }

  /// `--test-fraction 0`: no test rows, a Split line that says so, a
  /// metrics table of train and validation only, and `--roc` (which draws
  /// the test rows' curve) refused before training.
  @Test func aTestFractionOfZeroLeavesNoTestColumn() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(
        ["train", "--test-fraction", "0", "--save", "m.json", "--plot", "m.svg", "--report", "r.html"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(
        r.stdout.contains(
          "Split:   455 train / 114 validation (stratified, seed 42); no test rows (--test-fraction 0)\n"))
      let header = lines(r.stdout, startingWith: "      ").first { $0.contains("validation") }.map(String.init) ?? ""
      #expect(header.contains("train") && header.contains("validation") && !header.contains("test"), "\(header)")
      #expect(r.stdout.contains("Confusion matrix (validation)"))
      let html = try String(contentsOf: folder.appendingPathComponent("r.html"), encoding: .utf8)
      #expect(html.contains("No ROC curve: no test rows were held out."))
      let roc = try CLI.run(["train", "--test-fraction", "0", "--roc", "roc.svg", "--save", "n.json"], in: folder)
      #expect(roc.status != 0 && roc.stderr.contains("--test-fraction 0 holds out none"), "\(roc.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("n.json").path))
    }
  }

  /// `--bins 4`: each of the 30 numeric columns becomes its value and 4
  /// ramps, which the Bins line says and the network takes; the saved model
  /// carries the encoding; `--bins 1` is refused naming the flag.
  @Test func binsEncodeTheNumbersPiecewiseLinearly() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--bins", "4", "--epochs", "5", "--save", "m.json", "--plot", "m.svg"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(
        r.stdout.contains(
          "Bins:    30 numeric inputs in up to 4 bins each (piecewise-linear, the value and a ramp per bin): 30 inputs → 150\n"
        ), "\(r.stdout)")
      #expect(
        r.stdout.contains(
          "Network: Network [150 → 100 ReLU → 1 sigmoid] × 2, averaged (30402 parameters; each from its own seed, on the same rows)"
        ), "\(r.stdout)")
      let model = try TabularModel.load(from: folder.appendingPathComponent("m.json").path)
      #expect(model.piecewiseLinear?.outputCount == 150 && model.inputWidth == 30)
      let refused = try CLI.run(["train", "--bins", "1", "--save", "n.json"], in: folder)
      #expect(refused.status != 0)
      #expect(
        refused.stderr == "blasnet: error: --bins must be 0 (off) or from 2 to 1024, got 1\n", "\(refused.stderr)")
    }
  }

  /// The default run trains the kept network on over the 364 + 91 training
  /// and validation rows and says so; `--refit-from-start` trains again
  /// from the initial weights; `--no-refit` keeps the early-stopped network.
  @Test func theRefitIsSaidAndCanBeTurnedOff() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--save", "a.json", "--plot", "a.svg"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      func refitLine(_ out: String) -> String {
        out.split(separator: "\n").first { $0.hasPrefix("Refit:") }.map(String.init) ?? ""
      }
      let line = refitLine(r.stdout)
      #expect(
        line.hasPrefix("Refit:   trained on from the kept weights on the 455 training and validation rows for "),
        "\(r.stdout)")
      #expect(line.contains(" more epoch"), "\(line)")
      #expect(line.hasSuffix("the validation column measures the network before it (--no-refit keeps that one)"))
      let again = try CLI.run(["train", "--refit-from-start", "--save", "c.json", "--plot", "c.svg"], in: folder)
      #expect(
        refitLine(again.stdout).hasPrefix(
          "Refit:   trained again from the start on the 455 training and validation rows for "), "\(again.stdout)")
      let off = try CLI.run(["train", "--no-refit", "--save", "b.json", "--plot", "b.svg"], in: folder)
      #expect(off.status == 0 && !off.stdout.contains("Refit:"), "\(off.stdout)")
      #expect(
        try TabularModel.load(from: folder.appendingPathComponent("a.json").path)
          != TabularModel.load(from: folder.appendingPathComponent("b.json").path))
    }
  }

  let quick = ["--quiet", "--epochs", "40", "--learning-rate", "0.01", "--batch-size", "32"]

  @Test func textLabelsAreClassesAndPredictWritesTheirNames() throws {
    try withTemporaryFolder { folder in
      let data = try write(blobs(["no", "yes"], perClass: 60), "yn.csv", in: folder)
      let r = try CLI.run(["train", "--data", data] + quick, in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("Classes: no (negative), yes (positive; --positive-class to choose)"), "\(r.stdout)")
      #expect(try #require(metric(r.stdout, "accuracy", column: 2)) >= 0.95)
      let p = try CLI.run(["predict", "--model", "blasnet-model.json", "--data", data], in: folder)
      let rows = p.stdout.split(separator: "\n")
      #expect(rows.count == 121 && rows[0] == "probability,class")
      // The first 60 rows are "no", the last 60 "yes": the predicted names follow.
      let names = rows.dropFirst().map { $0.split(separator: ",")[1] }
      #expect(names.prefix(60).filter { $0 == "no" }.count >= 57 && names.suffix(60).filter { $0 == "yes" }.count >= 57)
      // evaluate reads the names.
      let e = try CLI.run(["evaluate", "--model", "blasnet-model.json", "--data", data], in: folder)
      #expect(e.status == 0 && e.stdout.contains("  no ") && e.stdout.contains("  yes "), "\(e.stdout)\(e.stderr)")

      // The other class as the positive one: the same split, the order of the classes swapped.
      let swapped = try CLI.run(
        ["train", "--data", data, "--positive-class", "no", "--save", "s.json"] + quick, in: folder)
      #expect(swapped.stdout.contains("Classes: yes (negative), no (positive)"), "\(swapped.stdout)")
      #expect(lines(swapped.stdout, startingWith: "Split:") == lines(r.stdout, startingWith: "Split:"))
      let model = try TabularModel.load(from: folder.appendingPathComponent("s.json").path)
      #expect(model.classNames == ["yes", "no"])
      #expect(
        errorLine(try CLI.run(["train", "--data", data, "--positive-class", "maybe"], in: folder))
          == "blasnet: error: --positive-class: \"maybe\" is not one of the classes \"no\", \"yes\"")
    }
  }

  @Test func numericLabelsMatchByValue() throws {
    try withTemporaryFolder { folder in
      let data = try write(blobs(["0", "1"], perClass: 30), "n.csv", in: folder)
      #expect(try CLI.run(["train", "--data", data, "--positive-class", "0.0"] + quick, in: folder).status == 0)
      let model = try TabularModel.load(from: folder.appendingPathComponent("blasnet-model.json").path)
      #expect(model.classNames == ["1", "0"] && model.classLabels == [1, 0])
      // "1.0" in a file is class 1.
      let relabelled = blobs(["0.0", "1.0"], perClass: 30)
      let e = try CLI.run(
        ["evaluate", "--model", "blasnet-model.json", "--data", try write(relabelled, "r.csv", in: folder)], in: folder)
      #expect(e.status == 0, "\(e.stderr)")
      // Classes matched the wrong way round would give about 0.07.
      #expect(try #require(metric(e.stdout, "accuracy", column: 0)) >= 0.9, "\(e.stdout)")
    }
  }

  @Test func severalTextClassesGetAPerClassReport() throws {
    try withTemporaryFolder { folder in
      let classes = ["setosa", "versicolor", "virginica"]
      let data = try write(blobs(classes, perClass: 50, label: "species"), "iris.csv", in: folder)
      let r = try CLI.run(["train", "--data", data, "--roc", "roc.svg"] + quick, in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("Classes: 3: setosa, versicolor, virginica"))
      // 2 numbers, 96 training rows: 96 / (8 × 2) = 6 bins, each number the value and 6 ramps.
      #expect(r.stdout.contains("Network [14 → 100 ReLU → 3 softmax]"), "\(r.stdout)")
      // 150 examples: 30 test, 10 of each class (stratified).
      #expect(r.stdout.contains("96 train / 24 validation / 30 test"), "\(r.stdout)")
      let header = try #require(lines(r.stdout, startingWith: "Per class (test)").first)
      #expect(header.split(separator: " ").suffix(4) == ["precision", "recall", "F1", "support"])
      for name in classes {
        let row = try #require(lines(r.stdout, startingWith: "  \(name) ").last, "\(r.stdout)")
        let cells = row.split(separator: " ").dropFirst().compactMap { Double($0) }
        #expect(cells.count == 4 && cells[3] == 10, "\(row)")
        #expect(cells[0] >= 0.8 && cells[1] >= 0.8, "\(row)")
      }
      let macro = try #require(lines(r.stdout, startingWith: "  macro avg").first)
      let weighted = try #require(lines(r.stdout, startingWith: "  weighted avg").first)
      #expect(macro.hasSuffix(" 30") && weighted.hasSuffix(" 30"))
      // Equal supports: macro and weighted averages are the same numbers.
      #expect(macro.split(separator: " ").suffix(4) == weighted.split(separator: " ").suffix(4))
      // The confusion matrix is labelled with the names.
      let confusionHeader = try #require(
        r.stdout.split(separator: "\n").drop { !$0.hasPrefix("Confusion matrix") }.dropFirst().first)
      #expect(confusionHeader.split(separator: " ") == ["setosa", "versicolor", "virginica"])
      // One-vs-rest ROC curves, one per class, and the chance line.
      let svg = try Data(contentsOf: folder.appendingPathComponent("roc.svg"))
      #expect(XMLParser(data: svg).parse())
      let text = String(decoding: svg, as: UTF8.self)
      #expect(text.components(separatedBy: "<polyline").count == 5)
      for name in classes { #expect(text.contains(">\(name) vs rest (AUC ")) }
      let p = try CLI.run(["predict", "--model", "blasnet-model.json", "--data", data], in: folder)
      #expect(p.stdout.hasPrefix("class,probability,p_setosa,p_versicolor,p_virginica\n"))
      #expect(p.stdout.split(separator: "\n")[1].hasPrefix("setosa,"))
      #expect(
        errorLine(try CLI.run(["train", "--data", data, "--threshold", "0.3"], in: folder)).contains(
          "a decision threshold is for two classes; the label \"species\" has 3"))
    }
  }

  /// `age` is 50 wherever it is given, so every strategy's fill is known: 50
  /// for mean and median, 0 for zero.
  @Test func missingValuesUnderEachPolicy() throws {
    try withTemporaryFolder { folder in
      let markers = ["", "NA", "n/a", "?", "NULL", "nan"]
      let csv = blobs(
        ["healthy", "ill"], perClass: 40,
        extra: [("age", { r in r % 7 == 3 ? markers[r % markers.count] : "50" })])
      let data = try write(csv, "m.csv", in: folder)
      // The default fills with the median; --missing error refuses.
      let byDefault = try CLI.run(["train", "--data", data] + quick, in: folder)
      #expect(byDefault.status == 0, "\(byDefault.stderr)")
      #expect(
        byDefault.stdout.contains(
          "Missing: filled 11 missing values (age: 11) with the training split's median, and a missing-indicator input for age\n"
        ),
        "\(byDefault.stdout)")
      let refused = errorLine(try CLI.run(["train", "--data", data, "--missing", "error"] + quick, in: folder))
      #expect(
        refused.hasPrefix(
          "blasnet: error: \(data):5: column 3 (age): a missing value (\"?\"); fill missing values in with --missing mean, median or zero"
        ),
        "\(refused)")
      let raw = try write("x1,x2,age\n3.5,0.2,NA\n3.5,0.2,50\n3.5,0.2,0\n", "raw.csv", in: folder)
      // (Without the missing indicator, which would tell the filled row apart.)
      for (strategy, fill) in [("mean", 50.0), ("median", 50), ("zero", 0)] {
        let r = try CLI.run(
          ["train", "--data", data, "--missing", strategy, "--no-missing-indicators", "--save", "\(strategy).json"]
            + quick, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
          r.stdout.contains(
            "Missing: filled 11 missing values (age: 11) with \(strategy == "zero" ? "0" : "the training split's \(strategy)")"
          ),
          "\(r.stdout)")
        let model = try TabularModel.load(from: folder.appendingPathComponent("\(strategy).json").path)
        #expect(model.encoder?.columns[2].encoding == .numeric(fill: fill))
        // predict fills the raw file's NA with the stored value: row 1 predicts as the row holding that value.
        let p = try CLI.run(["predict", "--model", "\(strategy).json", "--data", raw], in: folder)
        #expect(p.status == 0, "\(p.stderr)")
        #expect(
          p.stderr.contains(
            "blasnet: filled 1 missing value (age: 1) with \(strategy == "zero" ? "0" : "the training split's \(strategy)")"
          ), "\(p.stderr)")
        let out = p.stdout.split(separator: "\n")
        #expect(out[1] == out[fill == 50 ? 2 : 3], "\(p.stdout)")
      }
      // The markers can be chosen: with "-" only, "NA" is text in a numeric column.
      let dash = errorLine(
        try CLI.run(["train", "--data", data, "--missing", "mean", "--missing-markers", "-"] + quick, in: folder))
      #expect(
        dash.contains("column 3 (age): expected a number, found \"?\" (the column's other values are numbers)"),
        "\(dash)")
    }
  }

  @Test func textFeaturesAreOneHotAndAnUnseenCategoryWarns() throws {
    try withTemporaryFolder { folder in
      let csv = blobs(["B", "M"], perClass: 40, extra: [("smoker", { r in r % 3 == 0 ? "yes" : "no" })])
      let data = try write(csv, "s.csv", in: folder)
      let r = try CLI.run(["train", "--data", data] + quick, in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("80 examples, 3 feature columns → 4 inputs"), "\(r.stdout)")
      #expect(r.stdout.contains("Encoded: one-hot smoker (2: no, yes)"))
      #expect(r.stdout.contains("Network [12 → 100 ReLU"))
      let raw = try write("smoker,x2,x1\nmaybe,0.1,4\nyes,0.1,4\nperhaps,0,-4\n", "new.csv", in: folder)
      let p = try CLI.run(["predict", "--model", "blasnet-model.json", "--data", raw], in: folder)
      #expect(p.status == 0, "\(p.stderr)")
      #expect(p.stdout.split(separator: "\n").count == 4)
      let warnings = p.stderr.split(separator: "\n").filter { $0.hasPrefix("blasnet: warning:") }
      #expect(
        warnings == [
          "blasnet: warning: \(raw):2: column 1 (smoker): category \"maybe\" was not seen in training (and 1 more rows); encoded as no category (all zeros)"
        ], "\(p.stderr)")
      // Past --max-categories the most frequent categories are kept ("no": two rows in three).
      let grouped = try CLI.run(["train", "--data", data, "--max-categories", "1"] + quick, in: folder)
      #expect(grouped.status == 0, "\(grouped.stderr)")
      // The others ("yes") share one more input: as many inputs as before.
      #expect(grouped.stdout.contains("Encoded: one-hot smoker (1: no; and the others)"), "\(grouped.stdout)")
      #expect(grouped.stdout.contains("Grouped: smoker: the 1 most frequent of 2 categories one-hot; the "))
      #expect(grouped.stdout.contains("Network [12 → 100 ReLU"), "\(grouped.stdout)")
    }
  }

  @Test func anIdColumnIsLeftOutWithANoteAndPredictSkipsIt() throws {
    try withTemporaryFolder { folder in
      let csv = blobs(["B", "M"], perClass: 40, extra: [("patient", { "P\(1000 + $0)" })])
      let data = try write(csv, "ids.csv", in: folder)
      // 80 examples: 16 test, 13 validation, 51 training rows, each with its own id.
      let left = try CLI.run(["train", "--data", data, "--max-categories", "20"] + quick, in: folder)
      #expect(left.status == 0, "\(left.stderr)")
      #expect(
        left.stdout.contains(
          "Left out: patient, an identifier (51 distinct values in 51 training rows): --ignore patient to say so, or --max-categories 51 to encode it"
        ), "\(left.stdout)")
      #expect(left.stdout.contains("Network [10 → 100 ReLU"))
      #expect(
        try TabularModel.load(from: folder.appendingPathComponent("blasnet-model.json").path).encoder?
          .ignoredColumns == ["patient"])
      // A streamed file cannot drop a column once its passes have begun: it names the column.
      #expect(
        errorLine(try CLI.run(["train", "--data", data, "--max-categories", "20", "--stream"] + quick, in: folder))
          == "blasnet: error: \(data):1: column 3 (patient): a text column with 51 distinct values in the training split, more than --max-categories 20: an identifier? leave it out with --ignore patient, or raise --max-categories"
      )
      let r = try CLI.run(["train", "--data", data, "--ignore", "patient"] + quick, in: folder)
      #expect(r.status == 0 && r.stdout.contains("Ignored: patient"), "\(r.stderr)")
      #expect(!r.stdout.contains("Left out:"))
      let p = try CLI.run(
        ["predict", "--model", "blasnet-model.json", "--data", data, "--keep", "patient"], in: folder)
      #expect(p.status == 0 && p.stdout.split(separator: "\n").count == 81, "\(p.stderr)")
      // --keep copies the id into the output, row for row.
      let out = p.stdout.split(separator: "\n")
      #expect(out[0] == "patient,probability,class")
      #expect(out.dropFirst().enumerated().allSatisfy { $1.hasPrefix("P\(1000 + $0),") })
      #expect(
        errorLine(
          try CLI.run(["predict", "--model", "blasnet-model.json", "--data", data, "--keep", "who"], in: folder)
        )
        .hasPrefix("blasnet: error: --keep: \(data) has no column \"who\""))
      #expect(
        errorLine(try CLI.run(["train", "--data", data, "--ignore", "nope"], in: folder)).hasPrefix(
          "blasnet: error: --ignore: \(data) has no column \"nope\""))
      #expect(
        errorLine(try CLI.run(["train", "--data", data, "--ignore", "label"], in: folder))
          == "blasnet: error: --ignore: \"label\" is the label column")
    }
  }

  @Test func theOriginalWisconsinFileTrainsWithIgnoreAndATextLabel() throws {
    try withTemporaryFolder { folder in
      // The UCI layout: id, diagnosis (M/B), then the 30 measurements.
      let text = try String(contentsOf: fixtures.appendingPathComponent("wdbc.csv"), encoding: .utf8)
      let rows = text.split(separator: "\n").enumerated().map { i, line -> String in
        var fields = line.split(separator: ",").map(String.init)
        let label = fields.removeLast()
        if i == 0 { return (["id", "diagnosis"] + fields).joined(separator: ",") }
        return (["\(842_000 + i)", label == "1" ? "M" : "B"] + fields).joined(separator: ",")
      }
      let data = try write(rows.joined(separator: "\n") + "\n", "wdbc.data.csv", in: folder)
      let r = try CLI.run(["train", "--data", data, "--label", "diagnosis", "--ignore", "id", "--quiet"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("569 examples, 30 features, label \"diagnosis\""))
      #expect(r.stdout.contains("Classes: B (negative), M (positive"))
      #expect(try #require(metric(r.stdout, "accuracy", column: 2)) >= 0.95, "\(r.stdout)")
    }
  }

  @Test func aTargetSensitivityChoosesTheThresholdOnTheValidationSplit() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(
        ["train", "--quiet", "--epochs", "60", "--target-sensitivity", "0.99", "--roc", "roc.svg"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let line = try #require(lines(r.stdout, startingWith: "Threshold: ").first)
      #expect(
        line.contains("chosen for sensitivity ≥ 0.99 on the validation split as predicted before the refit:"), "\(line)"
      )
      let printed = try #require(Double(line.dropFirst("Threshold: ".count).prefix { $0 != " " }))
      // Reached on the validation split (column 1), at the stored threshold.
      #expect(try #require(metric(r.stdout, "sensitivity", column: 1)) >= 0.99, "\(r.stdout)")
      let model = try TabularModel.load(from: folder.appendingPathComponent("blasnet-model.json").path)
      let stored = try #require(model.threshold)
      #expect(Swift.abs(stored - printed) < 5e-5)
      // The stored threshold is the highest one that reaches the target: the
      // validation sensitivity drops below it just above.
      let wdbc = fixtures.appendingPathComponent("wdbc.csv").path
      let e = try CLI.run(["evaluate", "--model", "blasnet-model.json", "--data", wdbc], in: folder)
      #expect(e.stdout.contains("Threshold: \(format(stored, 4)) (the model's)"), "\(e.stdout)")
      let strict = try CLI.run(
        ["evaluate", "--model", "blasnet-model.json", "--data", wdbc, "--threshold", "0.999"], in: folder)
      #expect(strict.stdout.contains("Threshold: 0.9990 (--threshold)"))
      let loose = try #require(metric(e.stdout, "sensitivity", column: 0))
      #expect(try #require(metric(strict.stdout, "sensitivity", column: 0)) < loose)
      // predict uses the same threshold: as many positives as evaluate's confusion matrix shows.
      func positives(_ arguments: [String]) throws -> Int {
        let p = try CLI.run(["predict", "--model", "blasnet-model.json", "--data", wdbc] + arguments, in: folder)
        return p.stdout.split(separator: "\n").dropFirst().filter { $0.hasSuffix(",1") }.count
      }
      let matrix = e.stdout.split(separator: "\n").drop { !$0.hasPrefix("Confusion matrix") }.dropFirst(2)
      let predictedPositive = matrix.prefix(2).map { Int($0.split(separator: " ").last!)! }.reduce(0, +)
      #expect(try positives([]) == predictedPositive)
      #expect(try positives(["--threshold", "0.999"]) < predictedPositive)
      // The ROC plot: one curve, the chance line, the operating point.
      let svg = try Data(contentsOf: folder.appendingPathComponent("roc.svg"))
      #expect(XMLParser(data: svg).parse())
      let text = String(decoding: svg, as: UTF8.self)
      #expect(text.contains(">1, positive (AUC 0.") || text.contains(">1, positive (AUC 1.000)"))
      #expect(text.contains("<circle ") && text.contains(">threshold \(format(stored, 3)): sensitivity "))
    }
  }

  @Test func thresholdOptionsAreChecked() throws {
    try withTemporaryFolder { folder in
      #expect(
        errorLine(try CLI.run(["train", "--threshold", "0.3", "--target-sensitivity", "0.9"], in: folder)).contains(
          "--threshold, --target-sensitivity and --target-specificity exclude each other"))
      #expect(
        errorLine(try CLI.run(["train", "--threshold", "1.5"], in: folder)).contains("--threshold must be in (0, 1]"))
      #expect(
        errorLine(try CLI.run(["train", "--target-specificity", "0.9", "--validation-fraction", "0"], in: folder))
          .contains(
            "--target-specificity chooses the threshold on the validation split: it needs --validation-fraction above 0"
          ))
      let r = try CLI.run(["train", "--quiet", "--epochs", "30", "--target-specificity", "0.98"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(try #require(metric(r.stdout, "specificity", column: 1)) >= 0.98, "\(r.stdout)")
    }
  }

  @Test func aVersion1ModelPredictsExactlyAsTheVersion1BuildDid() throws {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    try withTemporaryFolder { folder in
      let r = try CLI.run(
        [
          "predict", "--model", here.appendingPathComponent("model-v1.json").path, "--data",
          here.appendingPathComponent("small.csv").path,
        ], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout == (try String(contentsOf: here.appendingPathComponent("pred-v1.csv"), encoding: .utf8)))
    }
  }
}

/// Issue 23: a number as the label.
@Suite(.serialized) struct RegressionCLITests {
  static let diabetes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Examples/tables/diabetes.csv").path

  @Test func trainPredictAndEvaluateANumber() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--data", Self.diabetes, "--task", "regression", "--quiet"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("Target:  \"progression\", a number: training mean "), "\(r.stdout)")
      // 10 inputs, 9 of them numeric with 4 bins each (sex has two values): 46.
      #expect(r.stdout.contains("Network [46 → 100 ReLU → 1 linear]"))
      #expect(r.stdout.contains(", L2 λ 3;"), "\(r.stdout)")
      let r2 = try #require(metric(r.stdout, "R²", column: 2), "\(r.stdout)")
      #expect(r2 > 0.35, "\(r.stdout)")
      #expect(metric(r.stdout, "MAE", column: 2) != nil && metric(r.stdout, "RMSE", column: 2) != nil)
      #expect(!r.stdout.contains("Confusion matrix"))
      let p = try CLI.run(["predict", "--model", "blasnet-model.json", "--data", Self.diabetes], in: folder)
      #expect(p.status == 0, "\(p.stderr)")
      let lines = p.stdout.split(separator: "\n")
      #expect(lines.count == 443 && lines[0] == "progression")
      // Values in the label's units (the labels run from 25 to 346).
      let values = lines.dropFirst().compactMap { Double($0) }
      #expect(values.count == 442 && values.allSatisfy { $0 > -100 && $0 < 500 })
      let mean = values.reduce(0, +) / 442
      #expect(mean > 120 && mean < 190, "\(mean)")
      let e = try CLI.run(["evaluate", "--model", "blasnet-model.json", "--data", Self.diabetes], in: folder)
      #expect(e.status == 0, "\(e.stderr)")
      #expect(try #require(metric(e.stdout, "R²", column: 0)) > 0.35, "\(e.stdout)")
    }
  }

  @Test func aNumericLabelTrainedAsClassesSuggestsARegression() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--data", Self.diabetes, "--quiet"], in: folder)
      #expect(r.status == 1)
      #expect(
        r.stderr.contains(
          "the label column \"progression\" has 214 distinct numbers: a quantity rather than classes? use --task regression"
        ), "\(r.stderr)")
      let roc = try CLI.run(["train", "--data", Self.diabetes, "--task", "regression", "--roc", "r.svg"], in: folder)
      #expect(roc.status != 0 && roc.stderr.contains("--roc draws a classifier's ROC curve"), "\(roc.stderr)")
    }
  }
}

@Suite(.serialized) struct CrossValidationCLITests {
  @Test func cvPrintsAFoldPerLineAndTheSpread() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["cv", "--folds", "4", "--epochs", "40"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("Data:    built-in breast-cancer data (wdbc.csv): 569 examples, label \"malignant\""))
      #expect(r.stdout.contains("Folds:   4 stratified (seed 42)"), "\(r.stdout)")
      let folds = r.stdout.split(separator: "\n").filter { $0.hasPrefix("     1 ") }
      #expect(folds.count == 4, "\(r.stdout)")
      // 569 rows in 4 folds: 143, 142, 142, 142 (the third column).
      #expect(folds.map { Int($0.split(separator: " ")[2])! }.reduce(0, +) == 569)
      let accuracy = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("  accuracy ") })
      let mean = try #require(Double(accuracy.split(separator: " ")[1]))
      #expect(mean > 0.9, "\(accuracy)")
      // Nothing is written: cv keeps no model.
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
      let bad = try CLI.run(["cv", "--folds", "1"], in: folder)
      #expect(bad.status != 0 && bad.stderr.contains("--folds must be at least 2"))
    }
  }
}

@Suite(.serialized) struct ExplainCLITests {
  @Test func explainRanksTheColumns() throws {
    try withTemporaryFolder { folder in
      let t = try CLI.run(["train", "--quiet", "--epochs", "60", "--bootstrap", "0"], in: folder)
      #expect(t.status == 0, "\(t.stderr)")
      let wdbc = try BLASNetCommand.Train.builtInDataPath()
      let r = try CLI.run(["explain", "blasnet-model.json", "--data", wdbc, "--repeats", "2"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("569 rows; ROC AUC "), "\(r.stdout)")
      let ranks = r.stdout.split(separator: "\n").filter {
        $0.hasPrefix("   ") || $0.hasPrefix("  ") && $0.contains(" ± ")
      }
      #expect(ranks.count == 30, "\(r.stdout)")
      #expect(ranks.first?.hasPrefix("   1  ") == true)
      let missing = try CLI.run(["explain", "nothing.json", "--data", wdbc], in: folder)
      #expect(missing.status != 0 && missing.stderr.contains("nothing.json"), "\(missing.stderr)")
    }
  }
}

@Suite(.serialized) struct HTMLReportTests {
  @Test func theTrainingReportIsOnePageWithEveryChart() throws {
    try withTemporaryFolder { folder in
      let r = try CLI.run(["train", "--quiet", "--epochs", "40", "--report", "r.html"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("Wrote the report to r.html"))
      let html = try String(contentsOf: folder.appendingPathComponent("r.html"), encoding: .utf8)
      #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
      // Self-contained: no script, nothing fetched.
      for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
        #expect(!html.contains(forbidden), "\(forbidden)")
      }
      for part in [
        "<h2>Metrics</h2>", "<h2>Confusion matrix (test)</h2>", "<h2>Learning curves</h2>", "<h2>ROC curve (test)</h2>",
        "<h2>Reliability (test)</h2>", "<h2>Permutation importance (the test split)</h2>",
      ] {
        #expect(html.contains(part), "\(part)")
      }
      // Four charts: cost, ROC, reliability, importance; the intervals in the table.
      #expect(html.components(separatedBy: "<svg ").count - 1 == 4)
      #expect(html.contains("95 % bootstrap intervals from 1000 resamples of the rows, in brackets"))
      #expect(html.contains("<th>accuracy</th>") && html.contains("–"))
      // Every element opened is closed (a rough check of well-formedness).
      for tag in ["table", "figure", "svg", "tr", "p", "h2"] {
        #expect(
          html.components(separatedBy: "<\(tag)>").count + html.components(separatedBy: "<\(tag) ").count - 2
            == html.components(separatedBy: "</\(tag)>").count - 1, "\(tag)")
      }
    }
  }
}

@Suite struct IntervalNoteTests {
  @Test func differentResampleCountsAreNamedPerSplit() {
    func set(_ name: String, _ resamples: Int) -> TabularModel.SplitMetrics {
      var s = TabularModel.SplitMetrics(name: name)
      s.intervals = .multiclass(predicted: [0, 1, 1], actual: [0, 1, 0], classCount: 2, resamples: resamples)
      return s
    }
    #expect(Report.intervalNote([TabularModel.SplitMetrics(name: "train")]) == nil)
    #expect(
      Report.intervalNote([TabularModel.SplitMetrics(name: "train"), set("validation", 50), set("test", 50)])
        == "95 % bootstrap intervals from 50 resamples of the rows")
    #expect(
      Report.intervalNote([set("validation", 150), set("test", 120)])
        == "95 % bootstrap intervals from 150 (validation) and 120 (test) resamples of the rows")
  }
}

@Suite(.serialized) struct ImportCLITests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("TabularTests/Fixtures/interchange")

  @Test func importThenPredict() throws {
    try withTemporaryFolder { folder in
      let weights = Self.fixtures.appendingPathComponent("mlp.safetensors").path
      let r = try CLI.run(["import", weights, "--save", "m.json"], in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout.contains("3 layers (0.weight, 0.bias; 2.weight, 2.bias; 4.weight, 4.bias)"), "\(r.stdout)")
      #expect(r.stdout.contains("Network [5 → 8 ReLU → 4 ReLU → 1 sigmoid]"))
      let p = try CLI.run(
        ["predict", "--model", "m.json", "--data", Self.fixtures.appendingPathComponent("inputs.csv").path], in: folder)
      #expect(p.status == 0, "\(p.stderr)")
      #expect(p.stdout.split(separator: "\n").count == 1001)
      // A bad activation list and a damaged file: errors, and no model written.
      let bad = try CLI.run(
        ["import", weights, "--save", "n.json", "--activations", "relu,wobble,sigmoid"], in: folder)
      #expect(bad.status != 0 && bad.stderr.contains("\"wobble\" is not an activation"), "\(bad.stderr)")
      try Data([1, 2, 3]).write(to: folder.appendingPathComponent("cut.safetensors"))
      let cut = try CLI.run(["import", "cut.safetensors", "--save", "n.json"], in: folder)
      #expect(cut.status != 0 && cut.stderr.contains("shorter than the 8-byte header length"), "\(cut.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("n.json").path))
    }
  }

  /// An .npz of Keras kernels and an ONNX file from skl2onnx import by their
  /// content; the ONNX post-processing is listed as ignored.
  @Test func npzAndONNXImport() throws {
    try withTemporaryFolder { folder in
      let keras = try CLI.run(
        ["import", Self.fixtures.appendingPathComponent("keras.npz").path, "--save", "k.json"], in: folder)
      #expect(keras.status == 0, "\(keras.stderr)")
      #expect(keras.stdout.contains("(dense/kernel, dense/bias; dense_1/kernel, dense_1/bias; dense_2/kernel"))
      let onnx = try CLI.run(
        ["import", Self.fixtures.appendingPathComponent("sklearn-classes.onnx").path, "--save", "o.json"], in: folder)
      #expect(onnx.status == 0, "\(onnx.stderr)")
      #expect(
        onnx.stdout.contains("Network [5 → 10 ReLU → 3 softmax]") && onnx.stdout.contains("ZipMap"), "\(onnx.stdout)")
      let p = try CLI.run(
        ["predict", "--model", "o.json", "--data", Self.fixtures.appendingPathComponent("inputs.csv").path], in: folder)
      #expect(p.status == 0 && p.stdout.hasPrefix("class,probability,p_0,p_1,p_2"), "\(p.stderr)")
      // Activations that contradict the graph: refused, nothing saved.
      let wrong = try CLI.run(
        [
          "import", Self.fixtures.appendingPathComponent("sklearn-classes.onnx").path, "--save", "w.json",
          "--activations", "tanh,softmax",
        ], in: folder)
      #expect(wrong.status != 0 && wrong.stderr.contains("the graph's activations are relu,softmax"), "\(wrong.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("w.json").path))
    }
  }

  /// A model trained on a table with a text column exports to ONNX with two
  /// inputs; an output path that is an input is refused before anything is written.
  @Test func exportWritesAnONNXFile() throws {
    try withTemporaryFolder { folder in
      var lines = ["size,colour,label"]
      for i in 0..<60 { lines.append("\(Double(i) / 10),\(["red", "blue"][i % 2]),\(i % 3 == 0 ? "a" : "b")") }
      try (lines.joined(separator: "\n") + "\n").write(
        to: folder.appendingPathComponent("t.csv"), atomically: true, encoding: .utf8)
      let t = try CLI.run(
        ["train", "--data", "t.csv", "--epochs", "5", "--save", "m.json", "--plot", "c.svg", "--quiet"], in: folder)
      #expect(t.status == 0, "\(t.stderr)")
      let e = try CLI.run(["export", "m.json", "--onnx", "m.onnx"], in: folder)
      #expect(e.status == 0, "\(e.stderr)")
      #expect(e.stdout.contains("inputs \"input\" [N, 1] and \"categories\" [N, 1] (text)"), "\(e.stdout)")
      let bytes = try Data(contentsOf: folder.appendingPathComponent("m.onnx"))
      #expect(bytes.count > 100 && String(decoding: bytes, as: UTF8.self).contains("OneHotEncoder"))
      let same = try CLI.run(["export", "m.json", "--onnx", "m.json"], in: folder)
      #expect(same.status != 0, "\(same.stdout)")
      #expect(try Data(contentsOf: folder.appendingPathComponent("m.json")).count > 100)
    }
  }
}
