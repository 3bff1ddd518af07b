import LinearAlgebra
import NeuralNetwork
import Tabular

/// Gathers the inputs of concurrent requests into one pass through the
/// network. A request's inputs are checked before they come here (each
/// request fails alone); here they wait while a pass is running, and every
/// waiting request goes into the next pass, up to `maxBatch` examples. With
/// `maxWait` above zero, an idle batcher also waits that long for company
/// before it starts a pass that is not full; at zero it starts at once, so a
/// lone request pays nothing and batches form only under load.
public actor MicroBatcher {
  public let model: TabularModel
  public let maxBatch: Int
  public let maxWait: Duration
  private var waiting: [Waiter] = []
  private var waitingExamples = 0
  private var running = false
  private var timer: Task<Void, Never>?
  /// Called with the examples and requests of each pass (for metrics).
  private let onPass: @Sendable (_ examples: Int, _ requests: Int) -> Void

  struct Waiter: Sendable {
    var inputs: Matrix<Float>
    var continuation: CheckedContinuation<Result<[TabularPrediction], RecordError>, Never>
  }

  public init(
    model: TabularModel, maxBatch: Int, maxWait: Duration,
    onPass: @escaping @Sendable (_ examples: Int, _ requests: Int) -> Void = { _, _ in }
  ) {
    self.model = model
    self.maxBatch = maxBatch
    self.maxWait = maxWait
    self.onPass = onPass
  }

  /// The predictions for `inputs` (from `TabularModel.inputs(for:unseenCategories:)`),
  /// computed in a pass with whatever other requests are waiting.
  public func predict(_ inputs: Matrix<Float>) async -> Result<[TabularPrediction], RecordError> {
    await withCheckedContinuation { continuation in
      waiting.append(Waiter(inputs: inputs, continuation: continuation))
      waitingExamples += inputs.columns
      schedule()
    }
  }

  /// Starts a pass when none runs and the batch is full, or no wait is asked
  /// for; otherwise sets a timer for `maxWait`.
  private func schedule() {
    guard !running, !waiting.isEmpty else { return }
    if waitingExamples >= maxBatch || maxWait == .zero {
      startPass()
    } else if timer == nil {
      let wait = maxWait
      timer = Task { [weak self] in
        try? await Task.sleep(for: wait)
        await self?.timerFired()
      }
    }
  }

  private func timerFired() {
    timer = nil
    if !running && !waiting.isEmpty { startPass() }
  }

  /// Takes waiting requests (whole ones, up to `maxBatch` examples, at least
  /// one) and predicts them off the actor, so that more can queue meanwhile.
  private func startPass() {
    timer?.cancel()
    timer = nil
    var taken: [Waiter] = []
    var examples = 0
    while let next = waiting.first, taken.isEmpty || examples + next.inputs.columns <= maxBatch {
      taken.append(waiting.removeFirst())
      examples += next.inputs.columns
    }
    waitingExamples -= examples
    running = true
    onPass(examples, taken.count)
    let model = self.model
    Task.detached { [taken] in
      let results = Self.run(model, taken.map(\.inputs))
      for (waiter, result) in zip(taken, results) { waiter.continuation.resume(returning: result) }
      await self.passDone()
    }
  }

  private func passDone() {
    running = false
    schedule()
  }

  /// One pass over the requests' inputs side by side; each request gets its
  /// own columns' predictions (or, if an output is not finite, its own error).
  static func run(_ model: TabularModel, _ inputs: [Matrix<Float>]) -> [Result<[TabularPrediction], RecordError>] {
    guard let first = inputs.first else { return [] }
    if inputs.count == 1 {
      return [Result { () throws(RecordError) in try model.predict(inputs: first) }]
    }
    let rows = first.rows
    var elements: [Float] = []
    elements.reserveCapacity(inputs.reduce(0) { $0 + $1.count })
    for x in inputs { elements += x.elements }
    let all = try! Matrix<Float>(rows: rows, columns: elements.count / rows, columnMajor: elements)
    let predictions: [TabularPrediction]
    do {
      predictions = try model.predict(inputs: all)
    } catch {
      // A non-finite output somewhere: find whose, request by request.
      return inputs.map { x in Result { () throws(RecordError) in try model.predict(inputs: x) } }
    }
    var results: [Result<[TabularPrediction], RecordError>] = []
    var start = 0
    for x in inputs {
      results.append(.success(Array(predictions[start..<(start + x.columns)])))
      start += x.columns
    }
    return results
  }
}
