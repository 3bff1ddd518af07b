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
///                               Layer.inputGradient(dZ:into:)   (not for l = 1)
///                               Activation.backward(_:z:)
///     update    optimizer.update(&network, with: gradients)
///
/// so a loop written from those pieces gives the same numbers. After the
/// first step for a batch size, a step allocates nothing (one set of buffers
/// per batch size seen, so the smaller last batch of an epoch has its own).
public struct Trainer<Scalar: BLASScalar> {
  /// The network being trained (updated in place by each step).
  public private(set) var network: Network<Scalar>
  public let options: TrainingOptions
  /// The loss in use (``TrainingOptions/loss`` or the natural one).
  public let loss: Loss
  /// The optimiser and its state (moments, step count). Settable, e.g. to
  /// resume training from a saved state; its shapes must match the network's.
  public var optimizer: OptimizerState<Scalar>

  var generator: Xoshiro256StarStar
  var gradientBuffers: Gradients<Scalar>
  var batchBuffers: [Int: [BatchBuffers<Scalar>]] = [:]
  var shuffledX: Matrix<Scalar> = .zeros(0, 0)
  var shuffledY: Matrix<Scalar> = .zeros(0, 0)
  var shuffledWeights: Matrix<Scalar> = .zeros(0, 0)
  var weightBuffers: [Int: Matrix<Scalar>] = [:]
  var order: [Int] = []

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

  /// Trains for ``TrainingOptions/epochs`` epochs on all of `x` (n_x × m) and `y` (n_L × m).
  ///
  /// With a batch size below m, each epoch is ``MiniBatches`` in an order
  /// drawn from the trainer's generator (seeded with ``TrainingOptions/seed``;
  /// the same generator then draws the dropout masks). `progress` is called
  /// after every epoch; return `.stop` to end early.
  ///
  /// - Parameters:
  ///   - x: the inputs, n_x × m.
  ///   - y: the labels, n_L × m.
  ///   - weights: per-example weights (1 × m), e.g. from
  ///     ``DataSplit/exampleWeights(classIndices:classWeights:)`` for class
  ///     weights; they follow their examples through the shuffling.
  ///   - validation: examples to report the cost (and accuracy) on after
  ///     every epoch; needed for ``TrainingOptions/earlyStopping``.
  ///   - progress: called after every epoch; return `.stop` to end training.
  ///   - checkpoint: called with the network after every epoch whose
  ///     validation cost is the best so far (to save it to a file, say).
  /// - Throws: ``TrainingError/diverged(epoch:batch:cost:initialCost:)`` at the
  ///   first batch whose cost is not finite or exceeds 10⁴·(the first batch's
  ///   cost + 1), or after an epoch that left a parameter non-finite (unless
  ///   ``TrainingOptions/stopOnDivergence`` is false); the progress callback
  ///   never sees that epoch. ``TrainingError/invalidOption(_:)`` for early
  ///   stopping without validation data.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func fit(
    x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>? = nil, validation: ValidationData<Scalar>? = nil,
    progress: ((TrainingProgress) -> TrainingControl)? = nil,
    checkpoint: ((Network<Scalar>, TrainingProgress) -> Void)? = nil
  ) throws(TrainingError) -> TrainingHistory {
    checkData(x: x, y: y)
    Self.checkWeights(weights, examples: x.columns, "train")
    if let validation {
      checkData(x: validation.x, y: validation.y, "validation")
      Self.checkWeights(validation.weights, examples: validation.x.columns, "validation")
    }
    if options.earlyStopping != nil && validation == nil {
      throw .invalidOption("early stopping needs validation data to watch; pass validation: to fit/train")
    }
    var monitor = TrainingMonitor<Scalar>(options: options)
    let m = x.columns
    let batch = Swift.min(options.batchSize ?? m, m)
    for epoch in 1...Swift.max(options.epochs, 1) where options.epochs > 0 {
      var total = 0.0
      if batch >= m {
        total = Double(step(x: x, y: y, weights: weights))
        try monitor.checkBatch(cost: total, epoch: epoch, batch: 1)
      } else {
        let batches = shuffledBatches(x: x, y: y, weights: weights, batchSize: batch)
        for i in batches.indices {
          let (bx, by) = batches[i]
          let cost = Double(step(x: bx, y: by, weights: batchWeights(i, batchSize: batch, count: bx.columns)))
          try monitor.checkBatch(cost: cost, epoch: epoch, batch: i + 1)
          total += cost * Double(bx.columns)
        }
        total /= Double(m)
      }
      let stop = try monitor.endEpoch(
        epoch, cost: total, network: network, validation: validation.map { evaluate($0) }, progress: progress,
        checkpoint: checkpoint)
      if stop { break }
    }
    return monitor.finish(restoringInto: &network)
  }

  /// The validation cost (the loss without the L2 term) and accuracy of the
  /// network as it is, from one forward pass: what ``fit(x:y:weights:validation:progress:checkpoint:)``
  /// reports after each epoch.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func evaluate(_ v: ValidationData<Scalar>) -> (cost: Double, accuracy: Double?) {
    let (z, p) = network._output(v.x, "validation")
    let cost = Double(network._dataCost(z: z, a: p, y: v.y, loss: loss, weights: v.weights))
    let output = network.outputActivation
    guard (output == .sigmoid && network.outputSize == 1) || output == .softmax else { return (cost, nil) }
    var right = 0
    if output == .sigmoid {
      for j in 0..<p.columns where (p[0, j] >= 0.5) == (v.y[0, j] >= 0.5) { right += 1 }
    } else {
      let predicted = p.argmaxOfEachColumn()
      let actual = v.y.argmaxOfEachColumn()
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

  /// This epoch's mini-batches: the columns of x and y gathered, in an order
  /// drawn from the generator, into buffers kept between epochs.
  mutating func shuffledBatches(
    x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>?, batchSize: Int
  ) -> MiniBatches<Scalar> {
    if shuffledX.shape != x.shape { shuffledX = .zeros(x.rows, x.columns) }
    if shuffledY.shape != y.shape { shuffledY = .zeros(y.rows, y.columns) }
    if order.count != x.columns { order = Array(0..<x.columns) }
    for i in order.indices { order[i] = i }
    generator.shuffle(&order)  // the same permutation as generator.permutation(m)
    MiniBatches.gatherColumns(of: x, order: order, into: &shuffledX)
    MiniBatches.gatherColumns(of: y, order: order, into: &shuffledY)
    if let weights {
      if shuffledWeights.shape != weights.shape { shuffledWeights = .zeros(1, weights.columns) }
      MiniBatches.gatherColumns(of: weights, order: order, into: &shuffledWeights)
    } else {
      shuffledWeights = .zeros(0, 0)
    }
    return MiniBatches(orderedX: shuffledX, orderedY: shuffledY, batchSize: batchSize)
  }

  /// The weights of batch `i` of this epoch's shuffled batches (nil when
  /// training is unweighted), copied into a buffer kept per batch size.
  mutating func batchWeights(_ i: Int, batchSize: Int, count: Int) -> Matrix<Scalar>? {
    guard shuffledWeights.columns > 0 else { return nil }
    var buffer = weightBuffers[count] ?? .zeros(1, count)
    weightBuffers[count] = nil  // keep the buffer uniquely referenced while it is written
    shuffledWeights.withUnsafeBufferPointer { all in
      buffer.withUnsafeMutableBufferPointer { part in
        for k in 0..<count { part[k] = all[i * batchSize + k] }
      }
    }
    weightBuffers[count] = buffer
    return buffer
  }

  mutating func buffers(for m: Int) -> [BatchBuffers<Scalar>] {
    if let b = batchBuffers[m] { return b }
    let dropout = options.keepProbability < 1
    let b = network.layers.map { BatchBuffers<Scalar>(units: $0.units, m: m, dropout: dropout) }
    batchBuffers[m] = b
    return b
  }

  mutating func forwardBackward<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, weights: Matrix<Scalar>?, training: Bool
  ) -> Scalar {
    checkData(x: x, y: y)
    let m = x.columns
    let buf = buffers(for: m)
    let depth = network.depth
    let dropout = training && options.keepProbability < 1
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
      if dropout && l < depth - 1 { applyDropout(b) }
    }
    // The cost and dZ_L.
    let top = buf[depth - 1]
    var cost = loss.outputGradient(z: top.z, a: top.a, labels: y, weights: weights, output: output, into: &top.dz)
    if options.l2 > 0 { cost += Losses.l2Penalty(of: network, lambda: options.l2, examples: m) }
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
      if options.l2 > 0 {
        Losses.addL2Gradient(weights: layer.weights, lambda: options.l2, examples: m, to: &gradientBuffers.weights[l])
      }
      if l > 0 {
        let below = buf[l - 1]
        layer.inputGradient(dZ: b.dz, into: &below.dz, path: path, splitSkinnyProducts: split)
        if dropout { below.dz *= below.mask }
        network.layers[l - 1].activation.backward(&below.dz, z: below.z)
      }
    }
    return cost
  }

  /// Inverted dropout: keeps a unit with probability `keep` and scales the kept ones by 1/keep.
  mutating func applyDropout(_ b: BatchBuffers<Scalar>) {
    let keep = Scalar(options.keepProbability)
    let threshold = UInt64(Double(UInt64.max) * Double(keep))
    let scale = 1 / keep
    b.mask.withUnsafeMutableBufferPointer { mk in
      b.a.withUnsafeMutableBufferPointer { a in
        for i in 0..<a.count {
          let v: Scalar = generator.next() <= threshold ? scale : 0
          mk[i] = v
          a[i] *= v
        }
      }
    }
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
    x: Matrix<Scalar>, y: Matrix<Scalar>, weights: Matrix<Scalar>? = nil, validation: ValidationData<Scalar>? = nil,
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
