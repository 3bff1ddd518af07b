import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Issue 23: the automatic training plan and bootstrap intervals.
@Suite struct TrainingPlanTests {
  typealias Plan = TabularModel.TrainingPlan

  @Test func smallTablesTrainInBatchesOf32WithEarlyStopping() {
    let plan = Plan.automatic(trainingExamples: 364, options: TabularModel.FitOptions())
    // 364 rows: 12 batches an epoch; patience ⌈500 / 12⌉ = 42 epochs.
    #expect(plan.epochs == 1000)
    #expect(plan.batchSize == 32)
    #expect(plan.earlyStopping == EarlyStopping(patience: 42, minDelta: 0.001))
    #expect(plan.automatic == (true, true, true))
    // 364 rows: 0.3 · 300 / 364.
    #expect(abs(plan.l2 - 0.3 * 300 / 364) < 1e-15)
    // Tiny splits: the whole split when it is smaller than a batch; patience at most 50.
    let tiny = Plan.automatic(trainingExamples: 20, options: TabularModel.FitOptions())
    #expect(tiny.batchSize == 20 && tiny.earlyStopping?.patience == 50)
  }

  @Test func largeTablesTakeLargerBatchesAndFewerEpochs() {
    let o = TabularModel.FitOptions()
    // 100,000 rows: batch 64 (a thousandth is 100), 1563 steps an epoch,
    // ⌈100,000 / 1563⌉ = 64 epochs, patience at least 15.
    let medium = Plan.automatic(trainingExamples: 100_000, options: o)
    #expect(medium.batchSize == 64 && medium.epochs == 64 && medium.earlyStopping?.patience == 15)
    // λ is 0.3 up to 300 training rows, then falls as 1/rows: 0.3 · 300 / 100,000.
    #expect(abs(medium.l2 - 0.0009) < 1e-15)
    #expect(Plan.automatic(trainingExamples: 300, options: o).l2 == 0.3)
    #expect(Plan.automatic(trainingExamples: 600, options: o).l2 == 0.15)
    // A regression's 3 falls as 1/rows⁴: 3 · (300 / 600)⁴ = 0.1875, 3 · (300 / 1200)⁴ = 3 / 256.
    var r = o
    r.task = .regression
    #expect(Plan.automatic(trainingExamples: 200, options: r).l2 == 3)
    #expect(Plan.automatic(trainingExamples: 600, options: r).l2 == 0.1875)
    #expect(Plan.automatic(trainingExamples: 1200, options: r).l2 == 3.0 / 256)
    r.l2 = 0.5
    #expect(Plan.automatic(trainingExamples: 600, options: r).l2 == 0.5)
    // 8 million: batch 1024, 7813 steps, 13 epochs.
    let big = Plan.automatic(trainingExamples: 8_000_000, options: o)
    #expect(big.batchSize == 1024 && big.epochs == 13 && big.earlyStopping?.patience == 15)
    #expect(Plan.automatic(trainingExamples: 63_999, options: o).batchSize == 32)
    #expect(Plan.automatic(trainingExamples: 64_000, options: o).batchSize == 64)
  }

  @Test func explicitOptionsWin() {
    var o = TabularModel.FitOptions()
    o.epochs = 7
    o.batchSize = 10
    o.earlyStopping = .on(EarlyStopping(patience: 3))
    let plan = Plan.automatic(trainingExamples: 364, options: o)
    #expect(plan.epochs == 7 && plan.batchSize == 10 && plan.earlyStopping == EarlyStopping(patience: 3))
    #expect(plan.automatic == (false, false, false))
    o.batchSize = .wholeSplit
    o.earlyStopping = .off
    #expect(Plan.automatic(trainingExamples: 364, options: o).batchSize == 364)
    #expect(Plan.automatic(trainingExamples: 364, options: o).earlyStopping == nil)
    // No validation split: no early stopping, and no error.
    var none = TabularModel.FitOptions()
    none.validationFraction = 0
    #expect(Plan.automatic(trainingExamples: 364, options: none).earlyStopping == nil)
  }
}

@Suite struct BootstrapTests {
  /// 40 examples: scores rising with the index, positives mostly high.
  static let scores: [Float] = (0..<40).map { Float($0) / 40 }
  static let positive: [Bool] = (0..<40).map { $0 >= 20 ? $0 % 7 != 0 : $0 % 6 == 0 }

  @Test func binaryEstimatesAreTheMetricsOfTheExamplesAndLieInTheirIntervals() {
    let b = BootstrapIntervals.binary(scores: Self.scores, positive: Self.positive, threshold: 0.5, seed: 3)
    let m = BinaryMetrics(
      probabilities: Matrix(row: Self.scores), labels: Matrix(row: Self.positive.map { $0 ? 1 : 0 }), threshold: 0.5)
    #expect(b.resamples == 1000 && b.level == 0.95)
    #expect(b.metrics.map(\.name) == ["accuracy", "sensitivity", "specificity", "ROC AUC"])
    #expect(abs(b["accuracy"]!.estimate - m.accuracy) < 1e-12)
    #expect(abs(b["sensitivity"]!.estimate - m.sensitivity!) < 1e-12)
    #expect(abs(b["specificity"]!.estimate - m.specificity!) < 1e-12)
    #expect(abs(b["ROC AUC"]!.estimate - m.rocAUC!) < 1e-12)
    for (name, i) in b.metrics {
      #expect(i.lower <= i.estimate && i.estimate <= i.upper, "\(name): \(i)")
      #expect(i.upper - i.lower > 0.01, "\(name): \(i)")
    }
    // Seeded: the same call gives the same intervals.
    let again = BootstrapIntervals.binary(scores: Self.scores, positive: Self.positive, threshold: 0.5, seed: 3)
    #expect(again.metrics.map(\.interval) == b.metrics.map(\.interval))
  }

  @Test func intervalsShrinkWithMoreExamples() {
    // The same examples 16 times over: the spread of a mean falls by about √16 = 4.
    let few = BootstrapIntervals.binary(scores: Self.scores, positive: Self.positive, threshold: 0.5, seed: 1)
    let many = BootstrapIntervals.binary(
      scores: Array(repeating: Self.scores, count: 16).flatMap { $0 },
      positive: Array(repeating: Self.positive, count: 16).flatMap { $0 }, threshold: 0.5, seed: 1)
    for name in ["accuracy", "ROC AUC"] {
      let (a, b) = (few[name]!, many[name]!)
      #expect(abs(a.estimate - b.estimate) < 1e-12)
      let ratio = (a.upper - a.lower) / (b.upper - b.lower)
      #expect(ratio > 3 && ratio < 5.5, "\(name): \(a) against \(b)")
    }
  }

  @Test func aMetricWithoutItsClassHasNoInterval() {
    let b = BootstrapIntervals.binary(scores: [0.1, 0.7, 0.2], positive: [false, false, false], threshold: 0.5)
    #expect(b["sensitivity"]!.lower.isNaN && b["ROC AUC"]!.estimate.isNaN)
    #expect(abs(b["specificity"]!.estimate - 2.0 / 3) < 1e-12)
    #expect(b["sensitivity"]!.description == "n/a (n/a–n/a)")
  }

  @Test func multiclassAndRegressionEstimates() {
    let predicted = [0, 1, 2, 2, 1, 0, 2, 1]
    let actual = [0, 1, 2, 1, 1, 0, 0, 1]
    let b = BootstrapIntervals.multiclass(predicted: predicted, actual: actual, classCount: 3, resamples: 200)
    let m = MulticlassMetrics(predicted: predicted, actual: actual, classCount: 3)
    #expect(abs(b["accuracy"]!.estimate - 6.0 / 8) < 1e-12)
    #expect(abs(b["macro F1"]!.estimate - m.macroAverage.f1) < 1e-12)
    // Errors 1, −1, 0, 2: MAE 1, RMSE √1.5; the values' sum of squares about 2.5 is 5, so R² = 1 − 6/5.
    let r = BootstrapIntervals.regression(predicted: [2, 1, 3, 6], actual: [1, 2, 3, 4], resamples: 200)
    #expect(abs(r["MAE"]!.estimate - 1) < 1e-12)
    #expect(abs(r["RMSE"]!.estimate - 1.5.squareRoot()) < 1e-12)
    #expect(abs(r["R²"]!.estimate - (1 - 6.0 / 5)) < 1e-12)
    #expect(Interval(estimate: 0.9623, lower: 0.93149, upper: 0.98351).description == "0.962 (0.931–0.984)")
  }
}

@Suite struct CalibrationTests {
  /// Inputs x ~ N(0, 2²) with labels drawn from the true probability σ(x);
  /// the model below says σ(3x): three times too sure.
  static func sample(_ n: Int, seed: UInt64) -> (x: [Float], positive: [Bool]) {
    var random = Xoshiro256StarStar(seed: seed)
    let x = (0..<n).map { _ in Float(2 * random.nextStandardNormal()) }
    let positive = x.map { random.nextUnitDouble() < 1 / (1 + exp(-Double($0))) }
    return (x, positive)
  }

  static let overconfident = TabularModel(
    network: try! Network<Float>(
      parameters: [
        "W1": Matrix(rows: 1, columns: 1, columnMajor: [3]), "b1": Matrix(rows: 1, columns: 1, columnMajor: [0]),
      ],
      activations: [.sigmoid]),
    encoder: TabularEncoder(numericColumns: ["x"]), classNames: ["no", "yes"])

  static func outputs(_ model: TabularModel, _ x: [Float]) -> Matrix<Float> {
    model.probabilities(standardizedInputs: Matrix(row: x))
  }

  @Test func metricsByHand() {
    let m = CalibrationMetrics(positiveProbabilities: [0.15, 0.45, 0.85, 0.95], positive: [false, true, true, true])
    // (0.15² + 0.55² + 0.15² + 0.05²) / 4.
    #expect(abs(m.brierScore - 0.0875) < 1e-6)
    #expect(m.bins.map(\.count) == [1, 1, 1, 1] && m.bins.map(\.lower) == [0.1, 0.4, 0.8, 0.9])
    #expect(m.bins.map(\.observed) == [0, 1, 1, 1])
    // |0.15 − 0| + |0.45 − 1| + |0.85 − 1| + |0.95 − 1|, over 4.
    #expect(abs(m.expectedCalibrationError - 0.225) < 1e-6)
    // Three classes: the confidence of the top class against whether it is right.
    let p = try! Matrix<Float>(rows: 3, columns: 2, columnMajor: [0.75, 0.15, 0.1, 0.35, 0.55, 0.1])
    let k = CalibrationMetrics(probabilities: p, classes: [0, 0])
    // Brier: (0.0625 + 0.0225 + 0.01 + 0.4225 + 0.3025 + 0.01) / 2; the first
    // is right at 0.75, the second wrong at 0.55, in bins of their own.
    #expect(abs(k.brierScore - 0.415) < 1e-6)
    #expect(k.bins.map(\.observed) == [0, 1])
    #expect(abs(k.expectedCalibrationError - (0.55 + 0.25) / 2) < 1e-6)
  }

  /// Platt's and a temperature's map from the log-odds themselves equals
  /// the map from the probability where a Float probability keeps the
  /// log-odds' digits, stays exact where it does not (z = 13: 1 − σ(z) is
  /// 2.3·10⁻⁶, about 38 Float steps), and clamps as the probability path
  /// clamps (|z| beyond log((1 − 10⁻⁷)/10⁻⁷) ≈ 16.1).
  @Test func aCalibrationFromTheLogOddsIsExactNearZeroAndOne() {
    let zs: [Float] = [-3, -0.5, 0, 0.7, 2.5, 13, 30, -30]
    for calibrator in [Calibrator.platt(a: 0.4, b: -0.3), .temperature(2.5)] {
      var fromLogOdds = Matrix<Float>(rows: 1, columns: zs.count) { _, j in zs[j] }
      calibrator.apply(logOdds: &fromLogOdds)
      var fromProbabilities = Matrix<Float>(rows: 1, columns: zs.count) { _, j in Float(1 / (1 + exp(-Double(zs[j])))) }
      calibrator.apply(&fromProbabilities)
      let (a, b): (Double, Double)
      if case .platt(let slope, let shift) = calibrator { (a, b) = (slope, shift) } else { (a, b) = (0.4, 0) }
      let bound = log((1 - 1e-7) / 1e-7)
      for (j, z) in zs.enumerated() {
        let exact = 1 / (1 + exp(-(a * min(max(Double(z), -bound), bound) + b)))
        #expect(abs(Double(fromLogOdds[0, j]) - exact) <= 1e-7 * exact, "\(calibrator) z \(z)")
        if abs(z) <= 3 {
          #expect(abs(fromProbabilities[0, j] - fromLogOdds[0, j]) <= 1e-6, "\(calibrator) z \(z)")
        }
      }
      // At z = 13 the probability path is off in the fourth digit of 1 − p'; the log-odds path is not.
      let k = zs.firstIndex(of: 13)!
      let exact = 1 / (1 + exp(-(a * 13 + b)))
      #expect(abs(Double(fromProbabilities[0, k]) - exact) > 10 * abs(Double(fromLogOdds[0, k]) - exact))
    }
  }

  @Test func plattAndTemperatureRecoverTheOverconfidence() {
    let (x, positive) = Self.sample(20_000, seed: 1)
    let p = Self.outputs(Self.overconfident, x)
    guard case .platt(let a, let b) = Calibrator.fitPlatt(positiveProbabilities: p.elements, positive: positive) else {
      Issue.record("not Platt")
      return
    }
    #expect(abs(a - 1.0 / 3) < 0.03, "a \(a), b \(b)")
    #expect(abs(b) < 0.06, "a \(a), b \(b)")
    guard case .temperature(let t) = Calibrator.fitTemperature(probabilities: p, classes: positive.map { $0 ? 1 : 0 })
    else {
      Issue.record("not a temperature")
      return
    }
    #expect(abs(t - 3) < 0.25, "T \(t)")
    // Three classes: logits z = (x, 0, −x), the model's softmax(3z).
    var random = Xoshiro256StarStar(seed: 5)
    let n = 6000
    var q = Matrix<Float>.zeros(3, n)
    var classes: [Int] = []
    for j in 0..<n {
      let z = 1.5 * random.nextStandardNormal()
      let truth = [exp(z), 1, exp(-z)].map { $0 / (exp(z) + 1 + exp(-z)) }
      let sure = [exp(3 * z), 1, exp(-3 * z)].map { $0 / (exp(3 * z) + 1 + exp(-3 * z)) }
      for k in 0..<3 { q[k, j] = Float(sure[k]) }
      let u = random.nextUnitDouble()
      classes.append(u < truth[0] ? 0 : u < truth[0] + truth[1] ? 1 : 2)
    }
    let threeClasses = Calibrator.fitTemperature(probabilities: q, classes: classes)
    guard case .temperature(let t3) = threeClasses else {
      Issue.record("not a temperature: \(threeClasses)")
      return
    }
    #expect(abs(t3 - 3) < 0.3, "T \(t3)")
  }

  @Test func isotonicPoolsViolatorsAsByHand() {
    // Labels 0, 1, 0, 1 at rising scores: the middle two pool to 0.5.
    let c = Calibrator.fitIsotonic(positiveProbabilities: [0.1, 0.2, 0.3, 0.4], positive: [false, true, false, true])
    #expect(c == .isotonic(x: [0.1, 0.2, 0.3, 0.4].map { Double(Float($0)) }, y: [0, 0.5, 0.5, 1]))
    var p = try! Matrix<Float>(rows: 1, columns: 4, columnMajor: [0.05, 0.25, 0.35, 0.9])
    c.apply(&p)
    // Clipped below and above; linear between 0.3 (0.5) and 0.4 (1) at 0.35.
    for (v, e) in zip(p.elements, [Float(0), 0.5, 0.75, 1]) { #expect(abs(v - e) < 1e-6) }
  }

  @Test func aCalibratedModelIsBetterCalibratedOnHeldOutRows() {
    let fit = Self.sample(3000, seed: 2)
    let held = Self.sample(3000, seed: 3)
    let p = Self.outputs(Self.overconfident, fit.x)
    let labels = held.positive.map { $0 ? 1 : 0 }
    func ece(_ model: TabularModel) -> Double {
      TabularModel.SplitMetrics(name: "held out", outputs: Self.outputs(model, held.x), classes: labels, threshold: 0.5)
        .calibration!.expectedCalibrationError
    }
    let before = ece(Self.overconfident)
    #expect(before > 0.05, "ECE \(before)")
    for c in [
      Calibrator.fitPlatt(positiveProbabilities: p.elements, positive: fit.positive),
      .fitIsotonic(positiveProbabilities: p.elements, positive: fit.positive),
      .fitTemperature(probabilities: p, classes: fit.positive.map { $0 ? 1 : 0 }),
    ] {
      var model = Self.overconfident
      model.calibrator = c
      let after = ece(model)
      #expect(after < before / 2, "\(c): ECE \(before) → \(after)")
    }
  }

  @Test func theModelFileKeepsTheCalibrationAsVersion3() throws {
    var model = Self.overconfident
    let plain = try JSONSerialization.jsonObject(with: model.encoded()) as! [String: Any]
    #expect(plain["version"] as? Int == 2)
    for c in [Calibrator.platt(a: 0.4, b: -0.1), .isotonic(x: [0.1, 0.9], y: [0.2, 0.7]), .temperature(2.5)] {
      model.calibrator = c
      let data = try model.encoded()
      let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
      #expect(object["version"] as? Int == 3)
      #expect(try TabularModel.decode(data) == model)
    }
    // Damaged calibrations are refused with the reason.
    let text = String(decoding: try model.encoded(), as: UTF8.self)
    let cases = [
      (text.replacingOccurrences(of: "\"version\":3", with: "\"version\":2"), "needs format version 3"),
      (text.replacingOccurrences(of: "\"temperature\"", with: "\"vibes\""), "calibration method \"vibes\""),
      (text.replacingOccurrences(of: "\"temperature\":2.5", with: "\"temperature\":-1"), "positive number"),
    ]
    for (bad, reason) in cases {
      #expect(throws: ModelFileError.self) { try TabularModel.decode(Data(bad.utf8)) }
      do {
        _ = try TabularModel.decode(Data(bad.utf8))
      } catch {
        #expect("\(error)".contains(reason), "\(error)")
      }
    }
  }

  @Test func fitCalibratesOnTheValidationSplitAndPredictUsesIt() throws {
    var options = clinicalOptions()
    options.calibration = .temperature
    let report = try TabularModel.fit(
      .csvFile(clinical.appendingPathComponent("breast-masses.csv").path), options: options)
    guard case .temperature(let t) = report.model.calibrator else {
      Issue.record("no temperature: \(String(describing: report.model.calibrator))")
      return
    }
    #expect(t > 0.05 && t < 20)
    #expect(report.calibrationNote?.hasPrefix("temperature fitted on the 91 validation rows") == true)
    // Predictions go through the calibration: σ(logit(p) / T) of the network's own output.
    let file = try report.model.predict(csvFile: clinical.appendingPathComponent("new-patients.csv").path)
    var uncalibrated = report.model
    uncalibrated.calibrator = nil
    let raw = try uncalibrated.predict(csvFile: clinical.appendingPathComponent("new-patients.csv").path)
    for (a, b) in zip(file.predictions, raw.predictions) {
      let q = min(max(Double(b.probabilities[1]), 1e-7), 1 - 1e-7)
      let expected = 1 / (1 + exp(-log(q / (1 - q)) / t))
      #expect(abs(Double(a.probabilities[1]) - expected) < 1e-5)
    }
    // Isotonic and Platt are for two classes.
    var three = TabularModel.FitOptions()
    three.calibration = .platt
    #expect(throws: TableError.self) {
      try TabularModel.fit(
        .rows(header: ["x", "y"], rows: (0..<60).map { ["\($0)", "\($0 % 3)"] }, name: "t.csv"), options: three)
    }
  }
}

/// The tables of Examples/tables (from scikit-learn's package).
let tables = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Examples/tables")

@Suite struct RegressionTests {
  @Test func aKnownLinearFunctionIsRecovered() throws {
    // y = 3a − 2b + 5 on a grid, no noise.
    var rows: [[String]] = []
    for i in 0..<20 {
      for j in 0..<20 {
        let (a, b) = (Double(i) / 4, Double(j) / 5 - 2)
        rows.append(["\(a)", "\(b)", "\(3 * a - 2 * b + 5)"])
      }
    }
    var o = TabularModel.FitOptions()
    o.task = .regression
    o.l2 = 0
    // Linear in the inputs as given: quantile maps would bend the inputs
    // (with them the test R² was about 0.99 and the mean error 0.37), and
    // the bins' ramps add bends of their own.
    o.scaling = .standard
    o.piecewiseLinearBins = 0
    let report = try TabularModel.fit(.rows(header: ["a", "b", "y"], rows: rows, name: "linear.csv"), options: o)
    let test = try #require(report.metrics.last?.regression)
    #expect(try #require(test.r2) > 0.995, "\(test)")
    // The target spans about 5 ± 6; errors of a few hundredths.
    #expect(test.meanAbsoluteError < 0.15, "\(test)")
    #expect(report.metrics.last?.intervals?["R²"] != nil)
    // A new record is predicted in the label's units.
    let p = try report.model.predict(["a": "1", "b": "0.5"])
    #expect(abs(try #require(p.value) - (3 - 1 + 5)) < 0.2, "\(p)")
    #expect(report.model.isRegression && report.model.classNames == nil)
  }

  @Test func itBeatsPredictingTheMeanOnTheDiabetesTable() throws {
    var o = TabularModel.FitOptions()
    o.task = .regression
    let report = try TabularModel.fit(.csvFile(tables.appendingPathComponent("diabetes.csv").path), options: o)
    #expect(report.model.network.outputActivation == .identity)
    // 282 training rows: the small-table λ.
    #expect(report.preparation.plan.l2 == TabularModel.FitOptions.regressionL2)
    let test = try #require(report.metrics.last)
    #expect(test.name == "test")
    // Predicting the training mean has R² ≤ 0 on held-out rows.
    #expect(try #require(test.regression?.r2) > 0.35, "\(test.regression!)")
    // The model file keeps the target scale and gives the same predictions back.
    let loaded = try TabularModel.decode(try report.model.encoded())
    #expect(loaded == report.model)
    let object = try JSONSerialization.jsonObject(with: report.model.encoded()) as! [String: Any]
    // Two networks by default: version 7, the second's parameters under "ensemble".
    #expect(object["version"] as? Int == 7 && object["target"] != nil && object["classNames"] == nil)
    #expect((object["ensemble"] as? [[Any]])?.count == 1 && report.model.networks.count == 2)
    let again = try loaded.evaluate(csvFile: tables.appendingPathComponent("diabetes.csv").path, bootstrap: 100)
    #expect(abs(try #require(again.metrics.regression?.r2) - 0.4) < 0.2)
  }

  @Test func regressionRefusesWhatIsForClassesAndTextLabels() throws {
    let csv = "x,y\n1,2\n2,3.5\n3,oops\n4,5\n"
    var o = TabularModel.FitOptions()
    o.task = .regression
    do {
      _ = try TabularModel.fit(.csvData(Data(csv.utf8), name: "r.csv"), options: o)
      Issue.record("a text label trained")
    } catch {
      #expect("\(error)".contains("r.csv:4: column 2 (y): the label \"oops\" is not a number"), "\(error)")
    }
    o.threshold = .fixed(0.3)
    #expect(throws: TableError.self) { try TabularModel.fit(.csvData(Data(csv.utf8), name: "r.csv"), options: o) }
    // A label of many fractional numbers trained as classes: the error suggests a regression.
    let rows = (0..<60).map { ["\($0)", "\(Double($0) * 1.5 + 0.25)"] }
    do {
      _ = try TabularModel.fit(
        .rows(header: ["x", "y"], rows: rows, name: "q.csv"), options: TabularModel.FitOptions())
      Issue.record("60 fractional classes trained")
    } catch {
      // The library names the option as Swift spells it (the CLI: --task regression).
      #expect("\(error)".contains("use task = regression"), "\(error)")
      #expect(error.settings == [.task])
    }
  }

  @Test func huberGradientMatchesFiniteDifferences() {
    let a = try! Matrix<Double>(rows: 1, columns: 5, columnMajor: [0.3, -2.5, 1.4, 0.0, 4])
    let y = try! Matrix<Double>(rows: 1, columns: 5, columnMajor: [0.1, 0.2, -1, 0.5, 1])
    var g = Matrix<Double>.zeros(1, 5)
    let cost = Losses.huber(predictions: a, labels: y, gradient: &g)
    // h: 0.02, 1.7 − 0.5 … by hand: (0.02 + 2.2 + 1.9 + 0.125 + 2.5) / 5.
    #expect(abs(cost - (0.02 + 2.2 + 1.9 + 0.125 + 2.5) / 5) < 1e-12)
    for k in 0..<5 {
      var plus = a
      var minus = a
      plus[0, k] += 1e-6
      minus[0, k] -= 1e-6
      let numeric = (Losses.huber(predictions: plus, labels: y) - Losses.huber(predictions: minus, labels: y)) / 2e-6
      // The summed loss's gradient (the layers divide by m): m · ∂J/∂a.
      #expect(abs(g[0, k] - 5 * numeric) < 1e-6, "\(k): \(g[0, k]) vs \(5 * numeric)")
    }
  }
}

@Suite struct CrossValidationTests {
  /// 90 rows, 3 classes; `leak` is ordinary but for one row's 10⁶, `rare`
  /// has a category only one row carries, `gap` one missing value.
  static func table() -> (header: [String], rows: [[String]]) {
    var random = Xoshiro256StarStar(seed: 11)
    var rows: [[String]] = []
    for r in 0..<90 {
      let c = r % 3
      let x = Double(c) + 0.3 * random.nextStandardNormal()
      let leak = r == 17 ? 1e6 : Double(r % 7)
      let rare = r == 40 ? "unique" : (r % 2 == 0 ? "even" : "odd")
      let gap = r == 63 ? "" : String(Double(r % 5) + 0.5)
      rows.append(["\(x)", "\(leak)", rare, gap, ["a", "b", "c"][c]])
    }
    return (["x", "leak", "rare", "gap", "label"], rows)
  }

  @Test func noFittedStepSeesItsFoldsRows() throws {
    let (header, rows) = Self.table()
    var o = TabularModel.FitOptions()
    o.label = "label"
    o.missing = .mean
    o.validationFraction = 0
    o.epochs = 30
    let report = try TabularModel.crossValidate(.rows(header: header, rows: rows, name: "t.csv"), options: o, folds: 5)
    #expect(report.folds.count == 5 && report.exampleCount == 90)
    // Every row is in exactly one fold; each fold holds 6 of each class (stratified).
    #expect(report.folds.flatMap(\.testRows).sorted() == Array(0..<90))
    for f in report.folds {
      let counts = Dictionary(grouping: f.testRows, by: { rows[$0][4] }).mapValues(\.count)
      #expect(counts == ["a": 6, "b": 6, "c": 6], "fold \(f.fold): \(counts)")
      let training = (0..<90).filter { !f.testRows.contains($0) }
      let model = f.model
      let encoder = try #require(model.encoder)
      let names = model.featureNames!
      // The standardisation of `leak` is its mean over the training rows only:
      // a fold holding row 17 must not see the 10⁶.
      // Its quantile map, fitted on the training rows too, ends at their
      // extremes; the mean is of the mapped values.
      let k = names.firstIndex(of: "leak")!
      let leaks = training.map { Double(Float(rows[$0][1])!) }
      let map = try #require(model.standardizer?.quantileMaps?[k] ?? nil)
      #expect(map.knots.first == leaks.min() && map.knots.last == leaks.max(), "fold \(f.fold)")
      let leakMean = leaks.map { Double(Float(map($0))) }.reduce(0, +) / Double(training.count)
      let fitted: Double = model.standardizer!.means[k]
      let tolerance: Double = 1e-9 * max(1, abs(leakMean))
      #expect(abs(fitted - leakMean) <= tolerance, "fold \(f.fold)")
      // The rare category exists only when its row trained.
      let rare = encoder.columns.first { $0.name == "rare" }!
      guard case .oneHot(let categories) = rare.encoding else {
        Issue.record("rare is not one-hot")
        continue
      }
      #expect(categories.contains("unique") == training.contains(40), "fold \(f.fold): \(categories)")
      // The fill of `gap` is the mean of the training rows' values.
      let gaps = training.filter { $0 != 63 }.map { Double(rows[$0][3])! }
      guard case .numeric(let fill) = encoder.columns.first(where: { $0.name == "gap" })!.encoding else { continue }
      let gapMean: Double = gaps.reduce(0, +) / Double(gaps.count)
      #expect(abs(try #require(fill) - gapMean) < 1e-9, "fold \(f.fold)")
    }
    // The summary is the folds' mean.
    let accuracy = try #require(report.summary.first { $0.name == "accuracy" })
    let mean = report.folds.map { $0.metrics.multiclass!.accuracy }.reduce(0, +) / 5
    #expect(abs(try #require(accuracy.mean) - mean) < 1e-12 && accuracy.folds == 5)
    let interval = try #require(accuracy.interval)
    #expect(interval.lower <= mean && mean <= interval.upper && interval.upper <= 1)
  }

  @Test func repeatsDealTheRowsAnewAndRegressionFoldsSpanTheRange() throws {
    var o = TabularModel.FitOptions()
    o.task = .regression
    o.epochs = 20
    let report = try TabularModel.crossValidate(
      .csvFile(tables.appendingPathComponent("diabetes.csv").path), options: o, folds: 4, repeats: 2)
    #expect(report.folds.count == 8 && report.classNames.isEmpty)
    let first = report.folds.filter { $0.round == 1 }.map(\.testRows)
    let second = report.folds.filter { $0.round == 2 }.map(\.testRows)
    #expect(first != second)
    #expect(Set(first.flatMap { $0 }) == Set(0..<442) && Set(second.flatMap { $0 }) == Set(0..<442))
    #expect(report.summary.map(\.name) == ["MAE", "RMSE", "R²"])
    #expect(report.folds.allSatisfy { ($0.metrics.regression?.r2 ?? -1) > 0 })
    // Too few rows, too few folds: errors, not traps.
    #expect(throws: TableError.self) {
      try TabularModel.crossValidate(
        .rows(header: ["x", "y"], rows: [["1", "a"], ["2", "b"]], name: "s.csv"), folds: 3)
    }
    #expect(throws: TableError.self) {
      try TabularModel.crossValidate(.rows(header: [], rows: [], name: "e.csv"), folds: 1)
    }
  }
}

@Suite struct ImportanceTests {
  /// 600 rows: the class is `signal` > 0 (with a little label noise);
  /// `noise` and `color` (three categories) are unrelated to it.
  static func csv(seed: UInt64) -> String {
    var random = Xoshiro256StarStar(seed: seed)
    var text = "noise,signal,color,label\n"
    for _ in 0..<600 {
      let signal = random.nextStandardNormal()
      let noise = random.nextStandardNormal()
      let color = ["red", "green", "blue"][Int(random.nextBounded(3))]
      let flip = random.nextUnitDouble() < 0.05
      text += "\(noise),\(signal),\(color),\((signal > 0) != flip ? "yes" : "no")\n"
    }
    return text
  }

  @Test func theInformativeColumnRanksFirstAndNoiseNearZero() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("importance-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let train = folder.appendingPathComponent("train.csv").path
    let held = folder.appendingPathComponent("held.csv").path
    try Self.csv(seed: 1).write(toFile: train, atomically: true, encoding: .utf8)
    try Self.csv(seed: 2).write(toFile: held, atomically: true, encoding: .utf8)
    let model = try TabularModel.fit(.csvFile(train)).model
    let report = try model.permutationImportance(csvFile: held, repeats: 5, seed: 3)
    #expect(report.score == "ROC AUC" && report.rows == 600 && report.repeats == 5)
    #expect(report.baseline > 0.9)
    #expect(report.columns.map(\.name).first == "signal", "\(report.columns.map { ($0.name, $0.mean) })")
    #expect(report.columns[0].mean > 0.3)
    for name in ["noise", "color"] {
      let c = try #require(report.columns.first { $0.name == name })
      #expect(abs(c.mean) < 0.02, "\(name): \(c.mean)")
      #expect(c.drops.count == 5)
    }
    // One-hot `color` counts as one column, not three.
    #expect(report.columns.count == 3)
  }
}

@Suite struct AffordableBootstrapTests {
  @Test func largeSplitsDrawFewerResamples() {
    #expect(BootstrapIntervals.affordable(1000, examples: 114) == 1000)
    #expect(BootstrapIntervals.affordable(1000, examples: 200_000) == 1000)
    #expect(BootstrapIntervals.affordable(1000, examples: 1_660_000) == 120)
    #expect(BootstrapIntervals.affordable(1000, examples: 8_300_000) == 100)
    #expect(BootstrapIntervals.affordable(50, examples: 8_300_000) == 50)
    #expect(BootstrapIntervals.affordable(0, examples: 10) == 0)
  }
}

@Suite struct StreamedDefaultsTests {
  /// A streamed table of more than 4,096 training rows with the default L2:
  /// the L2 check reads a sample of the mapped rows, and must take the
  /// labels of that sample (it once took all of them and trapped).
  @Test func aLargeStreamedTableTrainsWithTheDefaultL2() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("streamed-l2-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var random = Xoshiro256StarStar(seed: 4)
    var text = "a,b,label\n"
    for _ in 0..<8000 {
      let (a, b) = (random.nextStandardNormal(), random.nextStandardNormal())
      text += "\(a),\(b),\(a + 0.5 * b > 0 ? 1 : 0)\n"
    }
    let path = folder.appendingPathComponent("t.csv").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    var o = TabularModel.FitOptions()
    o.streaming = .always
    o.epochs = 2
    let report = try TabularModel.fit(.csvFile(path), options: o)
    #expect(report.preparation.cacheFolder != nil)
    #expect(report.preparation.trainCount > 4096)
    // The default λ, 0.3 · 300 / training rows (0.0176 for 5,120): still on, so the sample check runs.
    #expect(abs(report.preparation.plan.l2 - 90 / Double(report.preparation.trainCount)) < 1e-12)
    #expect(try #require(report.metrics.last?.binary?.accuracy) > 0.9)
  }
}
