import Foundation
import Tabular

/// `blasnet train` with no training options against scikit-learn's
/// `MLPClassifier` with its defaults, on the same splits of small real tables
/// over several seeds: the worst and mean test accuracy and the time per fit.
public enum DefaultsBenchmark {
  /// A table of the comparison.
  public struct Table: Sendable {
    public var name: String
    public var path: String
    public var label: String

    public init(name: String, path: String, label: String) {
      (self.name, self.path, self.label) = (name, path, label)
    }
  }

  /// One model's runs on one table.
  public struct Runs: Sendable {
    public var accuracies: [Double] = []
    public var seconds: [Double] = []

    var worst: Double { accuracies.min() ?? .nan }
    var mean: Double { accuracies.isEmpty ? .nan : accuracies.reduce(0, +) / Double(accuracies.count) }
    var meanSeconds: Double { seconds.isEmpty ? .nan : seconds.reduce(0, +) / Double(seconds.count) }
  }

  /// Fits every table with `options` (its label and seed set per run) for
  /// seeds 1…`seeds`, then, when `python` is given, scikit-learn on the same
  /// training and test rows (`script`: Benchmarks/Python/sklearn_defaults.py).
  public static func run(
    tables: [Table], seeds: Int, options: TabularModel.FitOptions, python: String?, script: String,
    log: (String) -> Void
  ) throws -> String {
    var blasnet: [String: Runs] = [:]
    var job: [[String: Any]] = []
    for table in tables {
      log("BLASNet defaults on \(table.name), seeds 1–\(seeds)")
      for seed in 1...seeds {
        var o = options
        o.label = table.label
        o.seed = UInt64(seed)
        let started = ContinuousClock.now
        let report = try TabularModel.fit(.csvFile(table.path), options: o)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        guard let test = report.metrics.last else { continue }
        blasnet[table.name, default: Runs()].accuracies.append(
          test.binary?.accuracy ?? test.multiclass?.accuracy ?? .nan)
        blasnet[table.name, default: Runs()].seconds.append(seconds)
        job.append([
          "file": table.path, "label": table.label, "seed": seed,
          "test_lines": (0..<report.test.count).map { report.test.line($0) },
        ])
      }
    }
    var peers: [String: [String: Runs]] = [:]
    if let python {
      log("scikit-learn MLPClassifier on the same splits (\(python) \(script))")
      if let results = runPython(python, script: script, job: job) {
        for (run, result) in zip(job, results) {
          let name = tables.first { $0.path == run["file"] as? String }!.name
          for (model, value) in result {
            guard let value = value as? [String: Double] else { continue }
            peers[model, default: [:]][name, default: Runs()].accuracies.append(value["accuracy"] ?? .nan)
            peers[model, default: [:]][name, default: Runs()].seconds.append(value["seconds"] ?? .nan)
          }
        }
      } else {
        log("scikit-learn not run: \(python) could not import numpy and sklearn")
      }
    }
    var text = "Test accuracy over seeds 1–\(seeds) (worst / mean) and seconds per fit\n"
    text += "table   BLASNet defaults           MLPClassifier()            StandardScaler + MLPClassifier()\n"
    func cell(_ r: Runs?) -> String {
      guard let r, !r.accuracies.isEmpty else { return "—".padding(toLength: 27, withPad: " ", startingAt: 0) }
      return String(format: "%.3f / %.3f  %7.3f s    ", r.worst, r.mean, r.meanSeconds)
    }
    for table in tables {
      text += table.name.padding(toLength: 8, withPad: " ", startingAt: 0)
      text += cell(blasnet[table.name]) + cell(peers["mlp"]?[table.name]) + cell(peers["scaled"]?[table.name]) + "\n"
    }
    return text
  }

  static func runPython(_ python: String, script: String, job: [[String: Any]]) -> [[String: Any]]? {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-defaults-\(getpid()).json")
    defer { try? FileManager.default.removeItem(at: file) }
    guard let data = try? JSONSerialization.data(withJSONObject: job), (try? data.write(to: file)) != nil else {
      return nil
    }
    return runPythonJSON(python, script, file.path) as? [[String: Any]]
  }
}
