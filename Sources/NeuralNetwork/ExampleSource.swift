import LinearAlgebra

/// Examples that training reads by index, a batch at a time: a matrix in
/// memory, or a file mapped into memory (``NPYExamples``) of which only the
/// pages of the examples asked for are read.
public protocol ExampleSource<Scalar> {
  associatedtype Scalar: BLASScalar
  /// n_x, the inputs of one example.
  var featureCount: Int { get }
  /// m, the number of examples.
  var exampleCount: Int { get }
  /// Copies examples `indices` (in that order) into the columns of `x`,
  /// which is `featureCount × indices.count`.
  func gatherExamples(_ indices: ArraySlice<Int>, into x: inout Matrix<Scalar>)
  /// Why the examples read so far cannot be trusted (a file cut short while
  /// it was read), or nil. The trainer asks after every batch and stops.
  var problem: String? { get }
}

extension ExampleSource {
  public var problem: String? { nil }
}

extension Matrix: ExampleSource {
  public var featureCount: Int { rows }
  public var exampleCount: Int { columns }

  public func gatherExamples(_ indices: ArraySlice<Int>, into x: inout Matrix<Scalar>) {
    if x.rows != rows || x.columns != indices.count {
      shapeFailure("gatherExamples: x must be \(rows)×\(indices.count); x is \(x.shape), the examples \(shape)")
    }
    withUnsafeBufferPointer { s in
      x.withUnsafeMutableBufferPointer { t in
        let r = rows
        for (j, k) in indices.enumerated() {
          if k < 0 || k >= columns { shapeFailure("gatherExamples: example \(k) is outside 0..<\(columns)") }
          (t.baseAddress! + j &* r).update(from: s.baseAddress! + k &* r, count: r)
        }
      }
    }
  }
}

/// A `.npy` file as examples: columns of the array (or its rows, with
/// `examplesAsRows`), read from the mapped file as training asks for them.
public struct NPYExamples<Scalar: BLASScalar>: ExampleSource {
  public let array: NPYArray
  public let examplesAsRows: Bool

  public init(_ array: NPYArray, examplesAsRows: Bool = false) {
    self.array = array
    self.examplesAsRows = examplesAsRows
  }

  public var featureCount: Int { examplesAsRows ? array.columns : array.rows }
  public var exampleCount: Int { examplesAsRows ? array.rows : array.columns }

  public func gatherExamples(_ indices: ArraySlice<Int>, into x: inout Matrix<Scalar>) {
    array.gatherColumns(indices, transposed: examplesAsRows, into: &x)
  }

  public var problem: String? { array.problem }
}

/// Some examples of another source, in a given order: example j is example
/// `indices[j]` of `base` (a split of a data set, say).
public struct ExampleSubset<Base: ExampleSource>: ExampleSource {
  public let base: Base
  public let indices: [Int]

  public init(_ base: Base, indices: [Int]) {
    if let bad = indices.first(where: { $0 < 0 || $0 >= base.exampleCount }) {
      shapeFailure("ExampleSubset: example \(bad) is outside 0..<\(base.exampleCount)")
    }
    self.base = base
    self.indices = indices
  }

  public var featureCount: Int { base.featureCount }
  public var exampleCount: Int { indices.count }

  public func gatherExamples(_ positions: ArraySlice<Int>, into x: inout Matrix<Base.Scalar>) {
    base.gatherExamples(positions.map { indices[$0] }[...], into: &x)
  }

  public var problem: String? { base.problem }
}

/// Examples standardised as they are read: `(x − mean) / sd` feature by feature.
public struct StandardizedExamples<Base: ExampleSource>: ExampleSource {
  public let base: Base
  public let standardizer: Standardizer

  public init(_ base: Base, standardizer: Standardizer) {
    if standardizer.means.count != base.featureCount {
      shapeFailure(
        "StandardizedExamples: the standardizer has \(standardizer.means.count) features, the examples \(base.featureCount)"
      )
    }
    self.base = base
    self.standardizer = standardizer
  }

  public var featureCount: Int { base.featureCount }
  public var exampleCount: Int { base.exampleCount }

  public func gatherExamples(_ indices: ArraySlice<Int>, into x: inout Matrix<Base.Scalar>) {
    base.gatherExamples(indices, into: &x)
    standardizer.transform(inPlace: &x)
  }

  public var problem: String? { base.problem }
}

/// Examples with their labels (n_L × m, in memory) and optional per-example
/// weights (1 × m): what ``Trainer/fit(_:validation:group:progress:checkpoint:)``
/// trains on and evaluates, whatever the examples' source.
public struct LabelledExamples<Scalar: BLASScalar> {
  /// The examples (a matrix, a mapped file, a subset, …).
  public var source: any ExampleSource<Scalar>
  public var labels: Matrix<Scalar>
  public var weights: Matrix<Scalar>?

  /// Traps unless `labels` has one column per example and `weights` is 1 × m.
  public init(_ source: some ExampleSource<Scalar>, labels: Matrix<Scalar>, weights: Matrix<Scalar>? = nil) {
    if labels.columns != source.exampleCount {
      shapeFailure(
        "LabelledExamples: one label column per example: labels are \(labels.shape) for \(source.exampleCount) examples"
      )
    }
    if let weights, weights.rows != 1 || weights.columns != source.exampleCount {
      shapeFailure(
        "LabelledExamples: weights must be 1×\(source.exampleCount), one per example; weights are \(weights.shape)")
    }
    self.source = source
    self.labels = labels
    self.weights = weights
  }

  /// The examples as a matrix, when that is what they are (nil for another source).
  public var matrix: Matrix<Scalar>? { source as? Matrix<Scalar> }
}

/// The processes a data-parallel trainer runs on: their number, this one's
/// rank, and the two collective operations it needs. ``SingleProcess`` is
/// one process; the Distributed package's `MPICommunicator` is many.
public protocol ProcessGroup {
  /// This process, 0..<size.
  var rank: Int { get }
  /// The number of processes.
  var size: Int { get }
  /// Every process calls this with a buffer of the same count; each ends up
  /// with the elementwise sum over all processes, the same on every one.
  func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
  func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
  /// Every process calls this with a buffer of the same size; each ends up
  /// with the bytes of process `root`.
  func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int)
}

extension ProcessGroup {
  /// ``allreduceSum(_:)-(UnsafeMutableBufferPointer<Float>)`` for either scalar.
  public func allreduceSum<S: BLASScalar>(scalars buffer: UnsafeMutableBufferPointer<S>) {
    if S.self == Float.self {
      allreduceSum(UnsafeMutableRawBufferPointer(buffer).bindMemory(to: Float.self))
    } else {
      allreduceSum(UnsafeMutableRawBufferPointer(buffer).bindMemory(to: Double.self))
    }
  }
}

/// One process: the collective operations leave the buffers as they are.
public struct SingleProcess: ProcessGroup, Sendable {
  public init() {}
  public var rank: Int { 0 }
  public var size: Int { 1 }
  public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
  public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
  public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {}
}

// The pieces of a training step that a group of processes adds to the loop
// of ``Trainer/fit(_:validation:group:progress:checkpoint:)``.
extension Trainer {
  /// Sets this process's parameters to process 0's (a collective call).
  mutating func broadcastParameters(_ group: any ProcessGroup) {
    var buffer = [Scalar](repeating: 0, count: network.parameterCount)
    buffer.withUnsafeMutableBufferPointer { p in
      network.packParameters(into: p)
      group.broadcast(UnsafeMutableRawBufferPointer(p), from: 0)
    }
    buffer.withUnsafeBufferPointer { network.unpackParameters(from: $0) }
  }

  /// Whether every process of `group` holds exactly process 0's parameters,
  /// bit for bit (a collective call: one broadcast of the parameters, one allreduce).
  public func parametersAgree(_ group: any ProcessGroup) -> Bool {
    let count = network.parameterCount
    var mine = [Scalar](repeating: 0, count: count)
    mine.withUnsafeMutableBufferPointer { network.packParameters(into: $0) }
    var first = mine
    first.withUnsafeMutableBytes { group.broadcast($0, from: 0) }
    let same = mine.withUnsafeBytes { a in first.withUnsafeBytes { b in a.elementsEqual(b) } }
    var differing = [same ? 0.0 : 1.0]
    differing.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    return differing[0] == 0
  }

  /// One step on this process's part `indices` of a batch of `globalCount`
  /// examples, gathered from the source; returns the batch's cost (with the
  /// L2 term). On one process, the step of ``step(x:y:weights:)``.
  mutating func step(
    _ train: LabelledExamples<Scalar>, _ indices: ArraySlice<Int>, globalCount: Int, group: any ProcessGroup
  ) -> Scalar {
    let parallel = group.size > 1
    let mr = indices.count
    if mr == 0 {
      // No example of this batch here: nothing to add to the sum (and its
      // dropout step counted, as the other processes count theirs).
      if options.keepProbability < 1 { dropoutSteps &+= 1 }
      preparePacked()
      for k in packed.indices { packed[k] = 0 }
      return reduceAndUpdate(globalCount: globalCount, group: group)
    }
    // Padded to a multiple of q columns with zero-weight examples when
    // several processes share a batch, so that few widths (and buffers) occur.
    let q = parallel ? Swift.max(8, globalCount / (16 * group.size)) : 1
    let width = (mr + q - 1) / q * q
    var x = batchX[width] ?? .zeros(train.source.featureCount, width)
    var y = batchY[width] ?? .zeros(train.labels.rows, width)
    batchX[width] = nil
    batchY[width] = nil
    if width == mr {
      train.source.gatherExamples(indices, into: &x)
    } else {
      var part = Matrix<Scalar>.zeros(train.source.featureCount, mr)
      train.source.gatherExamples(indices, into: &part)
      x.withUnsafeMutableBufferPointer { t in
        part.withUnsafeBufferPointer { s in
          t.baseAddress!.update(from: s.baseAddress!, count: s.count)
          (t.baseAddress! + s.count).update(repeating: 0, count: t.count - s.count)
        }
      }
    }
    Self.gather(train.labels, indices, into: &y)
    var w: Matrix<Scalar>? = nil
    if train.weights != nil || width != mr {
      var buffer = batchW[width] ?? .zeros(1, width)
      batchW[width] = nil
      buffer.withUnsafeMutableBufferPointer { t in
        if let all = train.weights?.elements {
          for (j, k) in indices.enumerated() { t[j] = all[k] }
        } else {
          for j in 0..<mr { t[j] = 1 }
        }
        for j in mr..<width { t[j] = 0 }
      }
      w = buffer
    }
    let cost: Scalar
    dropoutExamples = indices
    defer { dropoutExamples = nil }
    if parallel {
      computeAndPack(x: x, y: y, weights: w, scale: Scalar(width) / Scalar(globalCount))
      if train.source.problem != nil { packed[network.parameterCount + 1] = 1 }
      cost = reduceAndUpdate(globalCount: globalCount, group: group)
    } else {
      cost = step(x: x, y: y, weights: w)
    }
    batchX[width] = x
    batchY[width] = y
    if let w { batchW[width] = w }
    return cost
  }

  mutating func preparePacked() {
    // The gradients, the cost, and a flag: this process could not read its examples.
    if packed.count != network.parameterCount + 2 {
      packed = [Scalar](repeating: 0, count: network.parameterCount + 2)
      summed = Gradients(zerosLike: network)
    }
  }

  /// The local gradients and cost (without the L2 term), packed times
  /// `scale` into the buffer of the allreduce.
  mutating func computeAndPack(x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>?, scale: Scalar) {
    preparePacked()
    let cost = forwardBackward(x: x, y: y, weights: weights, training: true, l2: 0)
    let count = network.parameterCount
    let gradients = gradientBuffers
    packed.withUnsafeMutableBufferPointer { p in
      gradients.pack(into: UnsafeMutableBufferPointer(rebasing: p[0..<count]), scale: scale)
      p[count] = scale * cost
      p[count + 1] = 0
    }
  }

  /// The allreduce of the packed buffer, the L2 term, and the update; the batch's cost.
  mutating func reduceAndUpdate(globalCount: Int, group: any ProcessGroup) -> Scalar {
    let count = network.parameterCount
    let started = ContinuousClock.now
    packed.withUnsafeMutableBufferPointer { group.allreduceSum(scalars: $0) }
    allreduceTime += ContinuousClock.now - started
    allreduceCalls += 1
    var summed = self.summed!
    self.summed = nil  // held once while it is written
    packed.withUnsafeBufferPointer { summed.unpack(from: UnsafeBufferPointer(rebasing: $0[0..<count])) }
    var cost = packed[count]
    if options.l2 > 0 {
      for l in 0..<network.depth {
        Losses.addL2Gradient(
          weights: network.layers[l].weights, lambda: options.l2, examples: globalCount, to: &summed.weights[l])
      }
      cost += Losses.l2Penalty(of: network, lambda: options.l2, examples: globalCount)
    }
    update(with: summed)
    self.summed = summed
    return cost
  }

  /// After a step on several processes: whether any of them could not read its examples.
  var anotherProcessLostItsExamples: Bool { packed.count == network.parameterCount + 2 && packed.last! > 0 }

  static func gather(_ labels: Matrix<Scalar>, _ indices: ArraySlice<Int>, into y: inout Matrix<Scalar>) {
    let r = labels.rows
    labels.withUnsafeBufferPointer { s in
      y.withUnsafeMutableBufferPointer { t in
        for (j, k) in indices.enumerated() {
          (t.baseAddress! + j * r).update(from: s.baseAddress! + k * r, count: r)
        }
        (t.baseAddress! + indices.count * r).update(repeating: 0, count: t.count - indices.count * r)
      }
    }
  }
}
