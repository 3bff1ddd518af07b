import LinearAlgebra

/// What is wrong with parameters given to ``Network/init(parameters:activations:)`` or read from a file.
public enum NetworkError: Error, Equatable, CustomStringConvertible {
  case tooFewSizes([Int])
  case invalidSize(layer: Int, size: Int)
  case missingParameter(String)
  case unexpectedParameter(String)
  case wrongShape(name: String, expected: Shape, found: Shape)
  case nonFinite(name: String, row: Int, column: Int)
  case activationCount(expected: Int, found: Int)
  case softmaxNotLast(layer: Int)
  case softmaxNeedsTwoUnits(found: Int)

  public var description: String {
    switch self {
    case .tooFewSizes(let s):
      return "a network needs at least an input size and an output size, got \(s)"
    case .invalidSize(let l, let s):
      return "layer \(l) must have at least 1 unit, got \(s)"
    case .missingParameter(let n): return "parameter \(n) is missing"
    case .unexpectedParameter(let n): return "parameter \(n) does not belong to this network"
    case .wrongShape(let n, let e, let f): return "\(n) must be \(e), found \(f)"
    case .nonFinite(let n, let r, let c): return "\(n)[\(r), \(c)] is not a finite number"
    case .activationCount(let e, let f): return "expected \(e) activations (one per layer 1...L), got \(f)"
    case .softmaxNotLast(let l): return "softmax is only allowed on the output layer, found on layer \(l)"
    case .softmaxNeedsTwoUnits(let f): return "a softmax output needs at least 2 units, found \(f)"
    }
  }
}

/// The classic L-layer fully connected network: examples are columns.
///
/// Layers are numbered 1...L everywhere, as in the course: `W1`..`WL`,
/// `b1`..`bL`, `Wl` is n_l × n_{l-1}, `bl` is n_l × 1, `A0 = X` is n_x × m.
///
///     var net = Network<Float>(sizes: [30, 16, 8, 1], seed: 1)
///     print(net)  // Network [30 → 16 ReLU → 8 ReLU → 1 sigmoid]
///     let history = try net.train(x: x, y: y, options: .init(epochs: 500))
///
/// A `Network` is a value. A `var` network is trained in place (its parameters
/// are stored properties that the optimiser mutates); a `let` network cannot be
/// trained at all: `train` is `mutating`, so the compiler rejects
/// `let net = ...; net.train(...)`. This is the Swift form of TensorFlow's
/// Variable/Tensor split, caught at compile time instead of as a runtime TypeError.
public struct Network<Scalar: BLASScalar>: Equatable, Sendable, CustomStringConvertible {
  /// Layers 1...L, stored at indices 0..<L; use ``layer(_:)`` for 1-based access.
  public internal(set) var layers: [Layer<Scalar>]

  /// `[n_x, n_1, ..., n_L]`.
  public var sizes: [Int] { [layers[0].inputs] + layers.map(\.units) }
  /// L, the number of layers with parameters.
  public var depth: Int { layers.count }
  /// n_x.
  public var inputSize: Int { layers[0].inputs }
  /// n_L.
  public var outputSize: Int { layers[layers.count - 1].units }
  /// The output layer's activation.
  public var outputActivation: Activation { layers[layers.count - 1].activation }

  /// This network with its output layer's activation replaced, the weights
  /// shared (not copied): with `.identity`, its predictions are the output
  /// layer's pre-activations (a sigmoid's log-odds).
  public func replacingOutputActivation(_ activation: Activation) -> Network {
    var copy = self
    copy.layers[copy.layers.count - 1].activation = activation
    return copy
  }

  /// A network with freshly initialised weights and zero biases.
  ///
  /// - Parameters:
  ///   - sizes: `[n_x, n_1, ..., n_L]`, at least two entries, each ≥ 1.
  ///   - hiddenActivation: layers 1...L−1 (default ReLU).
  ///   - outputActivation: layer L (default sigmoid; softmax for several classes).
  ///   - initializer: default He.
  ///   - seed: the weights depend only on this.
  ///
  /// Traps on invalid sizes (a programmer error); use
  /// ``validate(sizes:hiddenActivation:outputActivation:)`` first for sizes that come from a user.
  public init(
    sizes: [Int], hiddenActivation: Activation = .relu, outputActivation: Activation = .sigmoid,
    initializer: Initializer = .he, seed: UInt64 = 1
  ) {
    var g = Xoshiro256StarStar(seed: seed)
    self.init(
      sizes: sizes, hiddenActivation: hiddenActivation, outputActivation: outputActivation, initializer: initializer,
      using: &g)
  }

  /// A network whose weights are drawn from `generator` (any
  /// `RandomNumberGenerator`), layer 1 first, by `initializer`; biases zero.
  public init(
    sizes: [Int], hiddenActivation: Activation = .relu, outputActivation: Activation = .sigmoid,
    initializer: Initializer = .he, using generator: inout some RandomNumberGenerator
  ) {
    Self._validateOrTrap(sizes, hiddenActivation, outputActivation)
    layers = (1..<sizes.count).map { l in
      Layer(
        weights: initializer.weights(fanOut: sizes[l], fanIn: sizes[l - 1], using: &generator),
        bias: .zeros(sizes[l], 1),
        activation: l == sizes.count - 1 ? outputActivation : hiddenActivation)
    }
  }

  /// A network whose weights are `initializer`'s scaling of standard-normal
  /// draws made elsewhere (the course's `np.random.randn(n_l, n_{l-1})`, one
  /// matrix per layer 1...L); biases zero. With `.reference` this is the
  /// course's `initialize_parameters_deep`.
  ///
  /// Traps unless there is one n_l × n_{l-1} draw matrix per layer.
  public init(
    sizes: [Int], hiddenActivation: Activation = .relu, outputActivation: Activation = .sigmoid,
    initializer: Initializer = .he, standardNormalDraws draws: [Matrix<Scalar>]
  ) {
    Self._validateOrTrap(sizes, hiddenActivation, outputActivation)
    if draws.count != sizes.count - 1 {
      shapeFailure("Network(standardNormalDraws:): \(draws.count) draw matrices for \(sizes.count - 1) layers")
    }
    layers = (1..<sizes.count).map { l in
      if draws[l - 1].shape != Shape(sizes[l], sizes[l - 1]) {
        shapeFailure(
          "Network(standardNormalDraws:): the draws for W\(l) must be \(sizes[l])×\(sizes[l - 1]); they are \(draws[l - 1].shape)"
        )
      }
      return Layer(
        weights: initializer.weights(fromStandardNormal: draws[l - 1]), bias: .zeros(sizes[l], 1),
        activation: l == sizes.count - 1 ? outputActivation : hiddenActivation)
    }
  }

  static func _validateOrTrap(_ sizes: [Int], _ hidden: Activation, _ output: Activation) {
    do {
      try Network.validate(sizes: sizes, hiddenActivation: hidden, outputActivation: output)
    } catch {
      shapeFailure("Network(sizes:): \(error)")
    }
  }

  /// Checks sizes and activations that come from a user.
  public static func validate(
    sizes: [Int], hiddenActivation: Activation = .relu, outputActivation: Activation = .sigmoid
  ) throws(NetworkError) {
    guard sizes.count >= 2 else { throw .tooFewSizes(sizes) }
    for (l, s) in sizes.enumerated() where s < 1 { throw .invalidSize(layer: l, size: s) }
    if hiddenActivation == .softmax && sizes.count > 2 { throw .softmaxNotLast(layer: 1) }
    if outputActivation == .softmax && sizes[sizes.count - 1] < 2 {
      throw .softmaxNeedsTwoUnits(found: sizes[sizes.count - 1])
    }
  }

  /// A network from named parameters `W1`..`WL`, `b1`..`bL` and one activation per layer.
  ///
  /// - Throws: ``NetworkError`` for a missing or extra parameter, a wrong
  ///   shape (Wl must be n_l × n_{l-1}, bl n_l × 1, consecutive layers must
  ///   chain), a non-finite value, or a misplaced softmax.
  public init(parameters: [String: Matrix<Scalar>], activations: [Activation]) throws(NetworkError) {
    let depth = activations.count
    guard depth >= 1 else { throw .tooFewSizes([]) }
    for name in parameters.keys {
      // W or b, then a layer number written as "\(l)" (no sign, no leading zero) in 1...L:
      // constant work per name, so a deep model loads in linear time.
      let number = name.dropFirst()
      let valid =
        (name.first == "W" || name.first == "b")
        && Int(number).map { (1...depth).contains($0) && "\($0)" == number }
          == true
      if !valid { throw .unexpectedParameter(name) }
    }
    var layers: [Layer<Scalar>] = []
    for l in 1...depth {
      guard let w = parameters["W\(l)"] else { throw .missingParameter("W\(l)") }
      guard let b = parameters["b\(l)"] else { throw .missingParameter("b\(l)") }
      if l > 1, w.columns != layers[l - 2].units {
        throw .wrongShape(name: "W\(l)", expected: Shape(w.rows, layers[l - 2].units), found: w.shape)
      }
      if w.rows < 1 || w.columns < 1 { throw .invalidSize(layer: l, size: w.rows) }
      if b.shape != Shape(w.rows, 1) { throw .wrongShape(name: "b\(l)", expected: Shape(w.rows, 1), found: b.shape) }
      for (name, m) in [("W\(l)", w), ("b\(l)", b)] {
        if let k = m.elements.firstIndex(where: { !$0.isFinite }) {
          throw .nonFinite(name: name, row: k % m.rows, column: k / m.rows)
        }
      }
      if activations[l - 1] == .softmax && l != depth { throw .softmaxNotLast(layer: l) }
      layers.append(Layer(weights: w, bias: b, activation: activations[l - 1]))
    }
    if activations[depth - 1] == .softmax && layers[depth - 1].units < 2 {
      throw .softmaxNeedsTwoUnits(found: layers[depth - 1].units)
    }
    self.layers = layers
  }

  /// Layer `l` for l in 1...L; traps outside that range, naming it.
  public func layer(_ l: Int) -> Layer<Scalar> {
    _checkLayer(l)
    return layers[l - 1]
  }

  /// `Wl` for l in 1...L.
  public func weights(_ l: Int) -> Matrix<Scalar> { layer(l).weights }
  /// `bl` for l in 1...L.
  public func bias(_ l: Int) -> Matrix<Scalar> { layer(l).bias }

  /// Replaces `Wl` (same shape) — for tests, pruning, hand-set networks.
  public mutating func setWeights(_ l: Int, _ w: Matrix<Scalar>) {
    _checkLayer(l)
    if w.shape != layers[l - 1].weights.shape {
      shapeFailure("setWeights: W\(l) must stay \(layers[l - 1].weights.shape), got \(w.shape)")
    }
    layers[l - 1].weights = w
  }

  /// Replaces `bl` (same shape).
  public mutating func setBias(_ l: Int, _ b: Matrix<Scalar>) {
    _checkLayer(l)
    if b.shape != layers[l - 1].bias.shape {
      shapeFailure("setBias: b\(l) must stay \(layers[l - 1].bias.shape), got \(b.shape)")
    }
    layers[l - 1].bias = b
  }

  func _checkLayer(_ l: Int) {
    if l < 1 || l > layers.count {
      shapeFailure("layer \(l) does not exist: layers are numbered 1...\(layers.count) (W1..W\(layers.count))")
    }
  }

  /// The parameters by name: `W1`, `b1`, ..., `WL`, `bL`.
  public var parameters: [String: Matrix<Scalar>] {
    var p: [String: Matrix<Scalar>] = [:]
    for (i, layer) in layers.enumerated() {
      p["W\(i + 1)"] = layer.weights
      p["b\(i + 1)"] = layer.bias
    }
    return p
  }

  /// Parameter names in order: `["W1", "b1", ..., "WL", "bL"]`.
  public var parameterNames: [String] { (1...depth).flatMap { ["W\($0)", "b\($0)"] } }

  /// The first parameter value that is NaN or ±∞ (layer 1 first), or nil.
  public var firstNonFiniteParameter: Double? {
    for layer in layers {
      for m in [layer.weights, layer.bias] {
        if let bad = m.withUnsafeBufferPointer({ p in p.first { !$0.isFinite } }) { return Double(bad) }
      }
    }
    return nil
  }

  /// Total number of trainable scalars.
  public var parameterCount: Int { layers.reduce(0) { $0 + $1.weights.count + $1.bias.count } }

  /// `Network [30 → 16 ReLU → 8 ReLU → 1 sigmoid]`.
  public var description: String {
    "Network ["
      + ([String(inputSize)] + layers.map { "\($0.units) \($0.activation.displayName)" }).joined(separator: " → ")
      + "]"
  }
}
