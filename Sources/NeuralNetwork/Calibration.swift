import Foundation
import LinearAlgebra

/// How well a model's probabilities match the frequencies it predicts:
/// scikit-learn's `brier_score_loss` and `calibration_curve` (uniform bins),
/// and the expected calibration error.
public struct CalibrationMetrics: Sendable {
  /// One bin of the reliability diagram.
  public struct Bin: Equatable, Sendable {
    /// The bin's range of predicted probability [lower, upper) ([lower, 1] for the last).
    public var lower: Double
    public var upper: Double
    public var count: Int
    /// The mean predicted probability of the bin's examples.
    public var meanPredicted: Double
    /// The share of them that belong to the class predicted.
    public var observed: Double
  }

  /// The mean squared difference between the probabilities and the one-hot
  /// labels: for two classes (p − y)² averaged (scikit-learn's
  /// `brier_score_loss`), for more Σₖ (pₖ − yₖ)² averaged.
  public let brierScore: Double
  /// Σ over the bins of (bin count / m) · |mean predicted − observed|.
  public let expectedCalibrationError: Double
  /// The bins that hold examples, from low to high probability.
  public let bins: [Bin]
  /// What the bins are of: the positive class's probability (two classes),
  /// or the most probable class's (its "confidence", more classes).
  public let binsOfConfidence: Bool

  /// Two classes: `p` the positive-class probability of each example.
  public init(positiveProbabilities p: [Float], positive: [Bool], binCount: Int = 10) {
    if p.count != positive.count {
      shapeFailure("CalibrationMetrics: \(p.count) probabilities for \(positive.count) labels; they must be equal")
    }
    let y = positive.map { $0 ? 1.0 : 0.0 }
    let q = p.map(Double.init)
    brierScore = p.isEmpty ? .nan : zip(q, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.count)
    (bins, expectedCalibrationError) = Self.bin(predicted: q, hit: y, binCount: binCount)
    binsOfConfidence = false
  }

  /// Several classes: `probabilities` K × m (a column per example), `classes` the true class of each.
  public init(probabilities: Matrix<Float>, classes: [Int], binCount: Int = 10) {
    if probabilities.columns != classes.count {
      shapeFailure(
        "CalibrationMetrics: \(probabilities.columns) columns of probabilities for \(classes.count) labels; they must be equal"
      )
    }
    var brier = 0.0
    var confidence: [Double] = []
    var hit: [Double] = []
    confidence.reserveCapacity(classes.count)
    for j in 0..<classes.count {
      var best = 0
      for k in 0..<probabilities.rows {
        let v = Double(probabilities[k, j])
        let t = k == classes[j] ? 1.0 : 0.0
        brier += (v - t) * (v - t)
        if probabilities[k, j] > probabilities[best, j] { best = k }
      }
      confidence.append(Double(probabilities[best, j]))
      hit.append(best == classes[j] ? 1 : 0)
    }
    brierScore = classes.isEmpty ? .nan : brier / Double(classes.count)
    (bins, expectedCalibrationError) = Self.bin(predicted: confidence, hit: hit, binCount: binCount)
    binsOfConfidence = true
  }

  static func bin(predicted: [Double], hit: [Double], binCount: Int) -> ([Bin], Double) {
    var count = [Int](repeating: 0, count: binCount)
    var sum = [Double](repeating: 0, count: binCount)
    var hits = [Double](repeating: 0, count: binCount)
    for (p, h) in zip(predicted, hit) {
      let k = Swift.min(binCount - 1, Swift.max(0, Int(p * Double(binCount))))
      count[k] += 1
      sum[k] += p
      hits[k] += h
    }
    var bins: [Bin] = []
    var ece = 0.0
    for k in 0..<binCount where count[k] > 0 {
      let n = Double(count[k])
      let bin = Bin(
        lower: Double(k) / Double(binCount), upper: Double(k + 1) / Double(binCount), count: count[k],
        meanPredicted: sum[k] / n, observed: hits[k] / n)
      bins.append(bin)
      ece += n / Double(predicted.count) * Swift.abs(bin.meanPredicted - bin.observed)
    }
    return (bins, predicted.isEmpty ? .nan : ece)
  }
}

/// A map from a model's probabilities to calibrated ones, fitted on
/// held-out examples (scikit-learn's `CalibratedClassifierCV` with
/// `cv="prefit"`, and temperature scaling).
public enum Calibrator: Equatable, Sendable {
  /// Two classes: p' = σ(a · logit(p) + b), Platt's sigmoid on the model's log-odds.
  case platt(a: Double, b: Double)
  /// Two classes: a non-decreasing map, linear between the points
  /// (`x` ascending), constant beyond the first and last.
  case isotonic(x: [Double], y: [Double])
  /// Any number of classes: the log-probabilities divided by T, renormalised
  /// (softmax(z / T) for a softmax output, σ(logit(p) / T) for a sigmoid).
  case temperature(Double)

  /// `platt`, `isotonic` or `temperature`.
  public var method: String {
    switch self {
    case .platt: return "platt"
    case .isotonic: return "isotonic"
    case .temperature: return "temperature"
    }
  }

  /// Whether it can calibrate a network with `outputs` units, and why not.
  public func problem(outputs: Int) -> String? {
    switch self {
    case .platt(let a, let b):
      if !(a.isFinite && b.isFinite) { return "Platt scaling's a and b must be finite, got \(a) and \(b)" }
      return outputs == 1 ? nil : "Platt scaling calibrates a two-class model (1 output), not \(outputs) outputs"
    case .isotonic(let x, let y):
      if outputs != 1 { return "isotonic calibration is for a two-class model (1 output), not \(outputs) outputs" }
      if x.isEmpty || x.count != y.count { return "isotonic calibration needs as many x as y values, at least one" }
      if !(x + y).allSatisfy(\.isFinite) { return "isotonic calibration has a value that is not finite" }
      if zip(x, x.dropFirst()).contains(where: { $0 >= $1 }) { return "isotonic calibration's x must rise" }
      if zip(y, y.dropFirst()).contains(where: { $0 > $1 }) || !y.allSatisfy({ $0 >= 0 && $0 <= 1 }) {
        return "isotonic calibration's y must be probabilities that never fall"
      }
      return nil
    case .temperature(let t):
      return t > 0 && t.isFinite ? nil : "the temperature must be a positive number, got \(t)"
    }
  }

  /// Whether this calibrator maps a sigmoid output's log-odds (Platt's, or a
  /// temperature), which ``apply(logOdds:)`` can take directly.
  public var mapsLogOdds: Bool {
    switch self {
    case .platt, .temperature: return true
    case .isotonic: return false
    }
  }

  /// Calibrates a sigmoid output given as its log-odds `z` (1 × m, the
  /// output layer's pre-activations), in place: σ(a·z + b) for Platt's,
  /// σ(z / T) for a temperature, z clamped to the log-odds of [10⁻⁷, 1 − 10⁻⁷]
  /// as ``apply(_:)`` clamps a probability. From z itself rather than from
  /// σ(z) in Float, whose rounding near 0 and 1 loses the log-odds' last
  /// digits (at p = 1 − 2·10⁻⁶ a Float step is 3 % of 1 − p); the ONNX export
  /// computes it so too. Traps for an isotonic calibrator.
  public func apply(logOdds z: inout Matrix<Float>) {
    let (a, b): (Double, Double)
    switch self {
    case .platt(let slope, let shift): (a, b) = (slope, shift)
    case .temperature(let t): (a, b) = (1 / t, 0)
    case .isotonic: shapeFailure("Calibrator.apply(logOdds:): an isotonic calibration maps probabilities, not log-odds")
    }
    let bound = Self.logit(1)
    z.withUnsafeMutableBufferPointer { v in
      for i in v.indices { v[i] = Float(Self.sigmoid(a * Swift.min(Swift.max(Double(v[i]), -bound), bound) + b)) }
    }
  }

  /// Calibrates the outputs `p` (n_L × m, probabilities) in place.
  public func apply(_ p: inout Matrix<Float>) {
    switch self {
    case .platt(let a, let b):
      p.withUnsafeMutableBufferPointer { v in
        for i in v.indices { v[i] = Float(Self.sigmoid(a * Self.logit(v[i]) + b)) }
      }
    case .isotonic(let x, let y):
      p.withUnsafeMutableBufferPointer { v in
        for i in v.indices { v[i] = Float(Self.interpolate(Double(v[i]), x, y)) }
      }
    case .temperature(let t):
      if p.rows == 1 {
        p.withUnsafeMutableBufferPointer { v in
          for i in v.indices { v[i] = Float(Self.sigmoid(Self.logit(v[i]) / t)) }
        }
        return
      }
      let k = p.rows
      p.withUnsafeMutableBufferPointer { v in
        for j in 0..<(v.count / k) {
          let column = j * k
          var logs = (0..<k).map { Foundation.log(Swift.max(Double(v[column + $0]), 1e-300)) / t }
          let top = logs.max()!
          var total = 0.0
          for r in 0..<k {
            logs[r] = Foundation.exp(logs[r] - top)
            total += logs[r]
          }
          for r in 0..<k { v[column + r] = Float(logs[r] / total) }
        }
      }
    }
  }

  /// Platt scaling fitted by Newton's method on the log-odds of `p`, with
  /// Platt's targets (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2) instead of 1 and 0, as
  /// scikit-learn does, so that a perfectly separated set does not push
  /// a to infinity.
  public static func fitPlatt(positiveProbabilities p: [Float], positive: [Bool]) -> Calibrator {
    let f = p.map(logit)
    let nPositive = Double(positive.filter { $0 }.count)
    let nNegative = Double(positive.count) - nPositive
    let t = positive.map { $0 ? (nPositive + 1) / (nPositive + 2) : 1 / (nNegative + 2) }
    // Platt's start: no slope, the prior log-odds; Newton steps, halved
    // until the cost falls.
    func cost(_ a: Double, _ b: Double) -> Double {
      var total = 0.0
      for i in f.indices {
        let z = a * f[i] + b
        // −[t log σ(z) + (1 − t) log(1 − σ(z))], stable for large |z|.
        total += (z > 0 ? z + Foundation.log1p(Foundation.exp(-z)) : Foundation.log1p(Foundation.exp(z))) - t[i] * z
      }
      return total
    }
    var (a, b) = (0.0, Foundation.log((nPositive + 1) / (nNegative + 1)))
    var current = cost(a, b)
    for _ in 0..<100 {
      // Gradient and Hessian of the cost in (a, b).
      var (ga, gb, haa, hab, hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12)
      for i in f.indices {
        let q = sigmoid(a * f[i] + b)
        let d = q - t[i]
        let w = q * (1 - q)
        ga += d * f[i]
        gb += d
        haa += w * f[i] * f[i]
        hab += w * f[i]
        hbb += w
      }
      let det = haa * hbb - hab * hab
      guard det > 0 else { break }
      let da = (hbb * ga - hab * gb) / det
      let db = (haa * gb - hab * ga) / det
      var step = 1.0
      var next = cost(a - da, b - db)
      while next > current && step > 1e-10 {
        step /= 2
        next = cost(a - step * da, b - step * db)
      }
      if next > current { break }
      a -= step * da
      b -= step * db
      let gain = current - next
      current = next
      if gain <= 1e-12 * Swift.max(1, Swift.abs(current)) { break }
    }
    return .platt(a: a, b: b)
  }

  /// Isotonic regression of the labels on `p` (pool adjacent violators,
  /// ties in `p` pooled first), as scikit-learn's `IsotonicRegression`
  /// with `out_of_bounds="clip"`.
  public static func fitIsotonic(positiveProbabilities p: [Float], positive: [Bool]) -> Calibrator {
    let order = p.indices.sorted { p[$0] < p[$1] }
    // Blocks: (x, mean y, weight), x the mean score of the block's tied scores.
    var xs: [Double] = []
    var ys: [Double] = []
    var ws: [Double] = []
    var k = 0
    while k < order.count {
      var end = k
      var hits = 0.0
      while end < order.count && p[order[end]] == p[order[k]] {
        if positive[order[end]] { hits += 1 }
        end += 1
      }
      xs.append(Double(p[order[k]]))
      ys.append(hits / Double(end - k))
      ws.append(Double(end - k))
      k = end
    }
    // Pool adjacent violators over the blocks.
    var level: [Double] = []
    var weight: [Double] = []
    var span: [Int] = []  // blocks pooled into each level
    for i in ys.indices {
      level.append(ys[i])
      weight.append(ws[i])
      span.append(1)
      while level.count > 1 && level[level.count - 2] > level[level.count - 1] {
        let (l, w, s) = (level.removeLast(), weight.removeLast(), span.removeLast())
        let n = level.count - 1
        level[n] = (level[n] * weight[n] + l * w) / (weight[n] + w)
        weight[n] += w
        span[n] += s
      }
    }
    // Each block's x with its pooled level; scikit-learn keeps the ends of
    // each pooled run, which is enough for the linear interpolation.
    var x: [Double] = []
    var y: [Double] = []
    var block = 0
    for (l, s) in zip(level, span) {
      let first = block
      let last = block + s - 1
      x.append(xs[first])
      y.append(l)
      if last != first {
        x.append(xs[last])
        y.append(l)
      }
      block += s
    }
    if x.isEmpty { return .isotonic(x: [0.5], y: [0.5]) }
    return .isotonic(x: x, y: y)
  }

  /// The temperature that minimises the cross-entropy of the calibrated
  /// probabilities on the examples (a golden-section search over log T in [1/20, 20]).
  public static func fitTemperature(probabilities p: Matrix<Float>, classes: [Int]) -> Calibrator {
    func cost(_ t: Double) -> Double {
      var q = p
      Calibrator.temperature(t).apply(&q)
      var total = 0.0
      for (j, c) in classes.enumerated() {
        let v = q.rows == 1 ? (c == 1 ? q[0, j] : 1 - q[0, j]) : q[c, j]
        total -= Foundation.log(Swift.max(Double(v), 1e-12))
      }
      return total
    }
    var (lo, hi) = (Foundation.log(0.05), Foundation.log(20.0))
    let ratio = (5.0.squareRoot() - 1) / 2
    var c = hi - ratio * (hi - lo)
    var d = lo + ratio * (hi - lo)
    var (fc, fd) = (cost(Foundation.exp(c)), cost(Foundation.exp(d)))
    for _ in 0..<60 {
      if fc < fd {
        hi = d
        (d, fd) = (c, fc)
        c = hi - ratio * (hi - lo)
        fc = cost(Foundation.exp(c))
      } else {
        lo = c
        (c, fc) = (d, fd)
        d = lo + ratio * (hi - lo)
        fd = cost(Foundation.exp(d))
      }
    }
    return .temperature(Foundation.exp((lo + hi) / 2))
  }

  /// log(p / (1 − p)), with p kept within [10⁻⁷, 1 − 10⁻⁷] (a saturated Float output).
  static func logit(_ p: Float) -> Double {
    let q = Swift.min(Swift.max(Double(p), 1e-7), 1 - 1e-7)
    return Foundation.log(q / (1 - q))
  }

  static func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

  static func interpolate(_ v: Double, _ x: [Double], _ y: [Double]) -> Double {
    if v <= x[0] { return y[0] }
    if v >= x[x.count - 1] { return y[y.count - 1] }
    // The first x above v.
    var (lo, hi) = (0, x.count - 1)
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if x[mid] <= v { lo = mid } else { hi = mid }
    }
    let s = (v - x[lo]) / (x[hi] - x[lo])
    return y[lo] + s * (y[hi] - y[lo])
  }
}
