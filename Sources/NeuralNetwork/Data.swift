import LinearAlgebra

/// Per-feature standardisation `(x − mean) / std`, fitted on training data and
/// applied unchanged to any other data (test, production).
///
/// Features are rows (n_x × m). A feature that is constant in the training
/// data has std 0; it is divided by 1 instead, so it becomes 0, not NaN.
public struct Standardizer: Equatable, Sendable, Codable {
  public var means: [Double]
  public var standardDeviations: [Double]
  /// Maps applied to the features before they are standardised (nil for a
  /// feature taken as it is, or for all of them): ``means`` and
  /// ``standardDeviations`` are then the mapped values' statistics.
  public var quantileMaps: [QuantileMap?]?

  public init(means: [Double], standardDeviations: [Double], quantileMaps: [QuantileMap?]? = nil) {
    if let quantileMaps, quantileMaps.count != means.count {
      shapeFailure("Standardizer: \(quantileMaps.count) quantile maps for \(means.count) features")
    }
    self.means = means
    self.standardDeviations = standardDeviations
    self.quantileMaps = quantileMaps
  }

  /// Fits means and (population) standard deviations of each row of `x`.
  public init<S: BLASScalar>(fitting x: Matrix<S>) {
    if x.columns == 0 { shapeFailure("Standardizer: cannot fit on no examples (\(x.shape))") }
    let m = Double(x.columns)
    let n = x.rows
    var means = [Double](repeating: 0, count: n)
    var sds = [Double](repeating: 0, count: n)
    // Two passes down the columns (contiguous), each feature's sum in Double.
    x.withUnsafeBufferPointer { p in
      means.withUnsafeMutableBufferPointer { mean in
        var k = 0
        while k < p.count {
          for i in 0..<n { mean[i] += Double(p[k + i]) }
          k += n
        }
        for i in 0..<n { mean[i] /= m }
        sds.withUnsafeMutableBufferPointer { v in
          var k = 0
          while k < p.count {
            for i in 0..<n {
              let d = Double(p[k + i]) - mean[i]
              v[i] += d * d
            }
            k += n
          }
          for i in 0..<n { v[i] = (v[i] / m).squareRoot() }
        }
      }
    }
    self.init(means: means, standardDeviations: sds)
  }

  /// What each feature is divided by: its standard deviation, or 1 for a
  /// constant feature (standard deviation 0), which then only loses its mean.
  public var divisors: [Double] { standardDeviations.map { $0 > 0 ? $0 : 1 } }

  /// `x` standardised with the fitted statistics; traps unless x has as many rows as were fitted.
  public func transform<S: BLASScalar>(_ x: Matrix<S>) -> Matrix<S> {
    var out = x
    transform(inPlace: &out)
    return out
  }

  /// ``transform(_:)`` in place: one pass down each column, in Double.
  /// (Specialised with a run-time dispatch, so that a caller generic in the
  /// scalar, an example source read through an existential, runs the
  /// specialised loop: unspecialised, each element took generic conversions.)
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func transform<S: BLASScalar>(inPlace x: inout Matrix<S>) {
    if x.rows != means.count {
      shapeFailure("Standardizer.transform: fitted on \(means.count) features (rows) but X is \(x.shape)")
    }
    let n = x.rows
    let sds = divisors
    means.withUnsafeBufferPointer { mean in
      sds.withUnsafeBufferPointer { sd in
        x.withUnsafeMutableBufferPointer { p in
          var k = 0
          if let maps = quantileMaps, n > 0 {
            // Mapped and standardised in the same pass (batches of streamed
            // rows come through here), one feature at a time so that each
            // map's arrays are reached once, not once an element.
            let m = p.count / n
            for i in 0..<n {
              let (mu, divisor) = (mean[i], sd[i])
              guard let map = maps[i] else {
                for j in 0..<m { p[j * n + i] = S((Double(p[j * n + i]) - mu) / divisor) }
                continue
              }
              map.withBuffers { knots, scores in
                for j in 0..<m {
                  p[j * n + i] = S((QuantileMap.map(Double(p[j * n + i]), knots, scores) - mu) / divisor)
                }
              }
            }
            return
          }
          while k < p.count {
            for i in 0..<n { p[k + i] = S((Double(p[k + i]) - mean[i]) / sd[i]) }
            k += n
          }
        }
      }
    }
  }

  /// This standardizer with `maps` applied first: the features of `x` (the
  /// training examples) mapped, then their means and standard deviations.
  public static func fitting<S: BLASScalar>(_ x: Matrix<S>, quantileMaps maps: [QuantileMap?]) -> Standardizer {
    var mapped = x
    Standardizer(
      means: [Double](repeating: 0, count: x.rows), standardDeviations: [Double](repeating: 1, count: x.rows),
      quantileMaps: maps
    ).transform(inPlace: &mapped)
    var fitted = Standardizer(fitting: mapped)
    fitted.quantileMaps = maps
    return fitted
  }

  /// Means and standard deviations gathered a batch of examples at a time
  /// (batches merged as Chan, Golub and LeVeque's pairwise update does), for
  /// data that is never in memory at once; ``standardizer`` gives the result.
  public struct Accumulator: Sendable {
    public private(set) var count = 0
    var means: [Double]
    var squares: [Double]  // Σ (x − mean)² per feature

    public init(features: Int) {
      means = [Double](repeating: 0, count: features)
      squares = [Double](repeating: 0, count: features)
    }

    /// Adds the examples (columns) of `x`.
    public mutating func add<S: BLASScalar>(_ x: Matrix<S>) {
      if x.rows != means.count { shapeFailure("Standardizer.Accumulator: \(means.count) features but X is \(x.shape)") }
      let m = x.columns
      guard m > 0 else { return }
      let batch = Standardizer(fitting: x)
      let total = Double(count + m)
      for i in means.indices {
        let delta = batch.means[i] - means[i]
        let batchSquares = batch.standardDeviations[i] * batch.standardDeviations[i] * Double(m)
        squares[i] += batchSquares + delta * delta * Double(count) * Double(m) / total
        means[i] += delta * Double(m) / total
      }
      count += m
    }

    /// The population means and standard deviations of everything added.
    public var standardizer: Standardizer {
      let n = Double(Swift.max(count, 1))
      return Standardizer(means: means, standardDeviations: squares.map { ($0 / n).squareRoot() })
    }
  }

  /// ``transform(_:)``, but a value that is not finite once standardised
  /// (NaN or ±∞ in `x`, or a finite value such as 1e38 that overflows the
  /// scalar type after scaling by a small standard deviation) is thrown as
  /// ``NonFiniteInputError`` instead of being passed on: a network fed NaN
  /// predicts NaN, and ReLU would even turn it into a plausible 0.
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func checkedTransform<S: BLASScalar>(_ x: Matrix<S>) throws(NonFiniteInputError) -> Matrix<S> {
    let scaled = transform(x)
    let bad = scaled.withUnsafeBufferPointer { p in p.firstIndex { !$0.isFinite } }
    if let k = bad {
      let (i, j) = (k % x.rows, k / x.rows)
      throw NonFiniteInputError(feature: i, example: j, value: Double(x[i, j]), standardized: Double(scaled[i, j]))
    }
    return scaled
  }

  /// The standardised values of `scaled` (the output of ``transform(_:)``)
  /// more than `deviations` standard deviations from the fitted mean, in
  /// column-major order: inputs this far outside the fitted data make a
  /// prediction an extrapolation.
  ///
  /// A feature with a quantile map has its values bounded once mapped; there
  /// `x` (the values as given) is measured instead, against the training
  /// range in units of a sixth of it (a normal distribution's ±3 standard
  /// deviations span six): see ``distanceOutside(_:feature:)``.
  @_specialize(exported:true,where S == Float)
  @_specialize(exported:true,where S == Double)
  public func outliers<S: BLASScalar>(in scaled: Matrix<S>, raw x: Matrix<S>, beyond deviations: Double) -> [(
    feature: Int, example: Int
  )] {
    if scaled.shape != x.shape {
      shapeFailure("Standardizer.outliers: scaled values are \(scaled.shape), the raw ones \(x.shape)")
    }
    let rows = scaled.rows
    // Per feature, which values are measured (the raw ones of a quantile-mapped
    // feature, else the scaled ones) and the bounds they must keep within.
    var measuresRaw = [Bool](repeating: false, count: rows)
    var low = [Double](repeating: -deviations, count: rows)
    var high = [Double](repeating: deviations, count: rows)
    for i in 0..<rows {
      if let allowed = rawValues(feature: i, within: deviations) {
        (measuresRaw[i], low[i], high[i]) = (true, allowed.lowerBound, allowed.upperBound)
      }
    }
    var found: [(feature: Int, example: Int)] = []
    scaled.withUnsafeBufferPointer { p in
      x.withUnsafeBufferPointer { raw in
        for j in 0..<scaled.columns {
          for i in 0..<rows {
            let v = Double(measuresRaw[i] ? raw[j * rows + i] : p[j * rows + i])
            if v < low[i] || v > high[i] { found.append((feature: i, example: j)) }
          }
        }
      }
    }
    return found
  }

  /// The values as given of quantile-mapped feature `i` no more than
  /// `deviations` sixths of its training range outside that range (those
  /// whose ``distanceOutside(_:feature:)`` is at most `deviations`); nil for
  /// a feature without a quantile map.
  public func rawValues(feature i: Int, within deviations: Double) -> ClosedRange<Double>? {
    guard let map = quantileMaps?[i], let low = map.knots.first, let high = map.knots.last else { return nil }
    let unit = Self.rangeUnit(low, high)
    return (low - deviations * unit)...(high + deviations * unit)
  }

  /// A sixth of the training range `low`…`high` (for a single value: its
  /// magnitude, at least 1).
  static func rangeUnit(_ low: Double, _ high: Double) -> Double {
    high > low ? (high - low) / 6 : Swift.max(Swift.abs(low), 1)
  }

  /// How far `value` of a feature with a quantile map lies outside the
  /// training values (the map's first and last knots), in sixths of their
  /// range; 0 inside it.
  public func distanceOutside(_ value: Double, feature i: Int) -> Double {
    guard let map = quantileMaps?[i], let low = map.knots.first, let high = map.knots.last else { return 0 }
    let unit = Self.rangeUnit(low, high)
    if value < low { return (low - value) / unit }
    if value > high { return (value - high) / unit }
    return 0
  }
}

/// A feature value that is not a finite number once standardised, thrown by
/// ``Standardizer/checkedTransform(_:)``.
public struct NonFiniteInputError: Error, Equatable, CustomStringConvertible {
  /// Row of `x` (the feature) and column (the example).
  public var feature: Int
  public var example: Int
  /// The value as given, and what standardising made of it.
  public var value: Double
  public var standardized: Double

  public init(feature: Int, example: Int, value: Double, standardized: Double) {
    self.feature = feature
    self.example = example
    self.value = value
    self.standardized = standardized
  }

  public var description: String {
    "feature \(feature) of example \(example): \(value) becomes \(standardized) once standardised"
  }
}

/// Splitting and encoding labelled data (examples are columns).
public enum DataSplit {
  /// scikit-learn's `class_weight="balanced"`: class k weighs
  /// m / (K · count_k), so every class carries the same total weight and the
  /// mean weight over the examples is 1. A class with no examples gets 0.
  public static func balancedClassWeights(classIndices: [Int], classCount: Int) -> [Double] {
    var counts = [Int](repeating: 0, count: classCount)
    for c in classIndices {
      if !(0..<classCount).contains(c) { shapeFailure("balancedClassWeights: class \(c) is outside 0..<\(classCount)") }
      counts[c] += 1
    }
    let m = Double(classIndices.count)
    return counts.map { $0 == 0 ? 0 : m / (Double(classCount) * Double($0)) }
  }

  /// Per-example weights (1 × m) from per-class weights: example j weighs
  /// `classWeights[classIndices[j]]`. Pass them as `weights:` to training or
  /// a loss.
  public static func exampleWeights<S: BLASScalar>(classIndices: [Int], classWeights: [Double]) -> Matrix<S> {
    Matrix(rows: 1, columns: classIndices.count) { _, j in
      let c = classIndices[j]
      if !classWeights.indices.contains(c) {
        shapeFailure("exampleWeights: class \(c) has no weight (\(classWeights.count) class weights)")
      }
      return S(classWeights[c])
    }
  }

  /// Column indices for a seeded train/test split.
  ///
  /// With `stratifyBy` labels, each class is split separately in the same
  /// proportion, so both parts keep the class balance: each class gives
  /// `fraction · its count` examples to the test part (at least one when the
  /// class has two or more), rounded so that the test part holds
  /// `round(fraction · count)` in all. Traps unless 0 < fraction < 1.
  public static func trainTestIndices(
    count: Int, testFraction: Double, seed: UInt64, stratifyBy labels: [Int]? = nil
  ) -> (train: [Int], test: [Int]) {
    if !(testFraction > 0 && testFraction < 1) {
      shapeFailure("trainTestIndices: testFraction must be in (0, 1), got \(testFraction)")
    }
    var g = Xoshiro256StarStar(seed: seed)
    var groups: [[Int]]
    if let labels {
      if labels.count != count { shapeFailure("trainTestIndices: \(labels.count) labels for \(count) examples") }
      var byClass: [Int: [Int]] = [:]
      for (i, c) in labels.enumerated() { byClass[c, default: []].append(i) }
      groups = byClass.keys.sorted().map { byClass[$0]! }
    } else {
      groups = [Array(0..<count)]
    }
    // Test counts per group by largest remainders, so that they add up to
    // round(fraction · count) overall; every group of two or more keeps at
    // least one example on each side.
    let total = Int((testFraction * Double(count)).rounded())
    let exact = groups.map { testFraction * Double($0.count) }
    var counts = exact.map { Int($0.rounded(.down)) }
    let remainder = groups.indices.map { exact[$0] - Double(counts[$0]) }
    let byRemainder = groups.indices.sorted { (remainder[$0], $1) > (remainder[$1], $0) }  // ties: lower index first
    var missing = total - counts.reduce(0, +)
    for k in byRemainder where missing > 0 {
      counts[k] += 1
      missing -= 1
    }
    var train: [Int] = []
    var test: [Int] = []
    for (k, var group) in groups.enumerated() {
      g.shuffle(&group)
      var nTest = counts[k]
      if group.count >= 2 { nTest = Swift.min(Swift.max(nTest, 1), group.count - 1) }
      test += group[..<nTest]
      train += group[nTest...]
    }
    return (train.sorted(), test.sorted())
  }

  /// The columns `indices` of `x`, in that order.
  public static func columns<S>(_ x: Matrix<S>, _ indices: [Int]) -> Matrix<S> {
    Matrix(rows: x.rows, columns: indices.count) { i, j in x[i, indices[j]] }
  }

  /// One-hot labels: class c of example j becomes a 1 at row c of column j.
  /// Traps for a class outside `0..<classCount`.
  public static func oneHot<S: BLASScalar>(_ classes: [Int], classCount: Int) -> Matrix<S> {
    var y = Matrix<S>.zeros(classCount, classes.count)
    for (j, c) in classes.enumerated() {
      if c < 0 || c >= classCount { shapeFailure("oneHot: class \(c) of example \(j) is outside 0..<\(classCount)") }
      y[c, j] = 1
    }
    return y
  }
}
