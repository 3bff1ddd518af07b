import Dispatch
import Foundation
import LinearAlgebra
import NeuralNetwork
import Synchronization

extension TabularModel {
  /// What ``crossValidate(_:options:folds:repeats:parallel:)`` measured.
  public struct CrossValidationReport: Sendable {
    /// One fold of one repeat: the model fitted without its rows, measured on them.
    public struct Fold: Sendable {
      /// The repeat (from 1) and the fold within it (from 1).
      public var round: Int
      public var fold: Int
      /// The fold's rows (0-based data rows of the table), the ones left out of every fitted step.
      public var testRows: [Int]
      /// The metrics of `model` on those rows.
      public var metrics: SplitMetrics
      /// The whole pipeline (encoder, standardisation, network, threshold)
      /// fitted on the other rows only.
      public var model: TabularModel
      public var epochsRun: Int
      public var trainingTime: Duration
    }

    /// A metric over the folds: mean, sample standard deviation and a 95 %
    /// interval of the mean (Student's t with folds − 1 degrees of freedom,
    /// kept within the metric's range; the folds share training rows, so it
    /// is a rough guide).
    ///
    /// A metric is taken over the folds where it has a value: a fold of one
    /// class has no ROC AUC, a fold without positives no sensitivity (as in
    /// leave-one-out). ``folds`` says how many those are.
    public struct Summary: Sendable {
      public var name: String
      /// The folds on which the metric has a value (of all the report's folds).
      public var folds: Int
      /// nil when no fold has a value.
      public var mean: Double?
      /// nil with fewer than 2 folds.
      public var standardDeviation: Double?
      /// nil with fewer than 2 folds.
      public var interval: Interval?
    }

    public var folds: [Fold]
    public var summary: [Summary]
    /// The table, its examples and label, and the classes (none for a regression).
    public var source: String
    public var exampleCount: Int
    public var labelName: String
    public var classNames: [String]
    /// Folds fitted at the same time (each with single-threaded BLAS).
    public var parallelFolds: Int
    public var time: Duration

    /// The value of the summary's metric `name` (accuracy, ROC AUC, R², …)
    /// in a fold's metrics; nil where it has none (NaN or infinite: a ROC
    /// AUC of a fold of one class, say).
    public static func value(_ name: String, _ metrics: SplitMetrics) -> Double? {
      TabularModel.summaryValue(name, metrics).flatMap { $0.isFinite ? $0 : nil }
    }
  }

  /// K-fold cross-validation (scikit-learn's `cross_validate` with
  /// `StratifiedKFold`, or `RepeatedStratifiedKFold` with `repeats` > 1):
  /// the rows are dealt into `folds` folds, stratified by class (for a
  /// regression, by tenths of the target's range); for each fold, the whole
  /// pipeline of ``fit(_:options:group:checkBeforeReading:prepared:progress:)``
  /// is fitted on the other folds' rows only (the encoder, the fills of
  /// missing values, the standardisation, the network, a threshold or a
  /// calibration chosen on a validation split of them) and measured on the
  /// fold. Each repeat deals the rows anew (seeded by `options.seed` and the
  /// repeat). Folds are fitted in parallel over the cores when `parallel`,
  /// each with single-threaded BLAS.
  ///
  /// - Throws: ``TableError`` for the data or the options, naming the fold
  ///   when one fails in training.
  public static func crossValidate(
    _ source: TableSource, options: FitOptions = FitOptions(), folds: Int = 5, repeats: Int = 1,
    parallel: Bool = true
  ) throws(TableError) -> CrossValidationReport {
    let started = ContinuousClock.now
    guard folds >= 2 else { throw TableError("cross-validation needs at least 2 folds, got \(folds)") }
    guard repeats >= 1 else { throw TableError("cross-validation needs at least 1 repeat, got \(repeats)") }
    // The table once, in memory; every fold parses it from there.
    let table: TableSource
    let csv: CSVFile
    switch source {
    case .csvFile(let path):
      if options.streaming == .always || options.cacheFolder != nil {
        throw TableError("cross-validation reads \(path) in memory; it cannot stream it through a cache")
      }
      csv = try CSVFile(path: path)
      table = .csvData(Data(csv.bytes), name: path)
    case .csvData(let data, let name):
      csv = try CSVFile(path: name, bytes: Array(data))
      table = source
    case .rows(let header, let rows, let name):
      csv = try CSVFile(path: name, header: header, rows: rows)
      table = source
    case .npy:
      throw TableError("cross-validation reads a CSV table; .npy arrays are not supported (yet)")
    }
    var fitter = Fitter(options: options, group: SingleProcess())
    let training = try TrainingTable(
      csv: csv, label: options.label, ignore: options.ignoredColumns, markers: fitter.markers)
    if options.task == .regression { try training.checkNumericLabels() }
    let (classes, strata) = try fitter.strata(LabelColumn(training.labels), labelName: training.labelName)
    let m = training.count
    if m < folds {
      throw TableError("\(csv.path): \(m) examples are too few for \(folds) folds")
    }
    // The jobs: each repeat's folds, stratified.
    var jobs: [(round: Int, fold: Int, rows: [Int])] = []
    for round in 1...repeats {
      var random = Xoshiro256StarStar(seed: options.seed &+ 0x5EED &* UInt64(round))
      var assigned = [[Int]](repeating: [], count: folds)
      var next = 0
      // Each stratum shuffled, then dealt round the folds, continuing where the last stratum stopped.
      for stratum in Set(strata).sorted() {
        var rows = strata.indices.filter { strata[$0] == stratum }
        random.shuffle(&rows)
        for r in rows {
          assigned[next].append(r)
          next = (next + 1) % folds
        }
      }
      for (k, rows) in assigned.enumerated() { jobs.append((round, k + 1, rows.sorted())) }
    }
    var optionsOfFolds = options
    optionsOfFolds.bootstrap = 0
    let foldOptions = optionsOfFolds
    let allJobs = jobs
    fitter = Fitter(options: foldOptions, group: SingleProcess())
    try fitter.checkOptions(table)
    let workers = parallel ? Swift.min(jobs.count, ProcessInfo.processInfo.activeProcessorCount) : 1
    let results = Mutex([Int: Result<CrossValidationReport.Fold, TableError>]())
    let run = {
      @Sendable (job: (round: Int, fold: Int, rows: [Int])) -> Result<CrossValidationReport.Fold, TableError> in
      var o = foldOptions
      o.testRows = job.rows
      let f = Fitter(options: o, group: SingleProcess())
      do throws(TableError) {
        let report = try f.run(table, checkBeforeReading: nil, prepared: nil, progress: nil)
        return .success(
          CrossValidationReport.Fold(
            round: job.round, fold: job.fold, testRows: job.rows, metrics: report.metrics.last!, model: report.model,
            epochsRun: report.history.epochsRun, trainingTime: report.trainingTime))
      } catch {
        var e = error
        e.template = "fold \(job.fold) of \(folds)\(repeats > 1 ? " (repeat \(job.round))" : ""): " + e.template
        return .failure(e)
      }
    }
    BLAS.singleThreaded {
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        for k in stride(from: w, to: allJobs.count, by: workers) {
          let result = run(allJobs[k])
          results.withLock { $0[k] = result }
        }
      }
    }
    var done: [CrossValidationReport.Fold] = []
    for k in jobs.indices {
      switch results.withLock({ $0[k]! }) {
      case .success(let fold): done.append(fold)
      case .failure(let error): throw error
      }
    }
    return CrossValidationReport(
      folds: done, summary: summarize(done), source: csv.path, exampleCount: m, labelName: training.labelName,
      classNames: options.task == .regression ? [] : classes.names, parallelFolds: workers,
      time: ContinuousClock.now - started)
  }

  /// The value of the summary's metric `name` in `metrics`.
  static func summaryValue(_ name: String, _ metrics: SplitMetrics) -> Double? {
    summaryMetrics(metrics).first { $0.0 == name }?.1(metrics)
  }

  /// The main metrics of a kind of model, by name.
  static func summaryMetrics(_ first: SplitMetrics) -> [(String, (SplitMetrics) -> Double?)] {
    if first.regression != nil {
      return [
        ("MAE", { $0.regression?.meanAbsoluteError }), ("RMSE", { $0.regression?.rootMeanSquaredError }),
        ("R²", { $0.regression?.r2 }),
      ]
    }
    if first.binary != nil {
      return [
        ("accuracy", { $0.binary?.accuracy }), ("sensitivity", { $0.binary?.sensitivity }),
        ("specificity", { $0.binary?.specificity }), ("ROC AUC", { $0.binary?.rocAUC }),
        ("Brier score", { $0.calibration?.brierScore }),
      ]
    }
    return [
      ("accuracy", { $0.multiclass?.accuracy }), ("macro F1", { $0.multiclass?.macroAverage.f1 }),
      ("Brier score", { $0.calibration?.brierScore }),
    ]
  }

  /// Mean, deviation and 95 % interval of each main metric over the folds
  /// where it has a value.
  static func summarize(_ folds: [CrossValidationReport.Fold]) -> [CrossValidationReport.Summary] {
    guard let first = folds.first?.metrics else { return [] }
    return summaryMetrics(first).map { name, _ in
      summary(name, folds.compactMap { CrossValidationReport.value(name, $0.metrics) })
    }
  }

  /// The summary of metric `name` from its finite values on the folds that have one.
  static func summary(_ name: String, _ v: [Double]) -> CrossValidationReport.Summary {
    guard !v.isEmpty else {
      return CrossValidationReport.Summary(name: name, folds: 0, mean: nil, standardDeviation: nil, interval: nil)
    }
    let n = Double(v.count)
    let mean = v.reduce(0, +) / n
    guard v.count > 1 else {
      return CrossValidationReport.Summary(name: name, folds: 1, mean: mean, standardDeviation: nil, interval: nil)
    }
    let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
    let half = studentT975(v.count - 1) * sd / n.squareRoot()
    // Within the metric's range: shares in [0, 1], errors ≥ 0, R² ≤ 1.
    let (low, high): (Double, Double) =
      name == "MAE" || name == "RMSE" ? (0, .infinity) : name == "R²" ? (-.infinity, 1) : (0, 1)
    return CrossValidationReport.Summary(
      name: name, folds: v.count, mean: mean, standardDeviation: sd,
      interval: Interval(estimate: mean, lower: Swift.max(low, mean - half), upper: Swift.min(high, mean + half)))
  }

  /// The 97.5 % quantile of Student's t with `df` degrees of freedom.
  static func studentT975(_ df: Int) -> Double {
    let table: [Double] = [
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
      2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ]
    if df >= 1 && df <= table.count { return table[df - 1] }
    return df > 120 ? 1.960 : df > 60 ? 1.980 : 2.000
  }
}
