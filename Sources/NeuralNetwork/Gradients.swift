import LinearAlgebra

/// One matrix per weight and per bias of a network, layers 1...L: the
/// gradients `dW1…dWL`, `db1…dbL` of a backward pass, or an optimiser's
/// moments (the course's `v["dW1"]`, `s["db2"]` have the same shapes and names).
///
///     let g = network.gradients(x: x, y: y)
///     g.dW(1)          // n_1 × n_x
///     g["db2"]         // by the course's name
///     g.named          // ["dW1": …, "db1": …, …] (plus "dZl"/"dAl" when kept)
public struct Gradients<Scalar: BLASScalar>: Equatable, Sendable {
  /// `dW1…dWL`, stored at indices 0..<L; use ``dW(_:)`` for 1-based access.
  public var weights: [Matrix<Scalar>]
  /// `db1…dbL`, stored at indices 0..<L; use ``db(_:)`` for 1-based access.
  public var biases: [Matrix<Scalar>]
  /// The backward pass's intermediate results when asked for, by name:
  /// `dZ1…dZL` and `dA0…dA(L−1)` (the gradients of each layer's
  /// pre-activation and of its input). Empty otherwise.
  public var intermediates: [String: Matrix<Scalar>] = [:]

  /// Gradients from lists of L matrices each; traps unless the counts agree.
  public init(weights: [Matrix<Scalar>], biases: [Matrix<Scalar>]) {
    if weights.count != biases.count {
      shapeFailure(
        "Gradients: \(weights.count) weight gradients but \(biases.count) bias gradients; one each per layer")
    }
    self.weights = weights
    self.biases = biases
  }

  /// Zeros shaped like the parameters of `network` (an optimiser's initial state).
  public init(zerosLike network: Network<Scalar>) {
    self.init(
      weights: network.layers.map { .zeros($0.units, $0.inputs) }, biases: network.layers.map { .zeros($0.units, 1) })
  }

  /// L, the number of layers.
  public var depth: Int { weights.count }

  /// `dWl` for l in 1...L.
  public func dW(_ l: Int) -> Matrix<Scalar> {
    _checkLayer(l)
    return weights[l - 1]
  }

  /// `dbl` for l in 1...L.
  public func db(_ l: Int) -> Matrix<Scalar> {
    _checkLayer(l)
    return biases[l - 1]
  }

  func _checkLayer(_ l: Int) {
    if l < 1 || l > depth {
      shapeFailure("Gradients: layer \(l) does not exist; layers are numbered 1...\(depth) (dW1..dW\(depth))")
    }
  }

  /// A matrix by its course name: `dW1`, `db2`, `dZ3`, `dA0` (also `W1`, `b2`
  /// for the parameter it belongs to); nil for a name that is not there.
  public subscript(name: String) -> Matrix<Scalar>? {
    var key = Substring(name)
    if key.hasPrefix("dW") || key.hasPrefix("db") { key = key.dropFirst() }
    if let kind = key.first, kind == "W" || kind == "b", let l = Int(key.dropFirst()), l >= 1, l <= depth {
      return kind == "W" ? weights[l - 1] : biases[l - 1]
    }
    return intermediates[name]
  }

  /// Every matrix by its course name: `dW1`, `db1`, …, and the intermediates.
  public var named: [String: Matrix<Scalar>] {
    var all = intermediates
    for l in 1...Swift.max(depth, 1) where l <= depth {
      all["dW\(l)"] = weights[l - 1]
      all["db\(l)"] = biases[l - 1]
    }
    return all
  }

  /// Traps unless these matrices have the shapes of `network`'s parameters.
  @usableFromInline
  func _checkShapes(like network: Network<Scalar>, _ operation: String) {
    if depth != network.depth {
      shapeFailure("\(operation): \(depth) layers of gradients or state for a network of \(network.depth) layers")
    }
    for (l, layer) in network.layers.enumerated() {
      if weights[l].shape != layer.weights.shape || biases[l].shape != layer.bias.shape {
        shapeFailure(
          "\(operation): layer \(l + 1) needs \(layer.weights.shape) and \(layer.bias.shape) (as W\(l + 1), b\(l + 1)); found \(weights[l].shape) and \(biases[l].shape)"
        )
      }
    }
  }
}
