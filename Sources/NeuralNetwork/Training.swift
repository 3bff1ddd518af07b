import Foundation
import LinearAlgebra

/// Which kernels compute the products of a training step.
public enum ComputePath: String, Sendable, Codable {
  /// OpenBLAS `?gemm` (the default).
  case blas
  /// The textbook loops of ``Naive``: same step, same numbers up to rounding, no BLAS.
  case naive
}

/// How parameters move along their gradients.
///
///     gradientDescent  W ← W − α·dW
///     momentum         v ← β·v + (1 − β)·dW;            W ← W − α·v
///     adam             v ← β₁·v + (1 − β₁)·dW;  s ← β₂·s + (1 − β₂)·dW²
///                      W ← W − α·(v / (1 − β₁ᵗ)) / (√(s / (1 − β₂ᵗ)) + ε)
public enum Optimizer: Sendable, Equatable {
  case gradientDescent(learningRate: Double)
  case momentum(learningRate: Double, beta: Double = 0.9)
  case adam(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)

  /// α.
  public var learningRate: Double {
    switch self {
    case .gradientDescent(let a), .momentum(let a, _), .adam(let a, _, _, _): return a
    }
  }
}

/// The settings of a training run. Defaults are the course's: full batch,
/// plain gradient descent with α = 0.0075, no regularisation.
public struct TrainingOptions: Sendable {
  /// Passes over the training data.
  public var epochs: Int
  public var optimizer: Optimizer
  /// Examples per mini-batch; `nil` is full batch. The data is reshuffled each
  /// epoch (from ``seed``) and a last, smaller batch is kept.
  public var batchSize: Int?
  /// L2 penalty λ: the cost gains (λ / 2m)·Σ‖Wl‖² and dWl gains (λ/m)·Wl.
  public var l2: Double
  /// Inverted dropout on hidden layers: each unit is kept with this probability
  /// and scaled by 1/keep. 1 disables dropout. Training only, never in `predict`.
  public var keepProbability: Double
  /// The cost; `nil` picks the natural one for the output activation.
  public var loss: Loss?
  /// Seeds shuffling and dropout (the weights have their own seed).
  public var seed: UInt64
  /// The history records the cost every this many epochs (and the last epoch).
  public var recordCostEvery: Int
  /// BLAS or the naive kernels.
  public var path: ComputePath
  /// On the BLAS path, run large products with few output rows (≤ 64) through
  /// ``gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)``, one
  /// column block per OpenBLAS thread, instead of one OpenBLAS call that would
  /// use a single core for them. It briefly sets OpenBLAS's process-wide
  /// thread count to 1 around those products.
  public var splitSkinnyProducts: Bool

  public init(
    epochs: Int = 1000, optimizer: Optimizer = .gradientDescent(learningRate: 0.0075), batchSize: Int? = nil,
    l2: Double = 0, keepProbability: Double = 1, loss: Loss? = nil, seed: UInt64 = 1, recordCostEvery: Int = 100,
    path: ComputePath = .blas, splitSkinnyProducts: Bool = true
  ) {
    self.epochs = epochs
    self.optimizer = optimizer
    self.batchSize = batchSize
    self.l2 = l2
    self.keepProbability = keepProbability
    self.loss = loss
    self.seed = seed
    self.recordCostEvery = recordCostEvery
    self.path = path
    self.splitSkinnyProducts = splitSkinnyProducts
  }

  /// Whether a BLAS-path product with a `rows × columns` result and inner
  /// dimension `inner` goes through ``gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)``:
  /// at most 64 rows and at least 2·10⁶ multiply-adds (below that, the
  /// threads cost more than they save).
  public func splitsProduct(rows: Int, columns: Int, inner: Int) -> Bool {
    splitSkinnyProducts && path == .blas && rows <= 64 && rows * columns * inner >= 2_000_000
  }
}

/// Settings that cannot work, found before training starts.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  case invalidOption(String)
  case incompatibleLoss(loss: Loss, output: Activation)

  public var description: String {
    switch self {
    case .invalidOption(let s): return s
    case .incompatibleLoss(let l, let o):
      return "loss \(l.rawValue) does not go with a \(o.displayName) output"
        + (l == .categoricalCrossEntropy
          ? " (categorical cross-entropy needs softmax)" : " (softmax needs categorical cross-entropy)")
    }
  }
}

/// What the progress callback sees after each epoch.
public struct TrainingProgress: Sendable {
  public var epoch: Int
  public var epochs: Int
  /// The mean cost over the epoch's batches (measured before each batch's update).
  public var cost: Double
}

/// What the progress callback answers.
public enum TrainingControl: Sendable {
  case proceed
  case stop
}

/// The costs recorded while training.
public struct TrainingHistory: Sendable {
  /// `(epoch, cost)` every `recordCostEvery` epochs and at the last epoch run.
  public var costs: [(epoch: Int, cost: Double)] = []
  /// Epochs completed.
  public var epochsRun = 0
  /// Whether the callback stopped training early.
  public var stoppedEarly = false
  /// The last recorded cost.
  public var finalCost: Double? { costs.last?.cost }
}

/// Buffers for one batch size m: the forward caches and the backward gradients.
final class BatchBuffers<S: BLASScalar> {
  var z: Matrix<S>  // Zl, n_l × m
  var a: Matrix<S>  // Al, n_l × m
  var dz: Matrix<S>  // dZl (and dAl before the activation backward), n_l × m
  var mask: Matrix<S>  // dropout mask scaled by 1/keep, n_l × m (empty without dropout)
  var ones: Matrix<S>  // m × 1 of ones: dbl = (1/m)·dZl·1 is one gemv

  init(units: Int, m: Int, dropout: Bool) {
    ones = .ones(m, 1)
    z = .zeros(units, m)
    a = .zeros(units, m)
    dz = .zeros(units, m)
    mask = dropout ? .zeros(units, m) : .zeros(0, 0)
  }
}

/// Per-layer gradients and optimiser state; independent of the batch size.
final class ParameterBuffers<S: BLASScalar> {
  var dW: Matrix<S>
  var db: Matrix<S>
  var vW: Matrix<S>
  var vb: Matrix<S>
  var sW: Matrix<S>
  var sb: Matrix<S>

  init(layer: Layer<S>, optimizer: Optimizer) {
    let (r, c) = (layer.units, layer.inputs)
    dW = .zeros(r, c)
    db = .zeros(r, 1)
    let (needsV, needsS): (Bool, Bool)
    switch optimizer {
    case .gradientDescent: (needsV, needsS) = (false, false)
    case .momentum: (needsV, needsS) = (true, false)
    case .adam: (needsV, needsS) = (true, true)
    }
    vW = needsV ? .zeros(r, c) : .zeros(0, 0)
    vb = needsV ? .zeros(r, 1) : .zeros(0, 0)
    sW = needsS ? .zeros(r, c) : .zeros(0, 0)
    sb = needsS ? .zeros(r, 1) : .zeros(0, 0)
  }
}

/// Trains a network: owns it, the reusable workspace and the optimiser state.
///
/// One ``step(x:y:)`` is forward (one gemm and one fused bias+activation pass
/// per layer), cost, backward (two gemms per layer but one for layer 1, a fused
/// activation-backward pass, a row sum for db) and the in-place update. After
/// the first step for a batch size, a step allocates nothing: every cache and
/// gradient lives in buffers kept between steps (one set per batch size seen,
/// so the smaller last batch of an epoch has its own).
public struct Trainer<Scalar: BLASScalar> {
  /// The network being trained (updated in place by each step).
  public private(set) var network: Network<Scalar>
  public let options: TrainingOptions
  /// The loss in use (``TrainingOptions/loss`` or the natural one).
  public let loss: Loss

  var generator: Xoshiro256StarStar
  var parameterBuffers: [ParameterBuffers<Scalar>]
  var batchBuffers: [Int: [BatchBuffers<Scalar>]] = [:]
  var shuffledX: Matrix<Scalar> = .zeros(0, 0)
  var shuffledY: Matrix<Scalar> = .zeros(0, 0)
  var order: [Int] = []
  /// Adam's step counter t.
  var updates = 0

  /// A trainer for `network`; throws for options that cannot work.
  public init(network: Network<Scalar>, options: TrainingOptions = TrainingOptions()) throws(TrainingError) {
    let loss = options.loss ?? Loss.natural(for: network.outputActivation)
    if options.epochs < 0 { throw .invalidOption("epochs must be ≥ 0, got \(options.epochs)") }
    if !(options.optimizer.learningRate > 0) || !options.optimizer.learningRate.isFinite {
      throw .invalidOption("the learning rate must be a positive number, got \(options.optimizer.learningRate)")
    }
    if let b = options.batchSize, b < 1 { throw .invalidOption("the batch size must be ≥ 1, got \(b)") }
    if !(options.l2 >= 0) || !options.l2.isFinite { throw .invalidOption("l2 must be ≥ 0, got \(options.l2)") }
    if !(options.keepProbability > 0 && options.keepProbability <= 1) {
      throw .invalidOption("the keep probability must be in (0, 1], got \(options.keepProbability)")
    }
    if options.recordCostEvery < 1 {
      throw .invalidOption("recordCostEvery must be ≥ 1, got \(options.recordCostEvery)")
    }
    let output = network.outputActivation
    if (loss == .categoricalCrossEntropy) != (output == .softmax) {
      throw .incompatibleLoss(loss: loss, output: output)
    }
    self.network = network
    self.options = options
    self.loss = loss
    self.generator = Xoshiro256StarStar(seed: options.seed)
    self.parameterBuffers = network.layers.map { ParameterBuffers(layer: $0, optimizer: options.optimizer) }
  }

  // MARK: - Public steps

  /// One training iteration on a batch: forward, cost, backward, update.
  ///
  /// Returns the batch's cost before the update (including the L2 term).
  /// Traps unless `x` is n_x × m and `y` is n_L × m.
  @discardableResult
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>, Y == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>, Y == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>, Y == Matrix<Double>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>, Y == MatrixColumns<Double>)
  public mutating func step<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(x: X, y: Y) -> Scalar {
    let cost = forwardBackward(x: x, y: y, training: true)
    update()
    return cost
  }

  /// The cost and the gradients `dW1, db1, ...` on a batch, without updating
  /// anything and without dropout: what ``GradientCheck`` compares against.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func costAndGradients(x: Matrix<Scalar>, y: Matrix<Scalar>) -> (
    cost: Scalar, gradients: [String: Matrix<Scalar>]
  ) {
    let cost = forwardBackward(x: x, y: y, training: false)
    var g: [String: Matrix<Scalar>] = [:]
    for (i, p) in parameterBuffers.enumerated() {
      g["W\(i + 1)"] = p.dW
      g["b\(i + 1)"] = p.db
    }
    return (cost, g)
  }

  /// Trains for ``TrainingOptions/epochs`` epochs on all of `x` (n_x × m) and `y` (n_L × m).
  ///
  /// `progress` is called after every epoch; return `.stop` to end early.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func fit(
    x: Matrix<Scalar>, y: Matrix<Scalar>, progress: ((TrainingProgress) -> TrainingControl)? = nil
  ) -> TrainingHistory {
    checkData(x: x, y: y)
    var history = TrainingHistory()
    let m = x.columns
    let batch = Swift.min(options.batchSize ?? m, m)
    for epoch in 1...Swift.max(options.epochs, 1) where options.epochs > 0 {
      var total = 0.0
      if batch >= m {
        total = Double(step(x: x, y: y))
      } else {
        shuffle(x: x, y: y)
        var start = 0
        while start < m {
          let end = Swift.min(start + batch, m)
          let c = step(x: shuffledX.columnRange(start..<end), y: shuffledY.columnRange(start..<end))
          total += Double(c) * Double(end - start)
          start = end
        }
        total /= Double(m)
      }
      history.epochsRun = epoch
      let last = epoch == options.epochs
      if epoch % options.recordCostEvery == 0 || last || epoch == 1 {
        history.costs.append((epoch, total))
      }
      if let progress, progress(TrainingProgress(epoch: epoch, epochs: options.epochs, cost: total)) == .stop {
        if !last && history.costs.last?.epoch != epoch { history.costs.append((epoch, total)) }
        history.stoppedEarly = !last
        break
      }
    }
    return history
  }

  // MARK: - The step, piece by piece

  func checkData<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(x: X, y: Y) {
    let nx = network.inputSize
    let nl = network.outputSize
    if x.rows != nx {
      shapeFailure(
        "train: X must be n_x×m = \(nx)×m (features as rows, examples as columns); X is \(x.rows)×\(x.columns)"
          + (x.columns == nx ? " — it looks transposed" : ""))
    }
    if y.rows != nl || y.columns != x.columns {
      shapeFailure(
        "train: labels are \(y.rows)×\(y.columns) but the output is \(nl)×\(x.columns); Y must be \(nl)×m with one column per example of X"
      )
    }
    if x.columns == 0 { shapeFailure("train: X has no examples (\(x.rows)×0)") }
  }

  /// Gathers the columns of `x` and `y` in a new seeded order into buffers kept
  /// between epochs (the same permutation as `generator.permutation(m)`).
  mutating func shuffle(x: Matrix<Scalar>, y: Matrix<Scalar>) {
    if shuffledX.shape != x.shape { shuffledX = .zeros(x.rows, x.columns) }
    if shuffledY.shape != y.shape { shuffledY = .zeros(y.rows, y.columns) }
    if order.count != x.columns { order = Array(0..<x.columns) }
    for i in order.indices { order[i] = i }
    generator.shuffle(&order)
    gatherColumns(from: x, order: order, into: &shuffledX)
    gatherColumns(from: y, order: order, into: &shuffledY)
  }

  func gatherColumns(from source: Matrix<Scalar>, order: [Int], into target: inout Matrix<Scalar>) {
    let r = source.rows
    source.withUnsafeBufferPointer { s in
      target.withUnsafeMutableBufferPointer { t in
        for (j, k) in order.enumerated() {
          for i in 0..<r { t[j &* r &+ i] = s[k &* r &+ i] }
        }
      }
    }
  }

  mutating func buffers(for m: Int) -> [BatchBuffers<Scalar>] {
    if let b = batchBuffers[m] { return b }
    let dropout = options.keepProbability < 1
    let b = network.layers.map { BatchBuffers<Scalar>(units: $0.units, m: m, dropout: dropout) }
    batchBuffers[m] = b
    return b
  }

  /// `C = alpha·op(A)·op(B) + beta·C` on the chosen path.
  @inline(__always)
  func product<A: MatrixOperand<Scalar>, B: MatrixOperand<Scalar>>(
    alpha: Scalar = 1, _ a: A, _ b: B, transposeA: Bool = false, transposeB: Bool = false,
    into c: inout Matrix<Scalar>
  ) {
    switch options.path {
    case .blas where options.splitsProduct(rows: c.rows, columns: c.columns, inner: transposeA ? a.rows : a.columns):
      gemmSplittingColumns(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, into: &c)
    case .blas: gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, into: &c)
    case .naive: Naive.gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, into: &c)
    }
  }

  mutating func forwardBackward<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, training: Bool
  ) -> Scalar {
    checkData(x: x, y: y)
    let m = x.columns
    let buf = buffers(for: m)
    let dropout = training && options.keepProbability < 1
    forward(x: x, buffers: buf, dropout: dropout)
    var cost = outputGradient(y: y, top: buf[buf.count - 1])
    if options.l2 > 0 {
      var squares: Scalar = 0
      for layer in network.layers {
        layer.weights.withUnsafeBufferPointer { w in for v in w { squares += v * v } }
      }
      cost += Scalar(options.l2) / Scalar(2 * m) * squares
    }
    backward(x: x, buffers: buf, dropout: dropout)
    return cost
  }

  mutating func forward<X: MatrixOperand<Scalar>>(x: X, buffers buf: [BatchBuffers<Scalar>], dropout: Bool) {
    let depth = network.layers.count
    let keep = Scalar(options.keepProbability)
    for l in 0..<depth {
      let b = buf[l]
      if l == 0 {
        product(network.layers[0].weights, x, into: &b.z)
      } else {
        product(network.layers[l].weights, buf[l - 1].a, into: &b.z)
      }
      network.layers[l].activation.biasAndActivate(z: &b.z, bias: network.layers[l].bias, a: &b.a)
      if dropout && l < depth - 1 {
        // Inverted dropout: keep a unit with probability `keep`, scale kept ones by 1/keep.
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
  }

  /// Writes dZ_L (not yet divided by m) into the top buffer and returns the data cost.
  func outputGradient<Y: MatrixOperand<Scalar>>(y: Y, top: BatchBuffers<Scalar>) -> Scalar {
    let m = top.z.columns
    let rows = top.z.rows
    let output = network.outputActivation
    let loss = self.loss
    var cost: Scalar = 0
    y.withUnsafeBufferPointer { yp in
      top.z.withUnsafeBufferPointer { zp in
        top.a.withUnsafeBufferPointer { ap in
          top.dz.withUnsafeMutableBufferPointer { dz in
            switch (loss, output) {
            case (.binaryCrossEntropy, .sigmoid):
              // The logit form max(z, 0) − z·y + ln(1 + e^−|z|), with the last term
              // taken from A, already computed: ln(1 + e^−|z|) = −ln σ(|z|) = −ln max(a, 1 − a).
              // max(a, 1 − a) ≥ 0.5, so no log(0), and no second exp per element.
              for i in 0..<dz.count {
                let (z, a, y) = (zp[i], ap[i], yp[i])
                cost += Swift.max(z, 0) - z * y - Scalar.log(Swift.max(a, 1 - a))
                dz[i] = a - y
              }
            case (.categoricalCrossEntropy, _):
              cost = _cceLogits(zp, yp, rows: rows, columns: m)
              for i in 0..<dz.count { dz[i] = ap[i] - yp[i] }
            case (.binaryCrossEntropy, _):
              // Clipped reference form for outputs that are not a sigmoid.
              let eps: Scalar = 1e-7
              for i in 0..<dz.count {
                let a = Swift.min(Swift.max(ap[i], eps), 1 - eps)
                cost -= yp[i] * Scalar.log(a) + (1 - yp[i]) * Scalar.log(1 - a)
                dz[i] = -(yp[i] / a - (1 - yp[i]) / (1 - a))
              }
            case (.meanSquaredError, _):
              let scale = 2 / Scalar(rows)
              for i in 0..<dz.count {
                let d = ap[i] - yp[i]
                cost += d * d / Scalar(rows)
                dz[i] = scale * d
              }
            }
          }
        }
      }
    }
    if !(loss == .categoricalCrossEntropy || (loss == .binaryCrossEntropy && output == .sigmoid)) {
      output.backward(gradient: &top.dz, z: top.z)
    }
    return cost / Scalar(m)
  }

  func backward<X: MatrixOperand<Scalar>>(x: X, buffers buf: [BatchBuffers<Scalar>], dropout: Bool) {
    let m = x.columns
    let invM = 1 / Scalar(m)
    let lambdaOverM = Scalar(options.l2) / Scalar(m)
    for l in stride(from: network.layers.count - 1, through: 0, by: -1) {
      let b = buf[l]
      let p = parameterBuffers[l]
      // dWl = (1/m)·dZl·A_{l-1}ᵀ (+ (λ/m)·Wl)
      if l == 0 {
        product(alpha: invM, b.dz, x, transposeB: true, into: &p.dW)
      } else {
        product(alpha: invM, b.dz, buf[l - 1].a, transposeB: true, into: &p.dW)
      }
      if lambdaOverM > 0 { p.dW.addScaled(network.layers[l].weights, alpha: lambdaOverM) }
      // dbl = (1/m)·Σ_columns dZl = (1/m)·dZl·1 (BLAS gemv; the naive path sums in a loop)
      if options.path == .blas {
        gemv(alpha: invM, b.dz, b.ones, into: &p.db)
      } else {
        b.dz.sumOfEachRow(into: &p.db, scale: invM)
      }
      // dA_{l-1} = Wlᵀ·dZl, then dZ_{l-1} = dA_{l-1} ⊙ g'(Z_{l-1}); nothing for the input layer.
      if l > 0 {
        let below = buf[l - 1]
        product(network.layers[l].weights, b.dz, transposeA: true, into: &below.dz)
        if dropout { below.dz *= below.mask }
        network.layers[l - 1].activation.backward(gradient: &below.dz, z: below.z)
      }
    }
  }

  mutating func update() {
    updates += 1
    let t = Double(updates)
    for l in 0..<network.layers.count {
      let p = parameterBuffers[l]
      switch options.optimizer {
      case .gradientDescent(let lr):
        network.layers[l].weights.addScaled(p.dW, alpha: Scalar(-lr))
        network.layers[l].bias.addScaled(p.db, alpha: Scalar(-lr))
      case .momentum(let lr, let beta):
        Self.momentumStep(&network.layers[l].weights, p.dW, &p.vW, lr: lr, beta: beta)
        Self.momentumStep(&network.layers[l].bias, p.db, &p.vb, lr: lr, beta: beta)
      case .adam(let lr, let b1, let b2, let eps):
        // Bias corrections folded into the step size and epsilon.
        let c1 = 1 - pow(b1, t)
        let c2 = 1 - pow(b2, t)
        Self.adamStep(&network.layers[l].weights, p.dW, &p.vW, &p.sW, lr: lr, b1: b1, b2: b2, eps: eps, c1: c1, c2: c2)
        Self.adamStep(&network.layers[l].bias, p.db, &p.vb, &p.sb, lr: lr, b1: b1, b2: b2, eps: eps, c1: c1, c2: c2)
      }
    }
  }

  static func momentumStep(
    _ w: inout Matrix<Scalar>, _ g: Matrix<Scalar>, _ v: inout Matrix<Scalar>, lr: Double, beta: Double
  ) {
    let (a, bt, oneMinus) = (Scalar(lr), Scalar(beta), Scalar(1 - beta))
    g.withUnsafeBufferPointer { gp in
      v.withUnsafeMutableBufferPointer { vp in
        w.withUnsafeMutableBufferPointer { wp in
          for i in 0..<wp.count {
            vp[i] = bt * vp[i] + oneMinus * gp[i]
            wp[i] -= a * vp[i]
          }
        }
      }
    }
  }

  static func adamStep(
    _ w: inout Matrix<Scalar>, _ g: Matrix<Scalar>, _ v: inout Matrix<Scalar>, _ s: inout Matrix<Scalar>,
    lr: Double, b1: Double, b2: Double, eps: Double, c1: Double, c2: Double
  ) {
    let (beta1, beta2) = (Scalar(b1), Scalar(b2))
    let (om1, om2) = (Scalar(1 - b1), Scalar(1 - b2))
    let invC1 = Scalar(1 / c1)
    let invC2 = Scalar(1 / c2)
    let (a, e) = (Scalar(lr), Scalar(eps))
    g.withUnsafeBufferPointer { gp in
      v.withUnsafeMutableBufferPointer { vp in
        s.withUnsafeMutableBufferPointer { sp in
          w.withUnsafeMutableBufferPointer { wp in
            for i in 0..<wp.count {
              let gi = gp[i]
              vp[i] = beta1 * vp[i] + om1 * gi
              sp[i] = beta2 * sp[i] + om2 * gi * gi
              wp[i] -= a * (vp[i] * invC1) / ((sp[i] * invC2).squareRoot() + e)
            }
          }
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
  /// ``TrainingError`` for options that cannot work.
  @discardableResult
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public mutating func train(
    x: Matrix<Scalar>, y: Matrix<Scalar>, options: TrainingOptions = TrainingOptions(),
    progress: ((TrainingProgress) -> TrainingControl)? = nil
  ) throws(TrainingError) -> TrainingHistory {
    var trainer = try Trainer(network: self, options: options)
    let history = trainer.fit(x: x, y: y, progress: progress)
    self = trainer.network
    return history
  }
}
