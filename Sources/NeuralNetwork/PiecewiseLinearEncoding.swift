import LinearAlgebra

/// Gorishniy, Rubachev and Babenko's piecewise-linear encoding of numeric
/// inputs ("On embeddings for numerical features in tabular deep learning",
/// 2022), with the value itself kept: an encoded input `x` with bin edges
/// `e₀ < e₁ < … < e_K` becomes K + 1 inputs, `x` and one ramp per bin,
/// `clamp((x − e_{k−1}) / (e_k − e_{k−1}), 0, 1)`: 0 below the bin, 1 above
/// it, linear inside. The first layer then learns a piecewise-linear
/// function of each input, as a tree's splits do, rather than one slope.
///
/// The edges are quantiles of the training rows (equal numbers of rows per
/// bin), fitted after standardisation; an input without edges (a category,
/// a missing indicator, a column with too few distinct values) passes
/// through as one input. Features are rows (n_x × m); the encoded matrix
/// has ``outputCount`` rows, each input's block in the input order.
public struct PiecewiseLinearEncoding: Equatable, Sendable, Codable {
  /// Per input: the bin edges (at least 2, increasing), or nil for an input passed through.
  public var edges: [[Double]?]

  public init(edges: [[Double]?]) {
    self.edges = edges
  }

  /// Edges at the quantiles `k / bins` (k = 0…bins) of each input of `x`
  /// for which `encoded` is true, repeated quantiles merged; an input with
  /// fewer than 3 distinct edges (one bin: nothing a ramp adds) gets none.
  public init<S: BLASScalar>(fitting x: Matrix<S>, encoded: [Bool], bins: Int) {
    if encoded.count != x.rows || bins < 2 || x.columns == 0 {
      shapeFailure(
        "PiecewiseLinearEncoding: fitted on X \(x.shape) with \(encoded.count) input flags and \(bins) bins; it needs a flag per row, 2 bins or more and an example"
      )
    }
    let n = x.columns
    edges = (0..<x.rows).map { i -> [Double]? in
      guard encoded[i] else { return nil }
      let sorted = (0..<n).map { Double(x[i, $0]) }.filter(\.isFinite).sorted()
      guard !sorted.isEmpty else { return nil }
      var chosen: [Double] = []
      for k in 0...bins {
        let value = sorted[Int((Double(k) / Double(bins) * Double(sorted.count - 1)).rounded())]
        if chosen.last.map({ $0 < value }) ?? true { chosen.append(value) }
      }
      return chosen.count >= 3 ? chosen : nil
    }
  }

  /// Edges chosen by the targets (Gorishniy et al.'s tree-based bins): for
  /// each input of `x` for which `encoded` is true, a regression tree on
  /// that input alone grown best split first over the targets `y` (outputs ×
  /// m: a class's one-hot row, or a number; the split that lowers the
  /// summed squared error of its leaves the most, which for one-hot rows is
  /// the Gini impurity), up to `bins` leaves of at least `minimumLeaf`
  /// examples each. The edges are the smallest value, the splits (halfway
  /// between neighbouring values) and the largest; an input no split helps
  /// gets none. So the ramps sit where the label changes, not where the rows
  /// are dense.
  public init<S: BLASScalar>(fitting x: Matrix<S>, targets y: Matrix<S>, encoded: [Bool], bins: Int, minimumLeaf: Int) {
    if encoded.count != x.rows || bins < 2 || x.columns == 0 || y.columns != x.columns || y.rows == 0
      || minimumLeaf < 1
    {
      shapeFailure(
        "PiecewiseLinearEncoding: fitted on X \(x.shape) and targets \(y.shape) with \(encoded.count) input flags, \(bins) bins and leaves of \(minimumLeaf); it needs a flag per row of X, a target column per example, 2 bins or more and leaves of 1 or more"
      )
    }
    let n = x.columns
    let outputs = y.rows
    edges = (0..<x.rows).map { i -> [Double]? in
      guard encoded[i] else { return nil }
      let order = (0..<n).filter { Double(x[i, $0]).isFinite }.sorted { x[i, $0] < x[i, $1] }
      guard let first = order.first, let last = order.last else { return nil }
      let values = order.map { Double(x[i, $0]) }
      // sums[o * (count + 1) + k]: output o summed over the first k examples in order.
      let count = order.count
      var sums = [Double](repeating: 0, count: outputs * (count + 1))
      for o in 0..<outputs {
        let base = o * (count + 1)
        for (k, j) in order.enumerated() { sums[base + k + 1] = sums[base + k] + Double(y[o, j]) }
      }
      func score(_ from: Int, _ to: Int) -> Double {
        var total = 0.0
        for o in 0..<outputs {
          let s = sums[o * (count + 1) + to] - sums[o * (count + 1) + from]
          total += s * s
        }
        return total / Double(to - from)
      }
      // The best split of the examples from..<to: (gain, the first example on the right).
      func bestSplit(_ from: Int, _ to: Int) -> (gain: Double, at: Int)? {
        guard to - from >= 2 * minimumLeaf else { return nil }
        let whole = score(from, to)
        var best: (gain: Double, at: Int)?
        for at in (from + minimumLeaf)...(to - minimumLeaf) where values[at - 1] < values[at] {
          let gain = score(from, at) + score(at, to) - whole
          if gain > (best?.gain ?? 1e-12 * Swift.max(whole, 1)) { best = (gain, at) }
        }
        return best
      }
      var leaves: [(from: Int, to: Int, split: (gain: Double, at: Int)?)] = [(0, count, bestSplit(0, count))]
      var splits: [Double] = []
      while leaves.count < bins {
        guard
          let k = leaves.indices.filter({ leaves[$0].split != nil }).max(by: {
            leaves[$0].split!.gain < leaves[$1].split!.gain
          })
        else { break }
        let (from, to, split) = leaves[k]
        let at = split!.at
        // Halfway, to Float precision (as an exported model keeps it).
        splits.append(Double(Float((values[at - 1] + values[at]) / 2)))
        leaves[k] = (from, at, bestSplit(from, at))
        leaves.append((at, to, bestSplit(at, to)))
      }
      guard !splits.isEmpty else { return nil }
      let chosen = [Double(x[i, first])] + splits.sorted() + [Double(x[i, last])]
      // A split halfway between two Floats can round onto either; keep the edges increasing.
      var increasing: [Double] = []
      for e in chosen where increasing.last.map({ $0 < e }) ?? true { increasing.append(e) }
      return increasing.count >= 3 ? increasing : nil
    }
  }

  /// The inputs it encodes (n_x).
  public var inputCount: Int { edges.count }

  /// The encoded inputs: K + 1 for an input with K bins, 1 for one passed through.
  public var outputCount: Int { edges.reduce(0) { total, e in total + (e?.count ?? 1) } }

  /// Where each input's block starts among the encoded inputs.
  public var blockStarts: [Int] {
    var starts: [Int] = []
    var offset = 0
    for e in edges {
      starts.append(offset)
      offset += e?.count ?? 1
    }
    return starts
  }

  /// What is wrong with an encoding read from a file (nil when nothing is):
  /// every list of edges has at least 2, finite and increasing.
  public var problem: String? {
    for (i, e) in edges.enumerated() {
      guard let e else { continue }
      if e.count < 2 { return "input \(i + 1) has \(e.count) bin edges (at least 2)" }
      if !e.allSatisfy(\.isFinite) { return "an edge of input \(i + 1) is not finite" }
      if zip(e, e.dropFirst()).contains(where: { !($0 < $1) }) { return "the edges of input \(i + 1) do not increase" }
    }
    return nil
  }

  /// `x` (``inputCount`` × m) encoded (``outputCount`` × m).
  public func encode<S: BLASScalar>(_ x: Matrix<S>) -> Matrix<S> {
    var out = Matrix<S>.zeros(outputCount, x.columns)
    encode(x, into: &out)
    return out
  }

  /// ``encode(_:)`` into `out` (``outputCount`` × m), every element written.
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func encode<S: BLASScalar>(_ x: Matrix<S>, into out: inout Matrix<S>) {
    if x.rows != inputCount || out.rows != outputCount || out.columns != x.columns {
      shapeFailure(
        "PiecewiseLinearEncoding.encode: fitted on \(inputCount) inputs and \(outputCount) outputs (rows), but X is \(x.shape) and the output \(out.shape)"
      )
    }
    let n = x.rows
    let width = out.rows
    x.withUnsafeBufferPointer { p in
      out.withUnsafeMutableBufferPointer { q in
        for j in 0..<x.columns {
          var r = j * width
          for i in 0..<n {
            let v = p[j * n + i]
            q[r] = v
            r += 1
            guard let e = edges[i] else { continue }
            let value = Double(v)
            for k in 1..<e.count {
              let t = (value - e[k - 1]) / (e[k] - e[k - 1])
              q[r] = S(t < 0 ? 0 : t > 1 ? 1 : t)
              r += 1
            }
          }
        }
      }
    }
  }
}

/// Examples encoded as they are read (``PiecewiseLinearEncoding``): the
/// base's features become the encoding's outputs.
public struct PiecewiseLinearExamples<Base: ExampleSource>: ExampleSource {
  public let base: Base
  public let encoding: PiecewiseLinearEncoding

  public init(_ base: Base, encoding: PiecewiseLinearEncoding) {
    if encoding.inputCount != base.featureCount {
      shapeFailure(
        "PiecewiseLinearExamples: the encoding has \(encoding.inputCount) inputs, the examples \(base.featureCount)")
    }
    self.base = base
    self.encoding = encoding
  }

  public var featureCount: Int { encoding.outputCount }
  public var exampleCount: Int { base.exampleCount }

  /// (The base's examples go through a temporary of their own width, then
  /// are encoded into `x`, the trainer's buffer.)
  public func gatherExamples(_ indices: ArraySlice<Int>, into x: inout Matrix<Base.Scalar>) {
    var raw = Matrix<Base.Scalar>.zeros(base.featureCount, indices.count)
    base.gatherExamples(indices, into: &raw)
    encoding.encode(raw, into: &x)
  }

  public var problem: String? { base.problem }
}
