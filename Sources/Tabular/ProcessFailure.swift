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

/// What every process of a group checks before training: that they all hold
/// the same data. Each contributes its example count and 64-bit hashes of its
/// labels, its encoded values and its fitted encoding to one allreduce; any
/// difference from process 0 stops every process, process 0 naming the first
/// process that differs and in what.
enum ReplicaCheck {
  /// A part of what the processes compare: its name and value.
  typealias Part = (name: String, value: UInt64)

  static func agree(_ group: any ProcessGroup, _ parts: [Part], file: String) throws(TableError) {
    let n = group.size
    guard n > 1 else { return }
    // Each value as two exact 32-bit halves, in this process's slots.
    let width = parts.count * 2
    var slots = [Double](repeating: 0, count: n * width)
    for (k, part) in parts.enumerated() {
      slots[group.rank * width + 2 * k] = Double(part.value >> 32)
      slots[group.rank * width + 2 * k + 1] = Double(part.value & 0xFFFF_FFFF)
    }
    slots.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    func value(_ rank: Int, _ k: Int) -> UInt64 {
      UInt64(slots[rank * width + 2 * k]) << 32 | UInt64(slots[rank * width + 2 * k + 1])
    }
    for rank in 1..<n {
      guard let k = parts.indices.first(where: { value(rank, $0) != value(0, $0) }) else { continue }
      let what =
        k == 0
        ? "it has \(value(rank, 0)) examples, process 0 has \(value(0, 0))"
        : "its \(parts[k].name) differ from process 0's"
      var error = TableError(
        "the processes hold different data: process \(rank) of \(n) read \(file) differently (\(what)); every process must read the same data, the same file on every machine"
      )
      error.reportedByAnotherProcess = group.rank != 0
      error.fromAgreement = true
      throw error
    }
  }

  /// FNV-1a over raw bytes, continuing from `hash`.
  static func hash(_ bytes: UnsafeRawBufferPointer, _ hash: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = hash
    for b in bytes {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  static func hash(_ strings: [String]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for s in strings {
      var s = s
      h = s.withUTF8 { hash(UnsafeRawBufferPointer($0), h) }
      h = withUnsafeBytes(of: UInt8(0)) { hash($0, h) }
    }
    return h
  }
}
