import Foundation
import LinearAlgebra

/// A monotone piecewise-linear map of one numeric input onto the normal
/// scores of its training distribution (scikit-learn's
/// `QuantileTransformer(output_distribution="normal")`, as Gorishniy et al.
/// 2021 preprocess the inputs of their MLPs): a value at the training rows'
/// quantile p becomes Φ⁻¹(p), so a skewed or heavy-tailed column arrives at
/// the network spread evenly, and an outlier is no further out than the
/// training rows' extremes.
public struct QuantileMap: Equatable, Sendable, Codable {
  /// Increasing input values.
  public var knots: [Double]
  /// The output at each knot (non-decreasing).
  public var scores: [Double]

  public init(knots: [Double], scores: [Double]) {
    self.knots = knots
    self.scores = scores
  }

  /// The most knots a fitted map keeps.
  public static let defaultKnots = 128

  /// Fits the map on `values` (the training rows' values of one input, any
  /// order; at least one). A value repeated by many rows (a discrete column)
  /// gets the score of its mid-rank; at most `maxKnots` knots are kept, at
  /// evenly spaced ranks, and the extremes are always among them.
  public init(fitting values: [Double], maxKnots: Int = QuantileMap.defaultKnots) {
    if values.isEmpty || maxKnots < 2 {
      shapeFailure(
        "QuantileMap: fitted on \(values.count) values with at most \(maxKnots) knots; it needs a value and 2 knots")
    }
    let sorted = values.sorted()
    let n = sorted.count
    // The distinct values with their mid-rank shares.
    var distinct: [(value: Double, share: Double)] = []
    var start = 0
    while start < n {
      var end = start + 1
      while end < n && sorted[end] == sorted[start] { end += 1 }
      distinct.append((sorted[start], (Double(start + end) / 2) / Double(n)))
      start = end
    }
    var chosen: [(value: Double, share: Double)]
    if distinct.count <= maxKnots {
      chosen = distinct
    } else {
      // Evenly spaced ranks; a rank inside a run of ties takes the run's mid-rank.
      chosen = []
      var k = 0
      for q in 0..<maxKnots {
        let rank = Double(q) / Double(maxKnots - 1) * Double(n - 1)
        let value = sorted[Int(rank.rounded())]
        while distinct[k].value < value { k += 1 }
        if chosen.last?.value != value { chosen.append(distinct[k]) }
      }
    }
    // Shares are kept off 0 and 1 by half a row (the outermost rows' mid-ranks).
    let lowest = 0.5 / Double(n)
    knots = chosen.map(\.value)
    scores = chosen.map { Self.normalQuantile(Swift.min(Swift.max($0.share, lowest), 1 - lowest)) }
    if knots.count == 1 { scores = [0] }
  }

  /// What is wrong with a map read from a file (nil when nothing is): it
  /// needs as many scores as knots (at least one), finite, the knots
  /// increasing and the scores not decreasing.
  public var problem: String? {
    if knots.isEmpty || knots.count != scores.count {
      return "\(knots.count) knots and \(scores.count) scores (they must be as many, at least one)"
    }
    if !(knots + scores).allSatisfy(\.isFinite) { return "a knot or score is not finite" }
    if zip(knots, knots.dropFirst()).contains(where: { !($0 < $1) }) { return "the knots do not increase" }
    if zip(scores, scores.dropFirst()).contains(where: { $0 > $1 }) { return "the scores decrease" }
    return nil
  }

  /// The map at `x`: the scores interpolated between knots, the first or
  /// last score beyond them. NaN stays NaN.
  @inline(__always)
  public func callAsFunction(_ x: Double) -> Double {
    withBuffers { knots, scores in Self.map(x, knots, scores) }
  }

  /// `body` with the knots and scores as buffers, for mapping many values
  /// with one access to the arrays (``map(_:_:_:)``).
  @inlinable
  public func withBuffers<R>(_ body: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> R) -> R {
    knots.withUnsafeBufferPointer { k in scores.withUnsafeBufferPointer { s in body(k, s) } }
  }

  /// `x` mapped by the map whose knots and scores these are (as
  /// ``callAsFunction(_:)`` does; the buffers from ``withBuffers(_:)``).
  @inlinable
  public static func map(_ x: Double, _ knots: UnsafeBufferPointer<Double>, _ scores: UnsafeBufferPointer<Double>)
    -> Double
  {
    let count = knots.count
    if !(x > knots[0]) { return x.isNaN ? x : scores[0] }
    if x >= knots[count - 1] { return scores[count - 1] }
    // The last knot at or below x (knots[0] < x < knots[count − 1] here), by
    // halving without branches: the comparison's outcome, unpredictable from
    // one value to the next, picks the base (a conditional move), so no
    // mispredicted jump per halving.
    var low = 0
    var length = count
    while length > 1 {
      let half = length / 2
      low = knots[low + half] <= x ? low + half : low
      length -= half
    }
    let high = low + 1
    let t = (x - knots[low]) / (knots[high] - knots[low])
    return scores[low] + t * (scores[high] - scores[low])
  }

  /// Φ⁻¹(p), the standard normal distribution's quantile, for p in (0, 1):
  /// Acklam's rational approximation (relative error below 1.2e-9), then one
  /// Halley step on `erfc`, which brings it to about double precision.
  public static func normalQuantile(_ p: Double) -> Double {
    if !(p > 0 && p < 1) { shapeFailure("normalQuantile: p must be in (0, 1), got \(p)") }
    let a = [
      -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00,
    ]
    let b = [
      -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01,
    ]
    let c = [
      -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
      4.374664141464968e+00, 2.938163982698783e+00,
    ]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let tail = 0.02425
    var x: Double
    if p < tail || p > 1 - tail {
      let q = (-2 * log(p < tail ? p : 1 - p)).squareRoot()
      let num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
      let den = (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
      x = p < tail ? num / den : -num / den
    } else {
      let q = p - 0.5
      let r = q * q
      let num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
      let den = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
      x = num / den
    }
    // Halley's refinement: e = Φ(x) − p.
    let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
    let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
  }
}
