import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 35, point 1: the saved network learns from the validation rows too.
@Suite struct RefitTests {
  let wdbc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralNetworkTests/Fixtures/wdbc.csv").path

  func fit(
    refit: Bool, start: TabularModel.RefitStart = .continued, calibration: TabularModel.CalibrationMethod? = nil,
    threshold: TabularModel.ThresholdChoice = .standard
  ) throws -> TabularModel.FitReport {
    var o = TabularModel.FitOptions()
    o.refit = refit
    o.refitStart = start
    o.calibration = calibration
    o.threshold = threshold
    o.bootstrap = 0
    return try TabularModel.fit(.csvFile(wdbc), options: o)
  }

  /// By default the refit trains the early-stopped network on over the 455
  /// training and validation rows for a fifth of the epochs early stopping
  /// kept (rounded, at least one), with the training split's scaling; the
  /// validation column measures the early-stopped network, the saved
  /// network and the test column are the refit's.
  @Test func theRefitContinuesTheKeptNetworkOnEveryRow() throws {
    let plain = try fit(refit: false)
    let refitted = try fit(refit: true)
    let refit = try #require(refitted.refit)
    #expect(refit.rows == 364 + 91)
    let kept = try #require(refitted.history.bestEpoch)
    #expect(refit.epochs == max(1, Int((Double(kept) * 0.2).rounded())))
    #expect(refitted.metrics[1].name == "validation")
    let (a, b) = (try #require(refitted.metrics[1].binary), try #require(plain.metrics[1].binary))
    #expect(abs(a.accuracy - b.accuracy) <= 1.0 / 91 + 1e-9)
    #expect(refitted.model.network != plain.model.network)
    // The scaling is the training split's, as the network it continues learnt it.
    #expect(refitted.model.standardizer == plain.model.standardizer)
    #expect(try #require(refitted.metrics.last?.binary?.accuracy) > 0.95)
  }

  /// `refitStart = .initial` trains from the same start on the 455 training
  /// and validation rows for the epochs early stopping kept; the first
  /// network is the one without a refit, so the validation column (measured
  /// on it) is the same, while the saved network, its scaling and the test
  /// column are the refit's.
  @Test func aRefitFromTheStartLearnsFromTheValidationRowsForTheKeptEpochs() throws {
    let plain = try fit(refit: false)
    let refitted = try fit(refit: true, start: .initial)
    #expect(plain.refit == nil)
    let refit = try #require(refitted.refit)
    #expect(refit.rows == 364 + 91)
    #expect(refitted.preparation.trainCount == 364 && refitted.preparation.validationCount == 91)
    #expect(refit.epochs == refitted.history.bestEpoch && refitted.history.restoredBestWeights)
    #expect(refitted.metrics[1].name == "validation")
    // The same network up to the last bits (two fits in one busy process may
    // pick other small-product kernels by timing): at most one validation row apart.
    let (a, b) = (try #require(refitted.metrics[1].binary), try #require(plain.metrics[1].binary))
    #expect(abs(a.accuracy - b.accuracy) <= 1.0 / 91 + 1e-9)
    #expect(abs(try #require(a.rocAUC) - #require(b.rocAUC)) <= 0.005)
    #expect(refitted.model.network != plain.model.network)
    // The scaling is fitted on the 455 rows: its maps' knots include rows the
    // training split alone did not have, so the maps differ.
    #expect(refitted.model.standardizer != plain.model.standardizer)
    // Still a good model on the held-out test rows.
    #expect(try #require(refitted.metrics.last?.binary?.accuracy) > 0.95)
  }

  /// A test file instead of a test split: every row of the training file
  /// trains or validates (and the refit learns from all of them), and the
  /// test metrics are exactly what `evaluate` says of the saved model on
  /// that file.
  @Test func aTestFileReplacesTheTestSplit() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("testdata-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let lines = try String(contentsOfFile: wdbc, encoding: .utf8).split(separator: "\n")
    let trainPath = folder.appendingPathComponent("train.csv").path
    let testPath = folder.appendingPathComponent("test.csv").path
    try (lines.prefix(451).joined(separator: "\n") + "\n").write(toFile: trainPath, atomically: true, encoding: .utf8)
    try ([lines[0]] + lines.dropFirst(451)).joined(separator: "\n").appending("\n")
      .write(toFile: testPath, atomically: true, encoding: .utf8)
    var o = TabularModel.FitOptions()
    o.testData = testPath
    o.bootstrap = 0
    let report = try TabularModel.fit(.csvFile(trainPath), options: o)
    #expect(report.preparation.exampleCount == 450)
    #expect(report.preparation.trainCount == 360 && report.preparation.validationCount == 90)
    #expect(report.preparation.testCount == 119)
    #expect(report.refit?.rows == 450)
    let test = try #require(report.metrics.last)
    #expect(test.name == "test")
    let evaluated = try report.model.evaluate(csvFile: testPath).metrics
    #expect(test.binary?.accuracy == evaluated.binary?.accuracy)
    #expect(test.binary?.rocAUC == evaluated.binary?.rocAUC)
    #expect(test.binary?.confusion == evaluated.binary?.confusion)
    #expect(try #require(test.binary?.accuracy) > 0.9)
    // Not with cross-validation folds.
    #expect(throws: TableError.self) { try TabularModel.crossValidate(.csvFile(trainPath), options: o, folds: 3) }
  }

  /// A test fraction of 0 holds out no test rows: the 569 rows split into
  /// training and validation only (80/20), the refit learns from all of
  /// them, and the report has no test column.
  @Test func aTestFractionOfZeroHoldsOutNoTestRows() throws {
    var o = TabularModel.FitOptions()
    o.testFraction = 0
    o.bootstrap = 0
    let report = try TabularModel.fit(.csvFile(wdbc), options: o)
    #expect(report.preparation.testCount == 0)
    #expect(report.preparation.trainCount == 455 && report.preparation.validationCount == 114)
    #expect(report.refit?.rows == 569)
    #expect(report.metrics.map(\.name) == ["train", "validation"])
    #expect(report.test.count == 0)
    o.testFraction = -0.1
    #expect(throws: TableError.self) { try TabularModel.fit(.csvFile(wdbc), options: o) }
  }

  /// A calibration and a threshold target are fitted on the validation rows
  /// as the early-stopped networks predict them, which did not learn from
  /// them, and the refit model keeps them: the same calibration and
  /// threshold as a fit without a refit, on a network that learnt from
  /// every row.
  @Test func aCalibrationIsFittedOutOfSampleAndTheRefitKeepsIt() throws {
    let calibrated = try fit(refit: true, calibration: .platt, threshold: .targetSensitivity(0.95))
    let plain = try fit(refit: false, calibration: .platt, threshold: .targetSensitivity(0.95))
    #expect(calibrated.refit?.rows == 364 + 91 && plain.refit == nil)
    #expect(calibrated.model.network != plain.model.network)
    guard case .platt(let a, let b) = try #require(calibrated.model.calibrator),
      case .platt(let a0, let b0) = try #require(plain.model.calibrator)
    else {
      Issue.record("not Platt calibrators: \(String(describing: calibrated.model.calibrator))")
      return
    }
    // (Not compared bit for bit: two fits in one busy test process may pick
    // different small-product kernels by timing, and differ in the last bits.)
    #expect(abs(a - a0) <= 1e-3 * abs(a0) && abs(b - b0) <= 1e-3 * max(1, abs(b0)), "\(a), \(b) vs \(a0), \(b0)")
    #expect(a > 0)
    let (t, t0) = (try #require(calibrated.model.threshold), try #require(plain.model.threshold))
    #expect(abs(t - t0) <= 1e-3, "\(t) vs \(t0)")
    #expect(calibrated.calibrationNote?.contains("91 validation rows as predicted before the refit:") == true)
    #expect(
      calibrated.thresholdNote.contains("sensitivity ≥ 0.95 on the validation split as predicted before the refit:"))
    // The validation column measures the early-stopped networks, calibrated, at that threshold.
    let sensitivity = try #require(calibrated.metrics[1].binary?.sensitivity)
    #expect(sensitivity >= 0.95)
  }
}

/// Issue 35, point 2: a numeric column with missing values gets a missing
/// indicator by default, and every path carries it.
@Suite struct MissingIndicatorTests {
  /// x is missing in every third row, and exactly those rows are positive;
  /// elsewhere the label is x > 5, so a filled median (near 5) alone cannot
  /// tell the filled rows apart, the indicator can. The fit gives x a second
  /// input ("x missing"), 0/1, without a quantile map; the model file is
  /// version 5 (6 with the default bins) and loads back equal; a record
  /// without x is predicted positive.
  @Test func missingnessThatMeansSomethingIsLearnt() throws {
    var lines = ["x,z,y"]
    var g = Xoshiro256StarStar(seed: 5)
    for r in 0..<600 {
      let x = Double(g.next() % 10_000) / 1000
      let z = Double(g.next() % 1000) / 100
      lines.append(r % 3 == 0 ? ",\(z),1" : "\(x),\(z),\(x > 5 ? 1 : 0)")
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("flags-\(UUID().uuidString).csv").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    var o = TabularModel.FitOptions()
    o.bootstrap = 0
    let report = try TabularModel.fit(.csvFile(path), options: o)
    let model = report.model
    #expect(model.inputEncoder.featureNames == ["x", "x missing", "z"])
    let maps = try #require(model.standardizer?.quantileMaps)
    #expect(maps[0] != nil && maps[1] == nil && maps[2] != nil)
    #expect(model.standardizer?.means[1] == 0 && model.standardizer?.standardDeviations[1] == 1)
    #expect(try #require(report.metrics.last?.binary?.accuracy) > 0.95)
    let data = try model.encoded()
    let header = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    #expect(header?["version"] as? Int == 7)  // (two networks)
    #expect(try TabularModel.decode(data) == model)
    let missing = try model.predict(["x": "NA", "z": "3"])
    #expect(missing.className == "1")
    o.missingIndicators = false
    let plain = try TabularModel.fit(.csvFile(path), options: o).model
    #expect(plain.inputEncoder.featureNames == ["x", "z"])
  }
}
