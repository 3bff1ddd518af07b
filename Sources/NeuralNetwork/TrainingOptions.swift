import LinearAlgebra

/// The settings of a training run. Defaults are the course's: full batch,
/// plain gradient descent with α = 0.0075, no regularisation.
public struct TrainingOptions: Sendable {
  /// Passes over the training data.
  public var epochs: Int
  public var optimizer: Optimizer
  /// Examples per mini-batch; `nil` is full batch. The data is reshuffled each
  /// epoch (from ``seed``) and a last, smaller batch is kept.
  public var batchSize: Int?
  /// L2 penalty λ: the cost gains (λ / 2m)·Σ‖Wl‖² and dWl gains (λ/m)·Wl
  /// (``Losses/l2Penalty(of:lambda:examples:)``).
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
  /// On the BLAS path, let large products with few output rows (≤ 64) run
  /// through `gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)`,
  /// one column block per BLAS thread, where that measured faster on this
  /// machine than one BLAS call (`prefersSplittingColumns`, once per shape;
  /// OpenBLAS 0.3.21 runs such products on a single core). It briefly sets the
  /// BLAS's process-wide thread count to 1 around those products.
  public var splitSkinnyProducts: Bool
  /// Whether ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)`` stops with ``TrainingError/diverged(epoch:batch:cost:initialCost:)``
  /// when training diverges: a batch cost that is not finite or exceeds
  /// 10⁴·(the first batch's cost + 1) (checked after every step), or a
  /// parameter that is not finite (checked after every epoch). Default true;
  /// set false to keep going anyway (to study a divergence).
  public var stopOnDivergence: Bool
  /// Stop when the validation cost has not improved for a while, and keep
  /// the best epoch's weights; needs validation data in ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)``.
  /// `nil` (the default) trains for all ``epochs``.
  public var earlyStopping: EarlyStopping?

  public init(
    epochs: Int = 1000, optimizer: Optimizer = .gradientDescent(learningRate: 0.0075), batchSize: Int? = nil,
    l2: Double = 0, keepProbability: Double = 1, loss: Loss? = nil, seed: UInt64 = 1, recordCostEvery: Int = 100,
    path: ComputePath = .blas, splitSkinnyProducts: Bool = true, stopOnDivergence: Bool = true,
    earlyStopping: EarlyStopping? = nil
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
    self.stopOnDivergence = stopOnDivergence
    self.earlyStopping = earlyStopping
  }

  /// The loss these options train `output` with, or the reason they cannot.
  public func validatedLoss(output: Activation) throws(TrainingError) -> Loss {
    let loss = self.loss ?? Loss.natural(for: output)
    if epochs < 0 { throw .invalidOption("epochs must be ≥ 0, got \(epochs)") }
    if let problem = optimizer.problem { throw .invalidOption(problem) }
    if let b = batchSize, b < 1 { throw .invalidOption("the batch size must be ≥ 1, got \(b)") }
    if !(l2 >= 0) || !l2.isFinite { throw .invalidOption("l2 must be ≥ 0, got \(l2)") }
    if !(keepProbability > 0 && keepProbability <= 1) {
      throw .invalidOption("the keep probability must be in (0, 1], got \(keepProbability)")
    }
    if recordCostEvery < 1 { throw .invalidOption("recordCostEvery must be ≥ 1, got \(recordCostEvery)") }
    if let e = earlyStopping {
      if e.patience < 1 { throw .invalidOption("early stopping's patience must be ≥ 1 epoch, got \(e.patience)") }
      if !(e.minDelta >= 0) || !e.minDelta.isFinite {
        throw .invalidOption("early stopping's minimum improvement must be ≥ 0, got \(e.minDelta)")
      }
    }
    if !loss.fits(output: output) { throw .incompatibleLoss(loss: loss, output: output) }
    return loss
  }
}

/// Keras's `EarlyStopping(monitor="val_loss", patience=…, min_delta=…,
/// restore_best_weights=…)`: after each epoch the validation cost is
/// compared with the best so far; it improves when it is lower than the best
/// by more than ``minDelta``. After ``patience`` epochs in a row without an
/// improvement, training stops. With ``restoreBestWeights`` the network ends
/// with the weights of the best epoch, whether training stopped early or ran
/// all its epochs.
public struct EarlyStopping: Equatable, Sendable {
  public var patience: Int
  public var minDelta: Double
  public var restoreBestWeights: Bool

  public init(patience: Int, minDelta: Double = 0, restoreBestWeights: Bool = true) {
    self.patience = patience
    self.minDelta = minDelta
    self.restoreBestWeights = restoreBestWeights
  }
}

/// Settings that cannot work, found before training starts.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  case invalidOption(String)
  case incompatibleLoss(loss: Loss, output: Activation)
  /// Training diverged on batch `batch` (1-based) of epoch `epoch`: its cost
  /// was not finite or had grown beyond 10⁴·(`initialCost` + 1); or, with
  /// `batch` nil, a parameter was not finite (`cost` is that value) by the
  /// end of the epoch. The usual causes: a learning rate (or L2 λ) too large,
  /// or inputs that were not scaled.
  case diverged(epoch: Int, batch: Int?, cost: Double, initialCost: Double)
  /// The examples could not be read as they were (``ExampleSource/problem``
  /// says why: a file cut short while training read it).
  case examplesUnavailable(String)

  public var description: String {
    switch self {
    case .invalidOption(let s): return s
    case .incompatibleLoss(let l, let o):
      let why: String
      switch l {
      case .binaryCrossEntropy: why = "binary cross-entropy needs a sigmoid output"
      case .categoricalCrossEntropy: why = "categorical cross-entropy needs softmax"
      case .meanSquaredError, .huber: why = "softmax needs categorical cross-entropy"
      }
      return "loss \(l.rawValue) does not go with a \(o.displayName) output (\(why))"
    case .examplesUnavailable(let why): return why
    case .diverged(let epoch, let batch, let cost, let initialCost):
      let place = batch.map { "batch \($0) of epoch \(epoch)" } ?? "epoch \(epoch)"
      let what =
        batch == nil
        ? "a parameter became \(cost)" : "the cost became \(cost) (it started at \(initialCost))"
      return
        "training diverged: \(what) at \(place); lower the learning rate (or the L2 λ), and check that the inputs are scaled"
    }
  }
}

/// What the progress callback sees after each epoch.
public struct TrainingProgress: Sendable {
  public var epoch: Int
  public var epochs: Int
  /// The mean cost over the epoch's batches (measured before each batch's update).
  public var cost: Double
  /// The cost on the validation data after the epoch (data term only, no
  /// L2 penalty; weighted when the validation data has weights); nil without
  /// validation data.
  public var validationCost: Double? = nil
  /// The share of validation examples classified right (sigmoid output: p ≥ 0.5;
  /// softmax: the largest probability); nil without validation data or for
  /// another output.
  public var validationAccuracy: Double? = nil
  /// Whether this epoch's validation cost is the best so far (by more than
  /// the early-stopping ``EarlyStopping/minDelta`` when early stopping is on).
  public var improved: Bool = false
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
  /// Whether training ended before its last epoch (the callback or early stopping).
  public var stoppedEarly = false
  /// `(epoch, cost)` on the validation data, at the same epochs as ``costs``.
  public var validationCosts: [(epoch: Int, cost: Double)] = []
  /// `(epoch, accuracy)` on the validation data, at the same epochs, when it has one.
  public var validationAccuracies: [(epoch: Int, accuracy: Double)] = []
  /// The epoch with the lowest validation cost, and that cost.
  public var bestEpoch: Int?
  public var bestValidationCost: Double?
  /// Whether the network was set back to the weights of ``bestEpoch``.
  public var restoredBestWeights = false
  /// Whether early stopping (not the callback) ended training.
  public var stoppedByEarlyStopping = false
  /// The last recorded cost.
  public var finalCost: Double? { costs.last?.cost }

  mutating func record(_ p: TrainingProgress) {
    costs.append((p.epoch, p.cost))
    if let c = p.validationCost { validationCosts.append((p.epoch, c)) }
    if let a = p.validationAccuracy { validationAccuracies.append((p.epoch, a)) }
  }
}
