import NeuralNetwork

/// Failures before training on one or more processes of a group, as every
/// process sees them after they have compared notes.
enum ProcessFailure {
  /// Runs `body` on every process, then tells each whether any failed (one
  /// allreduce of a flag per process); throws on every process if any did.
  static func agree<T>(_ group: any ProcessGroup, _ body: () throws(TableError) -> T) throws(TableError) -> T {
    var outcome: Result<T, TableError>
    do {
      outcome = .success(try body())
    } catch {
      outcome = .failure(error)
    }
    guard group.size > 1 else {
      switch outcome {
      case .success(let value): return value
      case .failure(let error): throw error
      }
    }
    var failed = [Double](repeating: 0, count: group.size)
    if case .failure = outcome { failed[group.rank] = 1 }
    failed.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    let failing = failed.indices.filter { failed[$0] > 0 }
    switch outcome {
    case .success(let value) where failing.isEmpty:
      return value
    case .failure(let error):
      var own = group.rank == 0 ? error : TableError("process \(group.rank) of \(group.size): \(error.description)")
      own.reportedByAnotherProcess = !(group.rank == 0 || failed[0] == 0)
      own.fromAgreement = true
      throw own
    case .success:
      let which = failing.map(String.init).joined(separator: ", ")
      let them =
        failing.count == 1 ? "process \(which) of \(group.size) has" : "processes \(which) of \(group.size) have"
      var error = TableError(
        "\(them) failed before training (\(failing.count == 1 ? "its" : "their") message says why); every process stops"
      )
      error.reportedByAnotherProcess = group.rank != 0
      error.fromAgreement = true
      throw error
    }
  }
}
