import LinearAlgebra

/// What training a network of given sizes holds in memory, estimated before
/// anything is allocated, so that a network too large for the machine is
/// refused with a message instead of ending in an allocation failure.
///
/// Counted in bytes (as `Double`, so that absurd sizes cannot overflow):
/// the parameters, their gradients, the optimiser's state (one copy for
/// momentum and RMSProp, two for Adam and AdamW, none for gradient descent),
/// and one batch of activations (the input batch, `Z` and `A` of every layer,
/// two gradient buffers of the widest layer, and the dropout masks when
/// dropout is on). The training data itself is not counted.
public struct TrainingMemory: Equatable, Sendable, CustomStringConvertible {
  public var parameters: Double
  public var gradients: Double
  public var optimizerState: Double
  public var activations: Double

  public var total: Double { parameters + gradients + optimizerState + activations }

  /// - Parameters:
  ///   - sizes: `[n_x, n_1, …, n_L]`.
  ///   - batchSize: examples per step (the training-set size for full batch).
  ///   - optimizer: decides how many copies of the parameters its state holds.
  ///   - dropout: whether dropout masks are kept (one per hidden activation).
  ///   - scalarBytes: 4 for `Float`, 8 for `Double`.
  public init(
    sizes: [Int], batchSize: Int, optimizer: Optimizer, dropout: Bool = false, scalarBytes: Int = 4
  ) {
    let bytes = Double(scalarBytes)
    var weights = 0.0
    for l in sizes.indices.dropFirst() { weights += Double(sizes[l]) * Double(sizes[l - 1]) + Double(sizes[l]) }
    let units = sizes.dropFirst().reduce(0.0) { $0 + Double($1) }
    let widest = Double(sizes.dropFirst().max() ?? 0)
    let copies = Double(optimizer.kind.stateCopies)
    let batch = Double(Swift.max(batchSize, 1))
    parameters = weights * bytes
    gradients = weights * bytes
    optimizerState = copies * weights * bytes
    activations = (Double(sizes.first ?? 0) + 2 * units + 2 * widest + (dropout ? units : 0)) * batch * bytes
  }

  public var description: String {
    "\(Self.format(total)) (parameters \(Self.format(parameters)), gradients \(Self.format(gradients)), optimiser state \(Self.format(optimizerState)), activations \(Self.format(activations)))"
  }

  /// `512 B`, `3.2 MB`, `40.0 GB` (powers of 1000).
  public static func format(_ bytes: Double) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    var value = bytes
    var k = 0
    while value >= 1000 && k < units.count - 1 {
      value /= 1000
      k += 1
    }
    if k == 0 { return "\(Int(value)) B" }
    let tenths = (value * 10).rounded() / 10
    return tenths >= 1e6 ? "\(value) \(units[k])" : "\(tenths) \(units[k])"
  }
}
