import LinearAlgebra

// One contiguous buffer for all the parameters or gradients of a network, in
// the order W1, b1, W2, b2, …, WL, bL, each matrix column-major: what a
// collective operation (an MPI allreduce or broadcast) sends in one call.

extension Gradients {
  /// The number of elements of all the matrices together (a network's ``Network/parameterCount``).
  public var packedCount: Int { zip(weights, biases).reduce(0) { $0 + $1.0.count + $1.1.count } }

  /// Writes `scale ·` every element into `buffer` in the order dW1, db1, …,
  /// dWL, dbL; traps unless `buffer` has room for ``packedCount`` elements.
  public func pack(into buffer: UnsafeMutableBufferPointer<Scalar>, scale: Scalar = 1) {
    _checkPackedCount(buffer.count, "Gradients.pack(into:)")
    var offset = 0
    for (w, b) in zip(weights, biases) {
      for m in [w, b] {
        m.withUnsafeBufferPointer { source in
          let target = buffer.baseAddress! + offset
          if scale == 1 {
            target.update(from: source.baseAddress!, count: source.count)
          } else {
            for k in 0..<source.count { target[k] = scale * source[k] }
          }
        }
        offset += m.count
      }
    }
  }

  /// Reads every element back from a buffer written by ``pack(into:scale:)``
  /// (and, say, summed over processes since); traps unless the counts agree.
  public mutating func unpack(from buffer: UnsafeBufferPointer<Scalar>) {
    _checkPackedCount(buffer.count, "Gradients.unpack(from:)")
    var offset = 0
    for l in 0..<depth {
      Self._read(&weights[l], buffer, &offset)
      Self._read(&biases[l], buffer, &offset)
    }
  }

  static func _read(_ m: inout Matrix<Scalar>, _ buffer: UnsafeBufferPointer<Scalar>, _ offset: inout Int) {
    let count = m.count
    let from = offset
    m.withUnsafeMutableBufferPointer { target in
      target.baseAddress!.update(from: buffer.baseAddress! + from, count: count)
    }
    offset += count
  }

  func _checkPackedCount(_ count: Int, _ operation: String) {
    if count < packedCount {
      shapeFailure("\(operation): the buffer holds \(count) elements; the gradients need \(packedCount)")
    }
  }
}

extension Network {
  /// Writes every parameter into `buffer` in the order W1, b1, …, WL, bL;
  /// traps unless it has room for ``parameterCount`` elements.
  public func packParameters(into buffer: UnsafeMutableBufferPointer<Scalar>) {
    Gradients(weights: layers.map(\.weights), biases: layers.map(\.bias)).pack(into: buffer)
  }

  /// Sets every parameter from a buffer written by ``packParameters(into:)``
  /// (on another process, say); traps unless the counts agree.
  public mutating func unpackParameters(from buffer: UnsafeBufferPointer<Scalar>) {
    if buffer.count < parameterCount {
      shapeFailure(
        "Network.unpackParameters(from:): the buffer holds \(buffer.count) elements; the network has \(parameterCount) parameters"
      )
    }
    var offset = 0
    for l in 0..<depth {
      Gradients._read(&layers[l].weights, buffer, &offset)
      Gradients._read(&layers[l].bias, buffer, &offset)
    }
  }
}
