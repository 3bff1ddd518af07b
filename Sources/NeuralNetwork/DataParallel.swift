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
}

/// Examples with their labels (n_L × m, in memory) and optional weights (1 × m).
public struct LabelledExamples<Source: ExampleSource> {
  public var source: Source
  public var labels: Matrix<Source.Scalar>
  public var weights: Matrix<Source.Scalar>?

  public init(_ source: Source, labels: Matrix<Source.Scalar>, weights: Matrix<Source.Scalar>? = nil) {
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

/// Data-parallel training: every process of a ``ProcessGroup`` holds the same
/// network, computes the gradients of its own examples, and all of them
/// apply the same update with the gradients summed over the processes.
///
/// - Process r owns the training examples i with i ≡ r (mod size) and reads
///   only those from its ``ExampleSource``.
/// - The parameters start as process 0's (broadcast once).
/// - Each step packs the scaled gradients and the scaled cost into one
///   buffer and sums it over the processes in ONE ``ProcessGroup/allreduceSum(_:)-(UnsafeMutableBufferPointer<Float>)``
///   call: with the global batch's M_b examples, of which m_r are here, the
///   scale is m_r / M_b, so the sum is the gradient of the global batch's mean cost.
///   The L2 term is added once after the sum.
/// - Mini-batches: each epoch's order is a permutation of all M examples
///   drawn from the seed, as ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)`` draws it; batch b is
///   positions b·B..<(b+1)·B of it, and a process's local batch is the part
///   of it that it owns. The batches are the same for any number of
///   processes; local batches are padded with zero-weight examples to a
///   multiple of a few columns so that their buffers are reused.
/// - Validation examples are shared out the same way; their cost and
///   accuracy are summed over the processes, and process 0's decision to
///   stop (early stopping, its progress callback) is broadcast.
///
/// With one process (``SingleProcess``) this is ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)``
/// reading its examples from any source, a file larger than memory included.
public struct DataParallelTrainer {
  /// The scalar it trains in (the one blasnet trains in).
  public typealias Scalar = Float

  // Float only, not generic: so that its calls into Trainer are compiled
  // specialised here, whatever module calls it (a generic DataParallelTrainer
  // used from another module ran Trainer's unspecialised passes, 3× slower).

  /// The trainer of this process's gradients (without the L2 term, which is added after the sum).
  public private(set) var local: Trainer<Scalar>
  public let options: TrainingOptions
  public let group: any ProcessGroup
  /// Time spent in the allreduce calls, and their count.
  public private(set) var allreduceTime: Duration = .zero
  public private(set) var allreduceCalls = 0
  var generator: Xoshiro256StarStar
  var packed: [Scalar]
  var summed: Gradients<Scalar>
  var batchX: [Int: Matrix<Scalar>] = [:]
  var batchY: [Int: Matrix<Scalar>] = [:]
  var batchW: [Int: Matrix<Scalar>] = [:]

  /// The network as it is now (the same on every process).
  public var network: Network<Scalar> { local.network }

  /// Starts every process from process 0's `network` (a collective call:
  /// every process of `group` must make it).
  public init(network: Network<Scalar>, options: TrainingOptions, group: any ProcessGroup) throws(TrainingError) {
    var start = network
    var buffer = [Scalar](repeating: 0, count: network.parameterCount)
    buffer.withUnsafeMutableBufferPointer { p in
      start.packParameters(into: p)
      group.broadcast(UnsafeMutableRawBufferPointer(p), from: 0)
    }
    buffer.withUnsafeBufferPointer { start.unpackParameters(from: $0) }
    var localOptions = options
    localOptions.l2 = 0
    // Dropout masks are this process's own draws.
    localOptions.seed = options.seed &+ UInt64(group.rank)
    local = try Trainer(network: start, options: localOptions)
    self.options = options
    self.group = group
    generator = Xoshiro256StarStar(seed: options.seed)
    packed = [Scalar](repeating: 0, count: network.parameterCount + 1)
    summed = Gradients(zerosLike: network)
  }

  /// Whether every process holds exactly process 0's parameters, bit for bit
  /// (a collective call: one broadcast of the parameters, one allreduce).
  public func parametersAgree() -> Bool {
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

  /// The examples of `0..<count` that this process owns.
  public func owned(_ count: Int) -> [Int] { Array(stride(from: group.rank, to: count, by: group.size)) }

  /// Trains for ``TrainingOptions/epochs`` epochs, as ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)``
  /// does; `progress` and `checkpoint` are called on process 0 only. A
  /// collective call: every process makes it, with the same examples
  /// (each reads only its own part of them).
  public mutating func fit<T: ExampleSource, V: ExampleSource>(
    _ train: LabelledExamples<T>, validation: LabelledExamples<V>?,
    progress: ((TrainingProgress) -> TrainingControl)? = nil,
    checkpoint: ((Network<Scalar>, TrainingProgress) -> Void)? = nil
  ) throws(TrainingError) -> TrainingHistory where T.Scalar == Scalar, V.Scalar == Scalar {
    let m = train.source.exampleCount
    if train.source.featureCount != network.inputSize {
      shapeFailure(
        "DataParallelTrainer.fit: the examples have \(train.source.featureCount) features; the network takes \(network.inputSize)"
      )
    }
    if m == 0 { shapeFailure("DataParallelTrainer.fit: no training examples") }
    if options.earlyStopping != nil && validation == nil {
      throw .invalidOption("early stopping needs validation data to watch; pass validation: to fit")
    }
    var monitor = TrainingMonitor<Scalar>(options: options)
    let batch = Swift.min(options.batchSize ?? m, m)
    let mine = batch >= m ? owned(m) : []  // the full batch's local part
    var order = Array(0..<m)
    var part: [Int] = []  // this process's examples of a batch
    part.reserveCapacity(batch)
    for epoch in 1...Swift.max(options.epochs, 1) where options.epochs > 0 {
      var total = 0.0
      if batch >= m {
        total = Double(step(train, mine[...], globalCount: m, pad: false))
        try monitor.checkBatch(cost: total, epoch: epoch, batch: 1)
      } else {
        for i in order.indices { order[i] = i }
        generator.shuffle(&order)  // the permutation Trainer.fit draws
        var start = 0
        var b = 0
        while start < m {
          let end = Swift.min(start + batch, m)
          part.removeAll(keepingCapacity: true)
          for k in start..<end where order[k] % group.size == group.rank { part.append(order[k]) }
          let cost = Double(step(train, part[...], globalCount: end - start, pad: group.size > 1))
          b += 1
          try monitor.checkBatch(cost: cost, epoch: epoch, batch: b)
          total += cost * Double(end - start)
          start = end
        }
        total /= Double(m)
      }
      let measured = validation.map { evaluate($0) }
      var stop = try monitor.endEpoch(
        epoch, cost: total, network: network, validation: measured, progress: group.rank == 0 ? progress : nil,
        checkpoint: group.rank == 0 ? checkpoint : nil)
      // Every process stops when process 0 does.
      withUnsafeMutableBytes(of: &stop) { group.broadcast($0, from: 0) }
      if stop { break }
    }
    var final = network
    let history = monitor.finish(restoringInto: &final)
    if final != network { self.local = try Trainer(network: final, options: self.local.options) }
    return history
  }

  /// One step on the local part `indices` of a global batch of `globalCount`
  /// examples; returns the global batch's cost (with the L2 term).
  mutating func step<T: ExampleSource>(
    _ train: LabelledExamples<T>, _ indices: ArraySlice<Int>, globalCount: Int, pad: Bool
  ) -> Scalar where T.Scalar == Scalar {
    let mr = indices.count
    if mr == 0 {
      for k in packed.indices { packed[k] = 0 }
    } else {
      // Padded to a multiple of q columns, so that few batch sizes (and buffers) occur.
      let q = pad ? Swift.max(8, globalCount / (16 * group.size)) : 1
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
          for (j, k) in indices.enumerated() { t[j] = train.weights?.elements[k] ?? 1 }
          for j in mr..<width { t[j] = 0 }
        }
        w = buffer
      }
      computeAndPack(x: x, y: y, weights: w, scale: Scalar(width) / Scalar(globalCount))
      batchX[width] = x
      batchY[width] = y
      if let w { batchW[width] = w }
    }
    return reduceAndUpdate(globalCount: globalCount)
  }

  /// The local gradients and cost, packed times `scale` into the buffer of
  /// the allreduce (a function of its own so that it runs specialised for
  /// Float and Double whatever the example source).
  mutating func computeAndPack(x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>?, scale: Scalar) {
    let cost = local.computeGradients(x: x, y: y, weights: weights)
    let count = network.parameterCount
    let gradients = self.local.gradients
    packed.withUnsafeMutableBufferPointer { p in
      gradients.pack(into: UnsafeMutableBufferPointer(rebasing: p[0..<count]), scale: scale)
      p[count] = scale * cost
    }
  }

  /// The allreduce of the packed buffer, the L2 term, and the update; the global batch's cost.
  mutating func reduceAndUpdate(globalCount: Int) -> Scalar {
    let count = network.parameterCount
    let group = self.group
    let started = ContinuousClock.now
    packed.withUnsafeMutableBufferPointer { group.allreduceSum(scalars: $0) }
    allreduceTime += ContinuousClock.now - started
    allreduceCalls += 1
    packed.withUnsafeBufferPointer { summed.unpack(from: UnsafeBufferPointer(rebasing: $0[0..<count])) }
    var cost = packed[count]
    if options.l2 > 0 {
      for l in 0..<network.depth {
        Losses.addL2Gradient(
          weights: network.layers[l].weights, lambda: options.l2, examples: globalCount, to: &summed.weights[l])
      }
      cost += Losses.l2Penalty(of: network, lambda: options.l2, examples: globalCount)
    }
    self.local.update(with: summed)
    return cost
  }

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

  /// The validation cost and accuracy over all processes' parts, in chunks
  /// of at most 4096 examples.
  func evaluate<V: ExampleSource>(_ v: LabelledExamples<V>) -> (cost: Double, accuracy: Double?)
  where V.Scalar == Scalar {
    let output = network.outputActivation
    let hasAccuracy = (output == .sigmoid && network.outputSize == 1) || output == .softmax
    let mine = owned(v.source.exampleCount)
    var sums = [0.0, 0.0]  // Σ cost·m, Σ right
    var start = 0
    while start < mine.count {
      let part = mine[start..<Swift.min(start + 4096, mine.count)]
      var x = Matrix<Scalar>.zeros(v.source.featureCount, part.count)
      v.source.gatherExamples(part, into: &x)
      var y = Matrix<Scalar>.zeros(v.labels.rows, part.count)
      Self.gather(v.labels, part, into: &y)
      let w = v.weights.map { all in
        Matrix<Scalar>(rows: 1, columns: part.count) { _, j in all.elements[part[part.startIndex + j]] }
      }
      let (cost, accuracy) = local.evaluate(ValidationData(x: x, y: y, weights: w))
      sums[0] += cost * Double(part.count)
      sums[1] += (accuracy ?? 0) * Double(part.count)
      start += part.count
    }
    sums.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    let n = Double(v.source.exampleCount)
    return (sums[0] / n, hasAccuracy ? sums[1] / n : nil)
  }
}
