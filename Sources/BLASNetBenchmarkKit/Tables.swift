import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular

/// `TabularModel.fit` with its default options against scikit-learn's MLP,
/// histogram gradient boosting and a linear model on real tables: one
/// stratified 80/20 split per table and seed, made here, and the same
/// training and test rows for every system.
public enum TablesBenchmark {
  /// What a table's label asks for.
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case binary, multiclass, regression
  }

  /// One table of the manifest (`Benchmarks/tables.json`).
  public struct Table: Codable, Sendable, Equatable {
    public var name: String
    /// The file, relative to the tables folder.
    public var file: String
    public var label: String
    public var task: Kind

    public init(name: String, file: String, label: String, task: Kind) {
      (self.name, self.file, self.label, self.task) = (name, file, label, task)
    }
  }

  /// The manifest: where the tables come from and what each one's label is.
  public struct Manifest: Codable, Sendable {
    public var provenance: String
    public var tables: [Table]

    public static func read(_ path: String) throws -> Manifest {
      try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
  }

  /// Test scores of one fit (nil: not measured for this kind of table).
  public struct Score: Codable, Sendable, Equatable {
    public var accuracy: Double?
    public var rocAUC: Double?
    public var r2: Double?

    public init(accuracy: Double? = nil, rocAUC: Double? = nil, r2: Double? = nil) {
      (self.accuracy, self.rocAUC, self.r2) = (accuracy, rocAUC, r2)
    }
  }

  /// One system on one table and seed.
  public struct Run: Codable, Sendable {
    public var table: String
    public var seed: Int
    public var system: String
    public var score: Score?
    public var seconds: Double?
    /// The first line of the error when the system refused the table or failed.
    public var refused: String?
    /// BLASNet only: every test prediction was the same class.
    public var constantPredictor: Bool?
  }

  /// One system on one table over the seeds.
  public struct Summary: Codable, Sendable {
    public var table: String
    public var system: String
    public var runs: Int
    public var refusedRuns: Int
    public var refused: String?
    public var mean: Score
    public var worst: Score
    public var meanSeconds: Double?
    public var constantRuns: Int
  }

  /// How BLASNet fares against a peer on a table.
  public enum Outcome: String, Codable, Sendable {
    case win, tie, loss
    /// BLASNet refused the table (no score to compare).
    case refused
    /// No peer score (the peers were not run).
    case unavailable
  }

  /// BLASNet against the best of MLP and HGB on one table.
  public struct Comparison: Codable, Sendable {
    public struct Metric: Codable, Sendable {
      public var name: String
      public var blasnet: Double
      public var best: Double
      public var bestSystem: String
      public var outcome: Outcome
    }
    public var table: String
    public var metrics: [Metric]
    public var outcome: Outcome
  }

  /// A tie: within half a point of accuracy, or 0.005 of ROC AUC or R².
  public static let accuracyMargin = 0.005
  public static let scoreMargin = 0.005
  /// The systems, in the order of the tables.
  public static let systems = ["BLASNet", "MLP", "HGB", "linear"]
  /// The peers BLASNet is judged against.
  public static let judgedPeers = ["MLP", "HGB"]

  public static let rule =
    "BLASNet against the best of MLP and HGB (means over the seeds, each metric's best peer on its own): a tie is within 0.5 points of accuracy or 0.005 of ROC AUC or R²; a binary table is a win or a tie only when both its accuracy and its ROC AUC are at least a tie, and then a win when either is a win."

  // MARK: - The split

  /// The strata of a split: each label's class (classes sorted as text, or
  /// by value when every label is a number), or for a regression its tenth
  /// of the labels by rank.
  public static func strata(labels: [String], regression: Bool) -> [Int] {
    if regression {
      let values = labels.map { Double($0) ?? 0 }
      let order = values.indices.sorted { (values[$0], $0) < (values[$1], $1) }
      var rank = [Int](repeating: 0, count: labels.count)
      for (r, i) in order.enumerated() { rank[i] = r * 10 / max(1, labels.count) }
      return rank
    }
    let distinct = Set(labels)
    let names =
      distinct.allSatisfy { Double($0) != nil }
      ? distinct.sorted { (Double($0)!, $0) < (Double($1)!, $1) } : distinct.sorted()
    let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    return labels.map { index[$0]! }
  }

  /// The benchmark's one split of a table for `seed`: 20 % of each stratum
  /// (rounded by largest remainders, at least one row on each side of a
  /// stratum of two or more) as test rows, seeded by the project's
  /// xoshiro256** (`DataSplit.trainTestIndices`). Row indices are 0-based
  /// data rows, sorted.
  public static func split(labels: [String], regression: Bool, seed: UInt64) -> (train: [Int], test: [Int]) {
    DataSplit.trainTestIndices(
      count: labels.count, testFraction: 0.2, seed: seed, stratifyBy: strata(labels: labels, regression: regression))
  }

  /// The label column of a CSV file, one value per data row.
  static func labels(path: String, label: String) throws -> [String] {
    let csv = try CSVFile(path: path)
    guard let k = csv.header.firstIndex(of: label) else {
      throw TableError("\(path): no column \"\(label)\" (columns: \(csv.header.joined(separator: ", ")))")
    }
    return csv.records.indices.map { csv.text(record: $0, field: k) }
  }

  // MARK: - The rule

  /// One metric: BLASNet's mean against the best peer's.
  public static func outcome(_ blasnet: Double, against best: Double, margin: Double) -> Outcome {
    let d = blasnet - best
    if abs(d) <= margin + 1e-12 { return .tie }
    return d > 0 ? .win : .loss
  }

  /// A table's outcome from its metrics' outcomes: a loss when any metric
  /// is a loss, else a win when any is a win, else a tie.
  public static func combine(_ outcomes: [Outcome]) -> Outcome {
    if outcomes.isEmpty { return .unavailable }
    if outcomes.contains(.loss) { return .loss }
    if outcomes.contains(.win) { return .win }
    return .tie
  }

  /// BLASNet's mean scores against the best mean of the judged peers, per metric.
  public static func compare(table: String, kind: Kind, blasnet: Summary?, peers: [Summary]) -> Comparison {
    guard let blasnet, blasnet.runs > 0 else { return Comparison(table: table, metrics: [], outcome: .refused) }
    let names: [(String, KeyPath<Score, Double?>, Double)] =
      switch kind {
      case .binary: [("accuracy", \.accuracy, accuracyMargin), ("ROC AUC", \.rocAUC, scoreMargin)]
      case .multiclass: [("accuracy", \.accuracy, accuracyMargin)]
      case .regression: [("R²", \.r2, scoreMargin)]
      }
    var metrics: [Comparison.Metric] = []
    for (name, key, margin) in names {
      guard let mine = blasnet.mean[keyPath: key] else { continue }
      let best = peers.filter { $0.runs > 0 }.compactMap { p in p.mean[keyPath: key].map { ($0, p.system) } }
        .max { $0.0 < $1.0 }
      guard let best else { continue }
      metrics.append(
        .init(
          name: name, blasnet: mine, best: best.0, bestSystem: best.1,
          outcome: outcome(mine, against: best.0, margin: margin)))
    }
    return Comparison(table: table, metrics: metrics, outcome: combine(metrics.map(\.outcome)))
  }

  // MARK: - Summaries

  static func summarize(table: String, system: String, runs: [Run]) -> Summary {
    let scored = runs.filter { $0.score != nil }
    func column(_ key: KeyPath<Score, Double?>) -> [Double] { scored.compactMap { $0.score?[keyPath: key] } }
    func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
    let seconds = scored.compactMap(\.seconds)
    return Summary(
      table: table, system: system, runs: scored.count, refusedRuns: runs.count - scored.count,
      refused: runs.first { $0.refused != nil }?.refused,
      mean: Score(accuracy: mean(column(\.accuracy)), rocAUC: mean(column(\.rocAUC)), r2: mean(column(\.r2))),
      worst: Score(accuracy: column(\.accuracy).min(), rocAUC: column(\.rocAUC).min(), r2: column(\.r2).min()),
      meanSeconds: mean(seconds), constantRuns: runs.filter { $0.constantPredictor == true }.count)
  }

  /// The geometric mean of BLASNet's mean fit time over a peer's, over the
  /// tables where both have one.
  static func timeRatio(_ summaries: [Summary], peer: String) -> (ratio: Double, tables: Int)? {
    var logs: [Double] = []
    for s in summaries where s.system == "BLASNet" {
      guard let mine = s.meanSeconds,
        let theirs = summaries.first(where: { $0.table == s.table && $0.system == peer })?.meanSeconds,
        mine > 0, theirs > 0
      else { continue }
      logs.append(log(mine / theirs))
    }
    return logs.isEmpty ? nil : (exp(logs.reduce(0, +) / Double(logs.count)), logs.count)
  }

  // MARK: - The run

  /// Everything a run measured, and how.
  public struct Report: Codable, Sendable {
    public var command: String
    public var date: String
    public var cpu: String
    public var blas: String
    public var blasKernel: String
    public var seeds: Int
    public var overrides: [String]
    public var peers: String?
    public var rule: String
    public var tables: [Table]
    public var runs: [Run]
    public var summaries: [Summary]
    public var comparisons: [Comparison]
    public var wins: Int
    public var ties: Int
    public var losses: Int
    public var refused: Int
    public var timeRatioMLP: Double?
    public var timeRatioHGB: Double?
  }

  /// Fits every table of `tables` (files in `folder`) for seeds 1…`seeds`
  /// with `options` (label, task, seed and test rows set per run), then,
  /// when `python` is given, runs `script` on the same rows.
  public static func run(
    tables: [Table], folder: String, seeds: Int, options: TabularModel.FitOptions, overrides: [String],
    python: String?, script: String, command: String, log: (String) -> Void
  ) throws -> Report {
    var runs: [Run] = []
    for table in tables {
      let path = URL(fileURLWithPath: folder).appendingPathComponent(table.file).path
      let labels = try Self.labels(path: path, label: table.label)
      // The positive class as BLASNet's defaults choose it: the second class.
      let positive =
        table.task == .binary
        ? try ClassLabels(labels: labels, labelName: table.label, positive: nil).names.last : nil
      var job: [[String: Any]] = []
      for seed in 1...seeds {
        let (train, test) = split(labels: labels, regression: table.task == .regression, seed: UInt64(seed))
        var o = options
        o.label = table.label
        o.task = table.task == .regression ? .regression : .classification
        // A calibration where the table has classes it calibrates (Platt's
        // and isotonic: two; a temperature: any number).
        if table.task == .regression || (table.task != .binary && o.calibration != .temperature) {
          o.calibration = nil
        }
        o.seed = UInt64(seed)
        o.testRows = test
        runs.append(fitBLASNet(table: table, path: path, seed: seed, options: o, positive: positive, log: log))
        var entry: [String: Any] = [
          "name": table.name, "file": path, "label": table.label, "task": table.task.rawValue, "seed": seed,
          "train_rows": train, "test_rows": test,
        ]
        if let positive { entry["positive"] = positive }
        job.append(entry)
      }
      if let python {
        log("scikit-learn on \(table.name), the same \(seeds) splits (\(python) \(script))")
        runs += peerRuns(python: python, script: script, table: table, job: job, log: log)
      }
    }
    var summaries: [Summary] = []
    for table in tables {
      for system in systems {
        let mine = runs.filter { $0.table == table.name && $0.system == system }
        if !mine.isEmpty { summaries.append(summarize(table: table.name, system: system, runs: mine)) }
      }
    }
    let comparisons = tables.map { table in
      compare(
        table: table.name, kind: table.task,
        blasnet: summaries.first { $0.table == table.name && $0.system == "BLASNet" },
        peers: summaries.filter { $0.table == table.name && judgedPeers.contains($0.system) })
    }
    let count = { (o: Outcome) in comparisons.filter { $0.outcome == o }.count }
    let date = ISO8601DateFormatter().string(from: Date())
    return Report(
      command: command, date: date, cpu: BLAS.CPUFeatures.current.modelName, blas: BLAS.summary,
      blasKernel: BLAS.kernel, seeds: seeds, overrides: overrides,
      peers: python.map { "\($0) \(script)" }, rule: rule, tables: tables, runs: runs, summaries: summaries,
      comparisons: comparisons, wins: count(.win), ties: count(.tie), losses: count(.loss),
      refused: count(.refused), timeRatioMLP: timeRatio(summaries, peer: "MLP")?.ratio,
      timeRatioHGB: timeRatio(summaries, peer: "HGB")?.ratio)
  }

  static func fitBLASNet(
    table: Table, path: String, seed: Int, options: TabularModel.FitOptions, positive: String?,
    log: (String) -> Void
  ) -> Run {
    var run = Run(table: table.name, seed: seed, system: "BLASNet")
    let started = ContinuousClock.now
    let report: TabularModel.FitReport
    do {
      report = try TabularModel.fit(.csvFile(path), options: options)
    } catch {
      let line = String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
      log("BLASNet \(table.name) seed \(seed): refused: \(line)")
      run.refused = line
      return run
    }
    run.seconds = (ContinuousClock.now - started) / .seconds(1)
    guard let test = report.metrics.last else {
      run.refused = "no test metrics"
      return run
    }
    if let b = test.binary {
      run.score = Score(accuracy: b.accuracy, rocAUC: b.rocAUC)
      let c = b.confusion
      run.constantPredictor = c.truePositives + c.falsePositives == 0 || c.trueNegatives + c.falseNegatives == 0
      if let names = report.model.classNames, names.last != positive {
        log("note: BLASNet's positive class on \(table.name) is \(names.last ?? "?"), not \(positive ?? "?")")
      }
    } else if let m = test.multiclass {
      run.score = Score(accuracy: m.accuracy)
      let predicted = m.confusion.indices.filter { k in m.confusion.contains { $0[k] > 0 } }
      run.constantPredictor = predicted.count <= 1
    } else if let r = test.regression {
      run.score = Score(r2: r.r2)
    }
    log(
      "BLASNet \(table.name) seed \(seed): \(describe(run.score)) in \(String(format: "%.2f", run.seconds ?? 0)) s"
        + (run.constantPredictor == true ? " (constant predictor)" : ""))
    return run
  }

  static func describe(_ s: Score?) -> String {
    guard let s else { return "—" }
    var parts: [String] = []
    if let a = s.accuracy { parts.append(String(format: "accuracy %.4f", a)) }
    if let a = s.rocAUC { parts.append(String(format: "ROC AUC %.4f", a)) }
    if let a = s.r2 { parts.append(String(format: "R² %.4f", a)) }
    return parts.joined(separator: ", ")
  }

  /// The peers' runs on one table: the script's JSON, one object per job
  /// entry with a result per model (or an error).
  static func peerRuns(python: String, script: String, table: Table, job: [[String: Any]], log: (String) -> Void)
    -> [Run]
  {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-tables-\(getpid()).json")
    defer { try? FileManager.default.removeItem(at: file) }
    guard let data = try? JSONSerialization.data(withJSONObject: job), (try? data.write(to: file)) != nil else {
      log("scikit-learn not run on \(table.name): cannot write its job")
      return []
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script, file.path]
    let out = Pipe()
    process.standardOutput = out
    // Its progress and warnings go to this process's standard error.
    process.standardError = FileHandle.standardError
    let results: [[String: Any]]?
    do {
      try process.run()
      let bytes = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      results =
        process.terminationStatus == 0 ? (try? JSONSerialization.jsonObject(with: bytes)) as? [[String: Any]] : nil
    } catch {
      results = nil
    }
    guard let results, results.count == job.count else {
      log("scikit-learn not run on \(table.name): \(python) \(script) failed (see above)")
      return []
    }
    var runs: [Run] = []
    for (entry, result) in zip(job, results) {
      let seed = entry["seed"] as? Int ?? 0
      for system in systems.dropFirst() {
        guard let r = result[system] as? [String: Any] else { continue }
        var run = Run(table: table.name, seed: seed, system: system)
        if let error = r["error"] as? String {
          run.refused = error
        } else {
          run.score = Score(accuracy: r["accuracy"] as? Double, rocAUC: r["roc_auc"] as? Double, r2: r["r2"] as? Double)
          run.seconds = r["seconds"] as? Double
        }
        runs.append(run)
      }
    }
    return runs
  }
}

// MARK: - The text

extension TablesBenchmark.Report {
  /// The tables a person reads.
  public var text: String {
    typealias B = TablesBenchmark
    func cell(_ mean: Double?, _ worst: Double?) -> String {
      guard let mean, let worst else { return "—" }
      return String(format: "%.4f / %.4f", mean, worst)
    }
    func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
    var s = "blasnet-bench --tables: BLASNet's defaults against scikit-learn on real tables\n"
    s += "command: \(command)\ndate: \(date)\nCPU: \(cpu)\nBLAS: \(blas) (OpenBLAS core: \(blasKernel))\n"
    s +=
      "seeds 1–\(seeds): one stratified 80/20 split per table and seed (by class; by tenth of the label for a regression),\n"
    s += "  the same training and test rows for every system\n"
    s +=
      "BLASNet: TabularModel.fit(.csvFile) with the default FitOptions but label, task, seed and the test rows; overrides: \(overrides.isEmpty ? "none" : overrides.joined(separator: " "))\n"
    s +=
      "peers: \(peers ?? "not run"); each a Pipeline of a ColumnTransformer (numbers: median SimpleImputer + StandardScaler; text: most_frequent SimpleImputer + OneHotEncoder(handle_unknown=\"ignore\")) and MLPClassifier/MLPRegressor(random_state=seed), HistGradientBoostingClassifier/Regressor(random_state=seed), LogisticRegression(max_iter=1000)/Ridge()\n"
    s += "positive class of a binary table (ROC AUC): BLASNet's, the second in sorted order\n\n"

    s +=
      "Test scores over the seeds, mean / worst; seconds: mean per fit (BLASNet: the whole fit call; peers: fit + predict)\n"
    let width = 19
    s += pad("table", 15) + pad("metric", 10) + B.systems.map { pad($0, width) }.joined() + "\n"
    for table in tables {
      let sums = B.systems.map { system in summaries.first { $0.table == table.name && $0.system == system } }
      let metrics: [(String, KeyPath<B.Score, Double?>)] =
        switch table.task {
        case .binary: [("accuracy", \.accuracy), ("ROC AUC", \.rocAUC)]
        case .multiclass: [("accuracy", \.accuracy)]
        case .regression: [("R²", \.r2)]
        }
      for (i, (name, key)) in metrics.enumerated() {
        s += pad(i == 0 ? table.name : "", 15) + pad(name, 10)
        s +=
          sums.map { sum -> String in
            guard let sum else { return pad("—", width) }
            if sum.runs == 0 { return pad(sum.refused == nil ? "—" : "refused", width) }
            return pad(cell(sum.mean[keyPath: key], sum.worst[keyPath: key]), width)
          }.joined() + "\n"
      }
      s += pad("", 15) + pad("seconds", 10)
      s += sums.map { pad($0?.meanSeconds.map { String(format: "%.3f", $0) } ?? "—", width) }.joined() + "\n"
    }
    let refusals = summaries.filter { $0.refusedRuns > 0 }
    if !refusals.isEmpty {
      s += "\nRefused or failed:\n"
      for r in refusals {
        s += "  \(r.system) on \(r.table) (\(r.refusedRuns) of \(r.runs + r.refusedRuns) seeds): \(r.refused ?? "?")\n"
      }
    }
    let constant = summaries.filter { $0.system == "BLASNet" && $0.constantRuns > 0 }
    s += "\nConstant predictor (BLASNet's test predictions all one class): "
    s +=
      constant.isEmpty
      ? "none\n"
      : constant.map { "\($0.table) (\($0.constantRuns) of \($0.runs) seeds)" }.joined(separator: ", ") + "\n"

    s += "\n" + B.rule + "\n"
    s += pad("table", 15) + pad("metric", 10) + pad("BLASNet", 9) + pad("best peer", 16) + pad("Δ", 9) + "outcome\n"
    for c in comparisons {
      if c.metrics.isEmpty {
        s += pad(c.table, 15) + pad("", 10) + pad("", 9) + pad("", 16) + pad("", 9) + c.outcome.rawValue + "\n"
      }
      for (i, m) in c.metrics.enumerated() {
        s += pad(i == 0 ? c.table : "", 15) + pad(m.name, 10) + pad(String(format: "%.4f", m.blasnet), 9)
        s += pad(String(format: "%.4f", m.best) + " " + m.bestSystem, 16)
        s += pad(String(format: "%+.4f", m.blasnet - m.best), 9) + m.outcome.rawValue
        s += i == c.metrics.count - 1 && c.metrics.count > 1 ? "  → \(c.outcome.rawValue)\n" : "\n"
      }
    }
    s += "wins \(wins), ties \(ties), losses \(losses)" + (refused > 0 ? ", refused by BLASNet \(refused)" : "") + "\n"
    func ratio(_ r: Double?, _ peer: String) -> String {
      "BLASNet / \(peer) " + (r.map { String(format: "×%.2f", $0) } ?? "—")
    }
    s +=
      "fit time, geometric mean over the tables BLASNet fitted: \(ratio(timeRatioMLP, "MLP")), \(ratio(timeRatioHGB, "HGB"))\n"
    // No padding at the ends of lines.
    return s.split(separator: "\n", omittingEmptySubsequences: false)
      .map { line in String(line.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n")
  }
}
