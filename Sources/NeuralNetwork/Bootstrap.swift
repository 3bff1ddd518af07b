import Dispatch
import Foundation
import LinearAlgebra

/// A metric's value on the examples at hand and its bootstrap interval.
public struct Interval: Equatable, Sendable, CustomStringConvertible {
  /// The value on the examples themselves.
  public var estimate: Double
  public var lower: Double
  public var upper: Double

  public init(estimate: Double, lower: Double, upper: Double) {
    (self.estimate, self.lower, self.upper) = (estimate, lower, upper)
  }

  /// `0.962 (0.931–0.984)`.
  public var description: String { text(digits: 3) }

  public func text(digits: Int) -> String {
    func f(_ v: Double) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "n/a" }
    return "\(f(estimate)) (\(f(lower))–\(f(upper)))"
  }
}

/// Percentile bootstrap intervals of a model's metrics on one set of
/// examples: the examples are drawn with replacement `resamples` times (from
/// a seeded generator, so the same call gives the same intervals), every
/// metric is computed on each resample, and the interval runs from the
/// (1 − level)/2 to the (1 + level)/2 quantile of those values. A resample
/// in which a metric is undefined (sensitivity with no positive example, say)
/// does not count for that metric.
public struct BootstrapIntervals: Sendable {
  /// The resamples drawn.
  public let resamples: Int
  /// The share of the resampled values each interval holds (0.95).
  public let level: Double
  /// The metrics in report order, by name (`accuracy`, `sensitivity`,
  /// `specificity`, `ROC AUC`; `macro F1`; `MAE`, `RMSE`, `R²`).
  public let metrics: [(name: String, interval: Interval)]

  public subscript(name: String) -> Interval? { metrics.first { $0.name == name }?.interval }

  /// The resamples to draw of `examples` rows when `wanted` are asked for:
  /// all of them up to 2·10⁸ draws in all (1,000 resamples of 200,000 rows,
  /// about 1.6 s on two cores), fewer beyond, but at least 100 (a 95 %
  /// interval's ends from 100 resamples are rough but, at that size, narrow).
  public static func affordable(_ wanted: Int, examples: Int) -> Int {
    wanted <= 0 ? 0 : Swift.min(wanted, Swift.max(100, 200_000_000 / Swift.max(1, examples)))
  }

  /// The intervals of a two-class model's accuracy, sensitivity,
  /// specificity (at `threshold`) and ROC AUC, from its positive-class
  /// outputs `scores` on examples whose class is `positive`.
  public static func binary(
    scores: [Float], positive: [Bool], threshold: Float, resamples: Int = 1000, level: Double = 0.95,
    seed: UInt64 = 0
  ) -> BootstrapIntervals {
    if scores.count != positive.count {
      shapeFailure("BootstrapIntervals.binary: \(scores.count) scores for \(positive.count) labels; they must be equal")
    }
    // Sorted once, and the examples kept in that order: a resample draws
    // examples uniformly, so it can draw sorted positions, and each metric
    // is then one sequential pass (the AUC's too).
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    let scores = order.map { scores[$0] }
    let positive = order.map { positive[$0] }
    let predicted = scores.map { $0 >= threshold }
    @Sendable func metrics(_ w: [Int32]) -> [Double?] {
      var (tp, fp, tn, fn) = (0, 0, 0, 0)
      for i in 0..<w.count where w[i] != 0 {
        let c = Int(w[i])
        switch (positive[i], predicted[i]) {
        case (true, true): tp += c
        case (false, true): fp += c
        case (false, false): tn += c
        case (true, false): fn += c
        }
      }
      let n = tp + fp + tn + fn
      // Mann–Whitney: each positive scores against the negatives below it, ties half.
      var below = 0.0
      var pairs = 0.0
      var k = 0
      while k < scores.count {
        var end = k
        var (pos, neg) = (0.0, 0.0)
        while end < scores.count && scores[end] == scores[k] {
          if positive[end] { pos += Double(w[end]) } else { neg += Double(w[end]) }
          end += 1
        }
        pairs += pos * (below + 0.5 * neg)
        below += neg
        k = end
      }
      let p = Double(tp + fn)
      let q = Double(tn + fp)
      return [
        n > 0 ? Double(tp + tn) / Double(n) : nil, p > 0 ? Double(tp) / p : nil, q > 0 ? Double(tn) / q : nil,
        p > 0 && q > 0 ? pairs / (p * q) : nil,
      ]
    }
    return run(
      names: ["accuracy", "sensitivity", "specificity", "ROC AUC"], count: scores.count, resamples: resamples,
      level: level, seed: seed, metrics: metrics)
  }

  /// The intervals of a model's accuracy and macro-averaged F1 over `classCount` classes.
  public static func multiclass(
    predicted: [Int], actual: [Int], classCount: Int, resamples: Int = 1000, level: Double = 0.95, seed: UInt64 = 0
  ) -> BootstrapIntervals {
    if predicted.count != actual.count {
      shapeFailure(
        "BootstrapIntervals.multiclass: \(predicted.count) predictions for \(actual.count) labels; they must be equal")
    }
    @Sendable func metrics(_ w: [Int32]) -> [Double?] {
      var hits = [Int](repeating: 0, count: classCount)
      var predictedCount = hits
      var actualCount = hits
      for i in 0..<w.count where w[i] != 0 {
        let c = Int(w[i])
        predictedCount[predicted[i]] += c
        actualCount[actual[i]] += c
        if predicted[i] == actual[i] { hits[actual[i]] += c }
      }
      let n = actualCount.reduce(0, +)
      guard n > 0 else { return [nil, nil] }
      // scikit-learn's macro F1: the mean over the classes present in either
      // the labels or the predictions; F1 is 0 when a class is never hit.
      var f1 = 0.0
      var present = 0
      for k in 0..<classCount where predictedCount[k] + actualCount[k] > 0 {
        present += 1
        f1 += 2 * Double(hits[k]) / Double(predictedCount[k] + actualCount[k])
      }
      return [Double(hits.reduce(0, +)) / Double(n), f1 / Double(present)]
    }
    return run(
      names: ["accuracy", "macro F1"], count: predicted.count, resamples: resamples, level: level, seed: seed,
      metrics: metrics)
  }

  /// The intervals of a regression's mean absolute error, root mean squared
  /// error and R² (1 − SSE / the sum of squares about the resample's mean).
  public static func regression(
    predicted: [Double], actual: [Double], resamples: Int = 1000, level: Double = 0.95, seed: UInt64 = 0
  ) -> BootstrapIntervals {
    if predicted.count != actual.count {
      shapeFailure(
        "BootstrapIntervals.regression: \(predicted.count) predictions for \(actual.count) values; they must be equal")
    }
    @Sendable func metrics(_ w: [Int32]) -> [Double?] {
      var (n, absolute, squared, sum, sumOfSquares) = (0.0, 0.0, 0.0, 0.0, 0.0)
      for i in 0..<w.count where w[i] != 0 {
        let c = Double(w[i])
        let e = predicted[i] - actual[i]
        n += c
        absolute += c * abs(e)
        squared += c * e * e
        sum += c * actual[i]
        sumOfSquares += c * actual[i] * actual[i]
      }
      guard n > 0 else { return [nil, nil, nil] }
      let total = sumOfSquares - sum * sum / n
      return [absolute / n, (squared / n).squareRoot(), total > 0 ? 1 - squared / total : nil]
    }
    return run(
      names: ["MAE", "RMSE", "R²"], count: predicted.count, resamples: resamples, level: level, seed: seed,
      metrics: metrics)
  }

  /// Draws the resamples (as counts per example), in parallel over the cores
  /// with a generator per resample, so the result does not depend on them.
  static func run(
    names: [String], count n: Int, resamples: Int, level: Double, seed: UInt64,
    metrics: @Sendable ([Int32]) -> [Double?]
  ) -> BootstrapIntervals {
    if resamples < 0 || !(level > 0 && level < 1) {
      shapeFailure("BootstrapIntervals: resamples must be ≥ 0 and the level in (0, 1); got \(resamples) and \(level)")
    }
    let estimate = metrics([Int32](repeating: 1, count: n))
    let values = UnsafeMutableBufferPointer<Double>.allocate(capacity: resamples * names.count)
    defer { values.deallocate() }
    let shared = SendableBuffer(values)
    if n > 0 && resamples > 0 {
      let workers = Swift.min(resamples, ProcessInfo.processInfo.activeProcessorCount)
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var weights = [Int32](repeating: 0, count: n)
        for r in stride(from: worker, to: resamples, by: workers) {
          var random = Xoshiro256StarStar(seed: seed &+ UInt64(r) &* 0x9E37_79B9_7F4A_7C15)
          for i in 0..<n { weights[i] = 0 }
          for _ in 0..<n { weights[Int(random.nextBounded(UInt64(n)))] += 1 }
          for (k, v) in metrics(weights).enumerated() { shared.buffer[r * names.count + k] = v ?? .nan }
        }
      }
    }
    var result: [(String, Interval)] = []
    for (k, name) in names.enumerated() {
      let sample = (0..<(n > 0 ? resamples : 0)).map { values[$0 * names.count + k] }.filter { !$0.isNaN }.sorted()
      let value = estimate[k] ?? .nan
      guard !sample.isEmpty else {
        result.append((name, Interval(estimate: value, lower: .nan, upper: .nan)))
        continue
      }
      func quantile(_ q: Double) -> Double {
        // Linear between order statistics, as numpy.percentile's default.
        let h = q * Double(sample.count - 1)
        let i = Int(h.rounded(.down))
        return i + 1 < sample.count ? sample[i] + (h - Double(i)) * (sample[i + 1] - sample[i]) : sample[i]
      }
      result.append(
        (name, Interval(estimate: value, lower: quantile((1 - level) / 2), upper: quantile((1 + level) / 2))))
    }
    return BootstrapIntervals(resamples: resamples, level: level, metrics: result)
  }
}

/// A buffer written at distinct indices by concurrent workers.
private struct SendableBuffer: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<Double>
  init(_ buffer: UnsafeMutableBufferPointer<Double>) { self.buffer = buffer }
}
