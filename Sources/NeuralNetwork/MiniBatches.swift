import LinearAlgebra

/// The mini-batches of one epoch: consecutive blocks of `batchSize` columns
/// (examples) of x and y in a given order, the last block smaller when m is
/// not a multiple of the batch size (the course's `random_mini_batches`).
///
///     var g = Xoshiro256StarStar(seed: 1)
///     for batch in MiniBatches(x: x, y: y, batchSize: 64, order: g.permutation(x.columns)) {
///       let grads = network.gradients(x: batch.x.copy(), y: batch.y.copy())
///       ...
///     }
///
/// Each batch is a pair of `MatrixColumns` views: no copy. Without an order
/// the views are of `x` and `y` themselves; with one, the columns are gathered
/// once, in that order, into ``orderedX`` and ``orderedY`` (one copy of the
/// data per epoch), and the batches are views of those. The trainer's
/// mini-batch epoch is exactly this, with `order` drawn from its seeded
/// generator by `RandomNumberGenerator.permutation(_:)`.
public struct MiniBatches<Scalar: BLASScalar>: RandomAccessCollection, Sendable {
  /// x with its columns in batch order (n_x × m).
  public let orderedX: Matrix<Scalar>
  /// y with its columns in batch order (n_L × m).
  public let orderedY: Matrix<Scalar>
  /// Examples per batch (the last batch may have fewer).
  public let batchSize: Int

  /// The batches of `x` (n_x × m) and `y` (n_L × m) taken in `order`, a
  /// permutation of `0..<m` (nil: as stored, no copy).
  ///
  /// Traps unless x and y have the same number of columns, `batchSize ≥ 1`
  /// and `order` is a permutation of `0..<m`.
  public init(x: Matrix<Scalar>, y: Matrix<Scalar>, batchSize: Int, order: [Int]? = nil) {
    if x.columns != y.columns {
      shapeFailure(
        "MiniBatches: x and y need one column per example each; x is \(x.shape), y is \(y.shape)")
    }
    if let order {
      var seen = [Bool](repeating: false, count: x.columns)
      for k in order where k >= 0 && k < seen.count { seen[k] = true }
      if order.count != x.columns || seen.contains(false) {
        shapeFailure("MiniBatches: order must be a permutation of 0..<\(x.columns), got \(order.count) indices")
      }
      var px = Matrix<Scalar>.zeros(x.rows, x.columns)
      var py = Matrix<Scalar>.zeros(y.rows, y.columns)
      Self.gatherColumns(of: x, order: order, into: &px)
      Self.gatherColumns(of: y, order: order, into: &py)
      self.init(orderedX: px, orderedY: py, batchSize: batchSize)
    } else {
      self.init(orderedX: x, orderedY: y, batchSize: batchSize)
    }
  }

  /// The batches of `x` and `y` in an order drawn from `generator` (one
  /// Fisher–Yates permutation of `0..<m`).
  public init(
    x: Matrix<Scalar>, y: Matrix<Scalar>, batchSize: Int, shuffledBy generator: inout some RandomNumberGenerator
  ) {
    self.init(x: x, y: y, batchSize: batchSize, order: generator.permutation(x.columns))
  }

  /// Batches of data already in batch order (no copy).
  public init(orderedX: Matrix<Scalar>, orderedY: Matrix<Scalar>, batchSize: Int) {
    if batchSize < 1 { shapeFailure("MiniBatches: the batch size must be ≥ 1, got \(batchSize)") }
    if orderedX.columns != orderedY.columns {
      shapeFailure(
        "MiniBatches: x and y need one column per example each; x is \(orderedX.shape), y is \(orderedY.shape)")
    }
    self.orderedX = orderedX
    self.orderedY = orderedY
    self.batchSize = batchSize
  }

  /// Writes column `order[j]` of `source` into column j of `target` (same
  /// rows, `order.count` columns); allocates nothing.
  public static func gatherColumns(of source: Matrix<Scalar>, order: [Int], into target: inout Matrix<Scalar>) {
    if target.rows != source.rows || target.columns != order.count {
      shapeFailure(
        "MiniBatches.gatherColumns: the target must be \(source.rows)×\(order.count); source is \(source.shape), target \(target.shape)"
      )
    }
    let r = source.rows
    let m = source.columns
    source.withUnsafeBufferPointer { s in
      target.withUnsafeMutableBufferPointer { t in
        for (j, k) in order.enumerated() {
          if k < 0 || k >= m { shapeFailure("MiniBatches.gatherColumns: column \(k) is outside 0..<\(m)") }
          for i in 0..<r { t[j &* r &+ i] = s[k &* r &+ i] }
        }
      }
    }
  }

  /// The number of examples, m.
  public var examples: Int { orderedX.columns }

  public var startIndex: Int { 0 }
  /// ⌈m / batchSize⌉.
  public var endIndex: Int { (examples + batchSize - 1) / batchSize }

  /// The columns of batch `i` in x and y, as views.
  public subscript(i: Int) -> (x: MatrixColumns<Scalar>, y: MatrixColumns<Scalar>) {
    let range = columns(of: i)
    return (orderedX.columnRange(range), orderedY.columnRange(range))
  }

  /// The columns of ``orderedX`` that batch `i` covers.
  public func columns(of i: Int) -> Range<Int> {
    if i < 0 || i >= endIndex { shapeFailure("MiniBatches: batch \(i) is outside 0..<\(endIndex)") }
    return (i * batchSize)..<Swift.min((i + 1) * batchSize, examples)
  }
}
