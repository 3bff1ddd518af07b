import LinearAlgebra

/// The bookkeeping of ``Trainer/fit(x:y:weights:validation:progress:checkpoint:)``
/// around a training loop of your own: the divergence checks, the history,
/// the best validation epoch, early stopping and the progress callback.
///
///     var monitor = TrainingMonitor<Float>(options: options)
///     for epoch in 1...options.epochs {
///       var total = 0.0
///       for (b, batch) in batches.enumerated() {
///         let cost = Double(trainer.step(x: batch.x, y: batch.y))
///         try monitor.checkBatch(cost: cost, epoch: epoch, batch: b + 1)
///         total += cost * Double(batch.x.columns)
///       }
///       let stop = try monitor.endEpoch(
///         epoch, cost: total / Double(m), network: trainer.network, validation: trainer.evaluate(v))
///       if stop { break }
///     }
///     let history = monitor.finish(restoringInto: &network)
///
/// A data-parallel loop gives it the costs every process agreed on, so that
/// every process takes the same decisions.
public struct TrainingMonitor<Scalar: BLASScalar> {
  public let options: TrainingOptions
  /// The history so far.
  public private(set) var history = TrainingHistory()
  /// The cost of the first batch, which the divergence check compares with.
  public private(set) var initialCost: Double?
  var best: (epoch: Int, cost: Double, network: Network<Scalar>?)?
  var epochsWithoutImprovement = 0

  public init(options: TrainingOptions) {
    self.options = options
  }

  /// Throws ``TrainingError/diverged(epoch:batch:cost:initialCost:)`` (when
  /// ``TrainingOptions/stopOnDivergence`` is on) if the cost of batch `batch`
  /// of `epoch` is not finite or exceeds 10⁴·(the first batch's cost + 1).
  public mutating func checkBatch(cost: Double, epoch: Int, batch: Int) throws(TrainingError) {
    let first = initialCost ?? cost
    initialCost = first
    if options.stopOnDivergence && (!cost.isFinite || cost > 1e4 * (Swift.abs(first) + 1)) {
      throw .diverged(epoch: epoch, batch: batch, cost: cost, initialCost: first)
    }
  }

  /// Records epoch `epoch` with its mean training `cost` and the network
  /// after it (and its `validation` cost and accuracy, when there is
  /// validation data); calls `progress` and, for a new best validation cost,
  /// `checkpoint`. Returns whether training should stop now. Throws when a
  /// parameter of `network` is not finite.
  public mutating func endEpoch(
    _ epoch: Int, cost: Double, network: Network<Scalar>, validation: (cost: Double, accuracy: Double?)? = nil,
    progress: ((TrainingProgress) -> TrainingControl)? = nil,
    checkpoint: ((Network<Scalar>, TrainingProgress) -> Void)? = nil
  ) throws(TrainingError) -> Bool {
    if options.stopOnDivergence, let bad = network.firstNonFiniteParameter {
      throw .diverged(epoch: epoch, batch: nil, cost: bad, initialCost: initialCost ?? .nan)
    }
    let stopping = options.earlyStopping
    history.epochsRun = epoch
    var report = TrainingProgress(epoch: epoch, epochs: options.epochs, cost: cost)
    if let validation {
      (report.validationCost, report.validationAccuracy) = validation
      let cost = validation.cost
      report.improved = best.map { cost < $0.cost - (stopping?.minDelta ?? 0) } ?? cost.isFinite
      if report.improved {
        best = (epoch, cost, stopping?.restoreBestWeights == true ? network : nil)
        epochsWithoutImprovement = 0
        checkpoint?(network, report)
      } else {
        epochsWithoutImprovement += 1
      }
    }
    let last = epoch == options.epochs
    let patienceRanOut = stopping.map { epochsWithoutImprovement >= $0.patience } ?? false
    let stopped = progress.map { $0(report) == .stop } ?? false
    if epoch % options.recordCostEvery == 0 || last || epoch == 1 || stopped || patienceRanOut {
      history.record(report)
    }
    if stopped || patienceRanOut {
      history.stoppedEarly = !last
      history.stoppedByEarlyStopping = patienceRanOut && !stopped && !last
      return true
    }
    return false
  }

  /// The history, with the best validation epoch; sets `network` back to
  /// that epoch's weights when early stopping asks for it and training went past it.
  public mutating func finish(restoringInto network: inout Network<Scalar>) -> TrainingHistory {
    if let best {
      history.bestEpoch = best.epoch
      history.bestValidationCost = best.cost
      if let kept = best.network, best.epoch != history.epochsRun {
        network = kept
        history.restoredBestWeights = true
      }
    }
    return history
  }
}
