import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 35, point 1: the saved network learns from the validation rows too.
@Suite struct RefitTests {
  let wdbc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralNetworkTests/Fixtures/wdbc.csv").path

  func fit(refit: Bool, calibration: TabularModel.CalibrationMethod? = nil) throws -> TabularModel.FitReport {
    var o = TabularModel.FitOptions()
    o.refit = refit
    o.calibration = calibration
    o.bootstrap = 0
    return try TabularModel.fit(.csvFile(wdbc), options: o)
  }

  /// The refit trains from the same start on the 455 training and
  /// validation rows for the epochs early stopping kept; the first network
  /// is the one without a refit, so the validation column (measured on it)
  /// is the same, while the saved network, its scaling and the test column
  /// are the refit's.
  @Test func theRefitLearnsFromTheValidationRowsForTheKeptEpochs() throws {
    let plain = try fit(refit: false)
    let refitted = try fit(refit: true)
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

  /// A calibration fitted on the validation rows needs a network that did
  /// not learn from them: then there is no refit.
  @Test func aCalibrationKeepsTheEarlyStoppedNetwork() throws {
    let calibrated = try fit(refit: true, calibration: .platt)
    let plain = try fit(refit: false, calibration: .platt)
    #expect(calibrated.refit == nil && plain.refit == nil)
    #expect(calibrated.model.calibrator != nil)
    // (Not compared bit for bit: two fits in one busy test process may pick
    // different small-product kernels by timing, and differ in the last bits.)
    #expect(calibrated.history.epochsRun > 0 && plain.history.epochsRun > 0)
  }
}
