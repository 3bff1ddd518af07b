import LinearAlgebra

/// The forward caches and the backward gradient of every layer for one batch size m.
final class BatchBuffers<S: BLASScalar> {
  var z: Matrix<S>  // Zl, n_l × m
  var a: Matrix<S>  // Al, n_l × m (unused for an output computed from its logits)
  var dz: Matrix<S>  // dZl (and dAl before the activation backward), n_l × m
  var mask: Matrix<S>  // dropout mask scaled by 1/keep, n_l × m (empty without dropout)

  init(units: Int, m: Int, dropout: Bool) {
    z = .zeros(units, m)
    a = .zeros(units, m)
    dz = .zeros(units, m)
    mask = dropout ? .zeros(units, m) : .zeros(0, 0)
  }
}

/// Trains a network: owns it, the optimiser with its state, and a reusable workspace.
///
/// A step is the composition of the public pieces, in their allocation-free
/// `into:` forms, on buffers kept between steps:
///
///     forward   for l in 1...L: Layer.forward(A_{l-1}, z:a:)      (Layer.linear for an output
///                                                                 computed from its logits)
///     loss      Loss.outputGradient(z:a:labels:…:into:)          J and dZ_L
///               + Losses.l2Penalty(of:lambda:examples:)
///     backward  for l in L...1: Layer.parameterGradients(dZ:aPrev:dW:db:)
///                               + Losses.addL2Gradient(…)
///                               Layer.inputGradient(dZ:into:below:zPrev:mask:)   (not for l = 1:
///                               Wᵀ·dZ, the dropout mask and g'_{l-1} in one product)
///     update    optimizer.update(&network, with: gradients)
///
/// so a loop written from those pieces gives the same numbers. After the
/// first step for a batch size, a step allocates nothing (one set of buffers
/// per batch size seen, so the smaller last batch of an epoch has its own).
public struct Trainer<Scalar: BLASScalar> {
  /// The network being trained (updated in place by each step).
  public internal(set) var network: Network<Scalar>
  public let options: TrainingOptions
  /// The loss in use (``TrainingOptions/loss`` or the natural one).
  public let loss: Loss
  /// The optimiser and its state (moments, step count). Settable, e.g. to
  /// resume training from a saved state; its shapes must match the network's.
  public var optimizer: OptimizerState<Scalar>

  /// With several processes: the time spent in the allreduce calls of the
  /// last ``fit(_:validation:group:progress:checkpoint:)``, and their count.
  public internal(set) var allreduceTime: Duration = .zero
  public internal(set) var allreduceCalls = 0

  var generator: Xoshiro256StarStar
  /// Training steps taken with dropout (each draws its own masks).
  var dropoutSteps: UInt64 = 0
  /// The example (index into the training examples) of each column of the
  /// batch a step is on; nil: column j is example j.
  var dropoutExamples: ArraySlice<Int>?
  var gradientBuffers: Gradients<Scalar>
  var batchBuffers: [Int: [BatchBuffers<Scalar>]] = [:]
  /// Gathered batches (inputs, labels, weights), one per batch width.
  var batchX: [Int: Matrix<Scalar>] = [:]
  var batchY: [Int: Matrix<Scalar>] = [:]
  var batchW: [Int: Matrix<Scalar>] = [:]
  /// The gradients and the cost, packed for the allreduce of several processes.
  var packed: [Scalar] = []
  var summed: Gradients<Scalar>?

  /// A trainer for `network`; throws for options that cannot work.
  public init(network: Network<Scalar>, options: TrainingOptions = TrainingOptions()) throws(TrainingError) {
    self.loss = try options.validatedLoss(output: network.outputActivation)
    self.network = network
    self.options = options
    self.optimizer = options.optimizer.makeState(for: network)
    self.generator = Xoshiro256StarStar(seed: options.seed)
    self.gradientBuffers = Gradients(zerosLike: network)
  }

  /// The gradients of the last step (or of ``costAndGradients(x:y:)``). A
  /// copy that shares storage with the trainer's buffers: keeping it while
  /// stepping on makes the next step copy them (once) instead of writing in place.
  public var gradients: Gradients<Scalar> { gradientBuffers }

  // MARK: - Public steps

  /// One training iteration on a batch: forward, cost, backward, update.
  ///
  /// Returns the batch's cost before the update (including the L2 term).
  /// Optional per-example `weights` (1 × m) weight each example's loss and
  /// gradient (``Losses``). Traps unless `x` is n_x × m and `y` is n_L × m.
  @discardableResult
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>, Y == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>, Y == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>, Y == Matrix<Double>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>, Y == MatrixColumns<Double>)
  public mutating func step<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, weights: Matrix<Scalar>? = nil
  ) -> Scalar {
    let cost = computeGradients(x: x, y: y, weights: weights)
    update(with: gradientBuffers)
    return cost
  }

  /// The first half of ``step(x:y:weights:)``: forward (with dropout), cost
  /// and backward on a batch, leaving the gradients in ``gradients`` and the
  /// network as it is. Returns the batch's cost (including the L2 term).
  ///
  /// With ``update(with:)`` this is a step with something in between: the
  /// gradients of several processes summed, say.
  @discardableResult
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>, Y == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>, Y == MatrixColumns<Double>)
  public mutating func computeGradients<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, weights: Matrix<Scalar>? = nil
  ) -> Scalar {
    forwardBackward(x: x, y: y, weights: weights, training: true)
  }

  /// ``computeGradients(x:y:weights:)`` on matrices. (Generic only in the
  /// scalar, so that a caller in another module reaches its Float and Double
  /// specialisations.)
  @discardableResult
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func computeGradients(x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>? = nil) -> Scalar
  {
    forwardBackward(x: x, y: y, weights: weights, training: true)
  }

  /// The second half of ``step(x:y:weights:)``: one update of the network by
  /// the optimiser with `gradients` (shaped like the network's parameters).
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func update(with gradients: Gradients<Scalar>) {
    optimizer.update(&network, with: gradients)
  }

  /// The cost and the gradients `dW1, db1, …` on a batch, without updating
  /// anything and without dropout.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func costAndGradients(x: Matrix<Scalar>, y: Matrix<Scalar>) -> (
    cost: Scalar, gradients: Gradients<Scalar>
  ) {
    let cost = forwardBackward(x: x, y: y, weights: nil, training: false)
    return (cost, gradientBuffers)
  }

  /// Trains for ``TrainingOptions/epochs`` epochs on all of `x` (n_x × m)
  /// and `y` (n_L × m), with optional per-example `weights` (1 × m, e.g. from
  /// ``DataSplit/exampleWeights(classIndices:classWeights:)``; they follow
  /// their examples through the shuffling): ``fit(_:validation:group:progress:checkpoint:)``
  /// on matrices in memory.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func fit(
    x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>? = nil,
    validation: LabelledExamples<Scalar>? = nil, progress: ((TrainingProgress) -> TrainingControl)? = nil,
    checkpoint: ((Network<Scalar>, TrainingProgress) -> Void)? = nil
  ) throws(TrainingError) -> TrainingHistory {
    checkData(x: x, y: y)
    Self.checkWeights(weights, examples: x.columns, "train")
    if let v = validation?.matrix {
      checkData(x: v, y: validation!.labels, "validation")
      Self.checkWeights(validation!.weights, examples: v.columns, "validation")
    }
    return try fit(
      LabelledExamples(x, labels: y, weights: weights), validation: validation, group: SingleProcess(),
      progress: progress, checkpoint: checkpoint)
  }

  /// Trains for ``TrainingOptions/epochs`` epochs on labelled examples from
  /// any source (a matrix in memory, a mapped `.npy` file, a subset,
  /// standardised as read), on this process alone or data-parallel on the
  /// processes of `group`. This is the one training loop.
  ///
  /// With a batch size below m, each epoch is a permutation of the m
  /// examples drawn from a generator seeded with ``TrainingOptions/seed``
  /// (an example's dropout masks are drawn for it alone, from the seed, the
  /// step, the layer and the example's index), cut
  /// into batches of that size (the last one smaller). `progress` is called
  /// after every epoch; return `.stop` to end early. `checkpoint` is called
  /// with the network after every epoch whose validation cost is the best so far.
  ///
  /// With several processes (a collective call: every process makes it with
  /// the same examples and options):
  /// - the parameters start as process 0's (broadcast once);
  /// - process r owns the examples i ≡ r (mod size) of each batch and reads
  ///   only those; its gradients and cost, scaled by m_r / M_b (M_b examples in
  ///   the batch), are packed into one buffer summed over the processes in
  ///   ONE ``ProcessGroup/allreduceSum(_:)-(UnsafeMutableBufferPointer<Float>)``
  ///   per step, and the L2 term is added once after the sum; the batches are
  ///   those of one process, so the result does not depend on the count;
  /// - validation examples are shared out the same way and their sums reduced;
  ///   process 0 alone calls `progress` and `checkpoint`, and its decision
  ///   to stop is broadcast.
  ///
  /// - Throws: ``TrainingError/diverged(epoch:batch:cost:initialCost:)`` at the
  ///   first batch whose cost is not finite or exceeds 10⁴·(the first batch's
  ///   cost + 1), or after an epoch that left a parameter non-finite (unless
  ///   ``TrainingOptions/stopOnDivergence`` is false); the progress callback
  ///   never sees that epoch. ``TrainingError/invalidOption(_:)`` for early
  ///   stopping without validation data.
  ///
  /// The loop is generic in the scalar only (the sources are existentials),
  /// so that it runs compiled for Float or Double whatever module calls it: a
  /// loop generic in the source ran unspecialised from other modules, 5× slower.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func fit(
    _ train: LabelledExamples<Scalar>, validation: LabelledExamples<Scalar>? = nil,
    group: any ProcessGroup = SingleProcess(), progress: ((TrainingProgress) -> TrainingControl)? = nil,
    checkpoint: ((Network<Scalar>, TrainingProgress) -> Void)? = nil
  ) throws(TrainingError) -> TrainingHistory {
    let m = train.source.exampleCount
    if train.source.featureCount != network.inputSize {
      shapeFailure(
        "Trainer.fit: the examples have \(train.source.featureCount) features; the network takes \(network.inputSize)")
    }
    if train.labels.rows != network.outputSize {
      shapeFailure(
        "Trainer.fit: labels are \(train.labels.rows)×\(m) but the output is \(network.outputSize)×\(m); Y must be \(network.outputSize)×m"
      )
    }
    if m == 0 { shapeFailure("Trainer.fit: no training examples (m = 0)") }
    if options.earlyStopping != nil && validation == nil {
      throw .invalidOption("early stopping needs validation data to watch; pass validation: to fit/train")
    }
    let parallel = group.size > 1
    allreduceTime = .zero
    allreduceCalls = 0
    var shuffler = generator
    if parallel {
      // Every process starts from process 0's parameters; the order of the
      // examples is the same everywhere, and so is each example's dropout mask.
      broadcastParameters(group)
      shuffler = Xoshiro256StarStar(seed: options.seed)
    }
    var monitor = TrainingMonitor<Scalar>(options: options)
    let batch = Swift.min(options.batchSize ?? m, m)
    // The whole batch, in memory and on one process, needs no gathering.
    let whole = !parallel && batch >= m ? train.matrix : nil
    // This process's part of the whole batch, or the order of mini-batches:
    // made only when used (for 10⁷ examples each is 80 MB).
    let mine = whole == nil && batch >= m ? Array(stride(from: group.rank, to: m, by: group.size)) : []
    var order = batch < m ? Array(0..<m) : []
    var part: [Int] = []  // this process's examples of a batch
    part.reserveCapacity(batch)
    for epoch in 1...Swift.max(options.epochs, 1) where options.epochs > 0 {
      var total = 0.0
      if let whole {
        total = Double(step(x: whole, y: train.labels, weights: train.weights))
        try monitor.checkBatch(cost: total, epoch: epoch, batch: 1)
      } else if batch >= m {
        total = Double(step(train, mine[...], globalCount: m, group: group))
        try checkExamples(train, parallel)
        try monitor.checkBatch(cost: total, epoch: epoch, batch: 1)
      } else {
        for i in order.indices { order[i] = i }
        if parallel { shuffler.shuffle(&order) } else { generator.shuffle(&order) }
        var start = 0
        var b = 0
        while start < m {
          let end = Swift.min(start + batch, m)
          part.removeAll(keepingCapacity: true)
          for k in start..<end where order[k] % group.size == group.rank { part.append(order[k]) }
          let cost = Double(step(train, part[...], globalCount: end - start, group: group))
          try checkExamples(train, parallel)
          b += 1
          try monitor.checkBatch(cost: cost, epoch: epoch, batch: b)
          total += cost * Double(end - start)
          start = end
        }
        total /= Double(m)
      }
      let measured = validation.map { evaluate($0, group: group) }
      // (On several processes, the next step's allreduce tells every process.)
      if !parallel, let problem = validation?.source.problem { throw .examplesUnavailable(problem) }
      var stop = try monitor.endEpoch(
        epoch, cost: total, network: network, validation: measured, progress: group.rank == 0 ? progress : nil,
        checkpoint: group.rank == 0 ? checkpoint : nil)
      // Every process stops when process 0 does.
      if parallel { withUnsafeMutableBytes(of: &stop) { group.broadcast($0, from: 0) } }
      if stop { break }
    }
    return monitor.finish(restoringInto: &network)
  }

  /// Throws when this process's examples (or, on several processes, any
  /// process's, as the last allreduce said) could not be read as they were.
  func checkExamples(_ train: LabelledExamples<Scalar>, _ parallel: Bool) throws(TrainingError) {
    if let problem = train.source.problem { throw .examplesUnavailable(problem) }
    if parallel && anotherProcessLostItsExamples {
      throw .examplesUnavailable(
        "another process could not read its examples (its message says why); every process stops")
    }
  }

  /// The validation cost (the loss without the L2 term) and accuracy of the
  /// network as it is: what ``fit(_:validation:group:progress:checkpoint:)``
  /// reports after each epoch. One forward pass for a matrix on one process;
  /// otherwise in chunks of at most 4096 examples, shared out over the
  /// processes of `group` (a collective call) and summed.
  public func evaluate(_ v: LabelledExamples<Scalar>, group: any ProcessGroup = SingleProcess()) -> (
    cost: Double, accuracy: Double?
  ) {
    if group.size == 1, let x = v.matrix {
      return evaluate(x: x, y: v.labels, weights: v.weights)
    }
    let output = network.outputActivation
    let hasAccuracy = (output == .sigmoid && network.outputSize == 1) || output == .softmax
    let mine = Array(stride(from: group.rank, to: v.source.exampleCount, by: group.size))
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
      let (cost, accuracy) = evaluate(x: x, y: y, weights: w)
      sums[0] += cost * Double(part.count)
      sums[1] += (accuracy ?? 0) * Double(part.count)
      start += part.count
    }
    sums.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    let n = Double(v.source.exampleCount)
    return (sums[0] / n, hasAccuracy ? sums[1] / n : nil)
  }

  /// The cost and accuracy on `x` and `y` from one forward pass.
  func evaluate(x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>?) -> (cost: Double, accuracy: Double?) {
    let (z, p) = network._output(x, "validation")
    let cost = Double(network._dataCost(z: z, a: p, y: y, loss: loss, weights: weights))
    let output = network.outputActivation
    guard (output == .sigmoid && network.outputSize == 1) || output == .softmax else { return (cost, nil) }
    var right = 0
    if output == .sigmoid {
      for j in 0..<p.columns where (p[0, j] >= 0.5) == (y[0, j] >= 0.5) { right += 1 }
    } else {
      let predicted = p.argmaxOfEachColumn()
      let actual = y.argmaxOfEachColumn()
      for j in 0..<p.columns where predicted[j] == actual[j] { right += 1 }
    }
    return (cost, Double(right) / Double(p.columns))
  }

  static func checkWeights(_ weights: Matrix<Scalar>?, examples m: Int, _ what: String) {
    if let w = weights, w.rows != 1 || w.columns != m {
      shapeFailure("\(what): weights must be 1×m = 1×\(m), one per example; weights are \(w.shape)")
    }
  }

  // MARK: - The step, piece by piece

  func checkData<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(x: X, y: Y, _ what: String = "train") {
    let nx = network.inputSize
    let nl = network.outputSize
    if x.rows != nx {
      shapeFailure(
        "\(what): X must be n_x×m = \(nx)×m (features as rows, examples as columns); X is \(x.rows)×\(x.columns)"
          + (x.columns == nx ? " — it looks transposed" : ""))
    }
    if y.rows != nl || y.columns != x.columns {
      shapeFailure(
        "\(what): labels are \(y.rows)×\(y.columns) but the output is \(nl)×\(x.columns); Y must be \(nl)×m with one column per example of X"
      )
    }
    if x.columns == 0 { shapeFailure("\(what): X has no examples (\(x.rows)×0)") }
  }

  mutating func buffers(for m: Int) -> [BatchBuffers<Scalar>] {
    if let b = batchBuffers[m] { return b }
    let dropout = options.keepProbability < 1
    let b = network.layers.map { BatchBuffers<Scalar>(units: $0.units, m: m, dropout: dropout) }
    batchBuffers[m] = b
    return b
  }

  /// Forward, cost and backward on a batch, the gradients left in
  /// ``gradientBuffers``; with `l2` (the options' λ unless the L2 term is
  /// added later, after the gradients of several processes are summed).
  mutating func forwardBackward<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, weights: Matrix<Scalar>?, training: Bool, l2: Double? = nil
  ) -> Scalar {
    let l2 = l2 ?? options.l2
    checkData(x: x, y: y)
    let m = x.columns
    let buf = buffers(for: m)
    let depth = network.depth
    let dropout = training && options.keepProbability < 1
    if dropout { dropoutSteps &+= 1 }
    let (path, split) = (options.path, options.splitSkinnyProducts)
    let output = network.outputActivation
    // Forward. An output computed from its logits needs Z_L only.
    for l in 0..<depth {
      let b = buf[l]
      let layer = network.layers[l]
      if l == depth - 1 && loss.isComputedFromLogits(output: output) {
        if l == 0 {
          layer.linear(x, into: &b.z, path: path, splitSkinnyProducts: split)
        } else {
          layer.linear(buf[l - 1].a, into: &b.z, path: path, splitSkinnyProducts: split)
        }
      } else if l == 0 {
        layer.forward(x, z: &b.z, a: &b.a, path: path, splitSkinnyProducts: split)
      } else {
        layer.forward(buf[l - 1].a, z: &b.z, a: &b.a, path: path, splitSkinnyProducts: split)
      }
      if dropout && l < depth - 1 { applyDropout(b, layer: l) }
    }
    // The cost and dZ_L.
    let top = buf[depth - 1]
    var cost = loss.outputGradient(z: top.z, a: top.a, labels: y, weights: weights, output: output, into: &top.dz)
    if l2 > 0 { cost += Losses.l2Penalty(of: network, lambda: l2, examples: m) }
    // Backward.
    for l in stride(from: depth - 1, through: 0, by: -1) {
      let b = buf[l]
      let layer = network.layers[l]
      if l == 0 {
        layer.parameterGradients(
          dZ: b.dz, aPrev: x, dW: &gradientBuffers.weights[l], db: &gradientBuffers.biases[l], path: path,
          splitSkinnyProducts: split)
      } else {
        layer.parameterGradients(
          dZ: b.dz, aPrev: buf[l - 1].a, dW: &gradientBuffers.weights[l], db: &gradientBuffers.biases[l], path: path,
          splitSkinnyProducts: split)
      }
      if l2 > 0 {
        Losses.addL2Gradient(weights: layer.weights, lambda: l2, examples: m, to: &gradientBuffers.weights[l])
      }
      if l > 0 {
        let below = buf[l - 1]
        layer.inputGradient(
          dZ: b.dz, into: &below.dz, below: network.layers[l - 1].activation, zPrev: below.z,
          mask: dropout ? below.mask : nil, path: path, splitSkinnyProducts: split)
      }
    }
    return cost
  }

  /// Inverted dropout: keeps a unit with probability `keep` and scales the
  /// kept ones by 1/keep. Each example's mask is a SplitMix64 stream of its
  /// own, keyed by the seed, the step, the layer and the example's index
  /// (``dropoutExamples``): the same whichever columns of a batch the example
  /// sits in, so a fit shared out over processes draws the masks one process
  /// would.
  mutating func applyDropout(_ b: BatchBuffers<Scalar>, layer l: Int) {
    let keep = Scalar(options.keepProbability)
    let threshold = UInt64(Double(UInt64.max) * Double(keep))
    let scale = 1 / keep
    let (units, columns) = (b.a.rows, b.a.columns)
    let examples = dropoutExamples
    let key = Self.mixed(Self.mixed(Self.mixed(options.seed) ^ dropoutSteps) ^ UInt64(l))
    b.mask.withUnsafeMutableBufferPointer { mk in
      b.a.withUnsafeMutableBufferPointer { a in
        for j in 0..<columns {
          // (A column past the batch's examples pads it, with weight 0.)
          let example = examples.map { j < $0.count ? $0[$0.startIndex + j] : Int.max - j } ?? j
          var stream = SplitMix64(seed: Self.mixed(key ^ UInt64(truncatingIfNeeded: example)))
          for k in j * units..<(j + 1) * units {
            let v: Scalar = stream.next() <= threshold ? scale : 0
            mk[k] = v
            a[k] *= v
          }
        }
      }
    }
  }

  /// `x` hashed to 64 well-mixed bits (SplitMix64's first output seeded with it).
  static func mixed(_ x: UInt64) -> UInt64 {
    var g = SplitMix64(seed: x)
    return g.next()
  }
}

extension Network {
  /// Trains this network in place and returns the cost history.
  ///
  /// Only a `var` network can be trained (this method is `mutating`):
  ///
  ///     let frozen = Network<Float>(sizes: [2, 4, 1])
  ///     frozen.train(x: x, y: y)   // error: cannot use mutating member on immutable value
  ///
  /// Traps unless `x` is n_x × m and `y` is n_L × m (a 1×1 `y` for a 1×m
  /// output is refused with both shapes in the message). Throws
  /// ``TrainingError`` for options that cannot work and when training
  /// diverges; the network is then left as it was before the call. The
  /// per-example `weights`, `validation` data (and with it early stopping)
  /// and `checkpoint` are those of ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)``.
  @discardableResult
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func train(
    x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>? = nil,
    validation: LabelledExamples<Scalar>? = nil,
    options: TrainingOptions = TrainingOptions(), progress: ((TrainingProgress) -> TrainingControl)? = nil,
    checkpoint: ((Network<Scalar>, TrainingProgress) -> Void)? = nil
  ) throws(TrainingError) -> TrainingHistory {
    var trainer = try Trainer(network: self, options: options)
    let history = try trainer.fit(
      x: x, y: y, weights: weights, validation: validation, progress: progress, checkpoint: checkpoint)
    self = trainer.network
    return history
  }
}
