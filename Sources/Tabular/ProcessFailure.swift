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
      var own = group.rank == 0 ? error : TableError("process \(group.rank) of \(group.size): " + error.template)
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
/// the same data. Each contributes its example count, checksums of its labels
/// and encoded values (one per block of examples, so that the first block
/// that differs can be named) and of its fitted encoding to one allreduce;
/// any difference from process 0 stops every process, process 0 naming the
/// first process that differs, in what, and where.
enum ReplicaCheck {
  /// A part of what the processes compare: its name, and its value or one value per block of examples.
  struct Part {
    var name: String
    var values: [UInt64]
    var perBlock = false
  }

  /// The examples are compared in this many blocks.
  static let blocks = 16

  /// The examples of block `k` of `count`.
  static func block(_ k: Int, of count: Int) -> Range<Int> { (k * count / blocks)..<((k + 1) * count / blocks) }

  static func agree(_ group: any ProcessGroup, _ parts: [Part], file: String) throws(TableError) {
    let n = group.size
    guard n > 1 else { return }
    // Each value as two exact 32-bit halves, then the file's name a byte a
    // slot (to name the file of a process that differs), in this process's slots.
    let values = parts.flatMap(\.values)
    let nameBytes = 512
    let width = values.count * 2 + nameBytes
    var slots = [Double](repeating: 0, count: n * width)
    for (k, value) in values.enumerated() {
      slots[group.rank * width + 2 * k] = Double(value >> 32)
      slots[group.rank * width + 2 * k + 1] = Double(value & 0xFFFF_FFFF)
    }
    for (k, byte) in file.utf8.prefix(nameBytes).enumerated() {
      slots[group.rank * width + values.count * 2 + k] = Double(byte)
    }
    slots.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    func fileName(of rank: Int) -> String {
      let start = rank * width + values.count * 2
      let bytes = slots[start..<(start + nameBytes)].prefix { $0 != 0 }.map { UInt8($0) }
      return String(decoding: bytes, as: UTF8.self)
    }
    func value(_ rank: Int, _ k: Int) -> UInt64 {
      UInt64(slots[rank * width + 2 * k]) << 32 | UInt64(slots[rank * width + 2 * k + 1])
    }
    // The example count, when it is compared (the first part, "examples").
    let count = parts.first?.name == "examples" ? Int(clamping: values[0]) : 0
    for rank in 1..<n {
      var offset = 0
      for part in parts {
        defer { offset += part.values.count }
        guard let k = part.values.indices.first(where: { value(rank, offset + $0) != value(0, offset + $0) }) else {
          continue
        }
        let theirs = fileName(of: rank)
        let read = theirs == file ? "\(file) differently" : "\(theirs) differently from process 0's \(file)"
        var what = "its \(part.name) differ from process 0's"
        if part.name == "examples" {
          what = "it has \(value(rank, offset)) examples, process 0 has \(value(0, offset))"
        } else if part.perBlock {
          let examples = block(k, of: count)
          what += ", first in examples \(examples.lowerBound + 1)–\(examples.upperBound) of \(count)"
        }
        var error = TableError(
          "the processes hold different data: process \(rank) of \(n) read \(read) (\(what)); every process must read the same data, the same file on every machine"
        )
        error.reportedByAnotherProcess = group.rank != 0
        error.fromAgreement = true
        throw error
      }
    }
  }
}
