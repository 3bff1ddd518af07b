import LinearAlgebra

/// What layer l's forward pass keeps for its backward pass (the course's
/// `cache`): its input `A_prev` (A_{l-1}, X for layer 1), `Z_l` and `A_l`.
/// Matrices are values that share storage, so a cache holds no copies.
public struct LayerCache<Scalar: BLASScalar>: Equatable, Sendable {
  /// A_{l-1}, n_{l-1} × m.
  public var aPrev: Matrix<Scalar>
  /// Z_l = W_l·A_{l-1} + b_l, n_l × m.
  public var z: Matrix<Scalar>
  /// A_l = g_l(Z_l), n_l × m.
  public var a: Matrix<Scalar>

  public init(aPrev: Matrix<Scalar>, z: Matrix<Scalar>, a: Matrix<Scalar>) {
    self.aPrev = aPrev
    self.z = z
    self.a = a
  }
}

extension Network {
  func _checkInput<X: MatrixOperand<Scalar>>(_ x: X, _ operation: String) {
    if x.rows != inputSize {
      shapeFailure(
        "\(operation): X must be n_x×m = \(inputSize)×m (features as rows, examples as columns); X is \(x.rows)×\(x.columns)"
          + (x.columns == inputSize ? " — it looks transposed" : ""))
    }
  }

  func _checkLabels<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(_ x: X, _ y: Y, _ operation: String) {
    _checkInput(x, operation)
    if y.rows != outputSize || y.columns != x.columns {
      shapeFailure(
        "\(operation): labels are \(y.rows)×\(y.columns) but the output is \(outputSize)×\(x.columns); Y must be \(outputSize)×m with one column per example of X"
      )
    }
  }

  /// The output activations `A_L` for inputs `x` (n_x × m): probabilities for
  /// a sigmoid or softmax output. Keeps no caches: the examples go through
  /// every layer a block at a time, the blocks over the cores (a
  /// ``Predictor``; keep one to reuse its buffers across calls). Traps unless
  /// `x` has n_x rows.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>)
  public func predict<X: MatrixOperand<Scalar>>(_ x: X) -> Matrix<Scalar> {
    _checkInput(x, "predict")
    if x.columns <= Predictor<Scalar>.smallBatch { return Predictor.predictSmall(self, x) }
    return Predictor(self).predict(x)
  }

  /// A_L computed as before the ``Predictor`` (every layer over all examples,
  /// a fresh matrix per layer): for the benchmark's "before" column.
  package func _layerByLayerPredict<X: MatrixOperand<Scalar>>(_ x: X) -> Matrix<Scalar> {
    _output(x, "predict").a
  }

  /// Z_L and A_L without caches.
  func _output<X: MatrixOperand<Scalar>>(_ x: X, _ operation: String) -> (z: Matrix<Scalar>, a: Matrix<Scalar>) {
    _checkInput(x, operation)
    var z = Matrix<Scalar>.zeros(0, 0)
    var a = Matrix<Scalar>.zeros(0, 0)
    for (l, layer) in layers.enumerated() {
      var zl = Matrix<Scalar>.zeros(layer.units, x.columns)
      var al = Matrix<Scalar>.zeros(layer.units, x.columns)
      if l == 0 { layer.forward(x, z: &zl, a: &al) } else { layer.forward(a, z: &zl, a: &al) }
      (z, a) = (zl, al)
    }
    return (z, a)
  }

  /// The predicted class of each example: for one output unit, 1 where the
  /// output is ≥ `threshold` (default 0.5) and 0 elsewhere; for several output
  /// units, the index of the largest.
  public func classify<X: MatrixOperand<Scalar>>(_ x: X, threshold: Scalar = 0.5) -> [Int] {
    let a = predict(x)
    if a.rows == 1 { return a.elements.map { $0 >= threshold ? 1 : 0 } }
    return a.argmaxOfEachColumn()
  }

  /// The forward pass with every layer's cache (the course's `L_model_forward`):
  /// returns `A_L` and `[cache_1, …, cache_L]` for ``backward(dA:caches:l2:keepIntermediates:)``.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func forward(_ x: Matrix<Scalar>) -> (output: Matrix<Scalar>, caches: [LayerCache<Scalar>]) {
    _checkInput(x, "forward")
    var caches: [LayerCache<Scalar>] = []
    caches.reserveCapacity(depth)
    var input = x
    for layer in layers {
      let (z, a) = layer.forward(input)
      caches.append(LayerCache(aPrev: input, z: z, a: a))
      input = a
    }
    return (input, caches)
  }

  /// The cost J on `x`, `y` (natural loss by default), plus the L2 term when
  /// `l2 > 0`: a forward pass and the loss, no backward pass. Cross-entropy of
  /// a sigmoid or softmax output is computed from the logits.
  ///
  /// Traps for a loss that does not fit the output activation (see ``Loss/fits(output:)``).
  /// `x` and `y` may be column views (a mini-batch of a larger matrix, `x.columns(0..<64)`):
  /// nothing is copied.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>, Y == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>, Y == Matrix<Double>)
  public func cost<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, loss: Loss? = nil, l2: Double = 0, weights: Matrix<Scalar>? = nil
  ) -> Scalar {
    let loss = _loss(loss, "cost")
    _checkLabels(x, y, "cost")
    let (z, a) = _output(x, "cost")
    var j = _dataCost(z: z, a: a, y: y, loss: loss, weights: weights)
    if l2 > 0 { j += Losses.l2Penalty(of: self, lambda: l2, examples: x.columns) }
    return j
  }

  /// The loss's value from the output layer's `z` and `a` (cross-entropy from the logits).
  func _dataCost<Y: MatrixOperand<Scalar>>(
    z: Matrix<Scalar>, a: Matrix<Scalar>, y: Y, loss: Loss, weights: Matrix<Scalar>?
  ) -> Scalar {
    var unused = Matrix<Scalar>.zeros(0, 0)
    switch loss {
    case .binaryCrossEntropy: return Losses._bce(z, y, weights, gradient: &unused, writeGradient: false)
    case .categoricalCrossEntropy: return Losses._cce(z, y, weights, gradient: &unused, writeGradient: false)
    case .meanSquaredError: return Losses._mse(a, y, weights, gradient: &unused, writeGradient: false)
    case .huber: return Losses._huber(a, y, weights, gradient: &unused, writeGradient: false)
    }
  }

  func _loss(_ loss: Loss?, _ operation: String) -> Loss {
    let loss = loss ?? Loss.natural(for: outputActivation)
    if !loss.fits(output: outputActivation) {
      shapeFailure("\(operation): \(TrainingError.incompatibleLoss(loss: loss, output: outputActivation))")
    }
    return loss
  }

  /// The gradients `dW1…dWL`, `db1…dbL` of the cost on `x`, `y` (forward with
  /// caches, the loss's output gradient, ``backward(dZ:caches:l2:keepIntermediates:)``).
  /// With `keepIntermediates`, ``Gradients/intermediates`` also holds `dZ1…dZL` and `dA0…dA(L−1)`.
  /// `x` and `y` may be column views: nothing is copied.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>, Y == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>, Y == Matrix<Double>)
  public func gradients<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, loss: Loss? = nil, l2: Double = 0, weights: Matrix<Scalar>? = nil,
    keepIntermediates: Bool = false
  ) -> Gradients<Scalar> {
    costAndGradients(x: x, y: y, loss: loss, l2: l2, weights: weights, keepIntermediates: keepIntermediates).gradients
  }

  /// The cost (as ``cost(x:y:loss:l2:weights:)``) and the gradients (as
  /// ``gradients(x:y:loss:l2:weights:keepIntermediates:)``) from one forward pass.
  /// `x` and `y` may be column views: nothing is copied.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>, Y == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>, Y == Matrix<Double>)
  public func costAndGradients<X: MatrixOperand<Scalar>, Y: MatrixOperand<Scalar>>(
    x: X, y: Y, loss: Loss? = nil, l2: Double = 0, weights: Matrix<Scalar>? = nil,
    keepIntermediates: Bool = false
  ) -> (cost: Scalar, gradients: Gradients<Scalar>) {
    let loss = _loss(loss, "gradients")
    _checkLabels(x, y, "gradients")
    // Layer 1's A_prev is x itself, read in place by the backward pass.
    var caches: [LayerCache<Scalar>] = []
    caches.reserveCapacity(depth)
    for l in 0..<depth {
      let (z, a) = l == 0 ? layers[0].forward(x) : layers[l].forward(caches[l - 1].a)
      caches.append(LayerCache(aPrev: l == 0 ? .zeros(0, 0) : caches[l - 1].a, z: z, a: a))
    }
    let top = caches[depth - 1]
    var dz = Matrix<Scalar>.zeros(outputSize, x.columns)
    var j = loss.outputGradient(z: top.z, a: top.a, labels: y, weights: weights, output: outputActivation, into: &dz)
    if l2 > 0 { j += Losses.l2Penalty(of: self, lambda: l2, examples: x.columns) }
    return (j, _backward(dZ: dz, caches: caches, input: x, l2: l2, keepIntermediates: keepIntermediates))
  }

  /// The backward pass from the gradient of the summed loss with respect to
  /// the output activations, `dA_L` (the course's `L_model_backward`, which
  /// starts from `dAL = −(Y/AL − (1 − Y)/(1 − AL))`), through the given caches.
  ///
  /// `dZ_L = dA_L ⊙ g'_L(Z_L)` (the Jacobian product for softmax), then as
  /// ``backward(dZ:caches:l2:keepIntermediates:)``.
  public func backward(
    dA: Matrix<Scalar>, caches: [LayerCache<Scalar>], l2: Double = 0, keepIntermediates: Bool = false
  ) -> Gradients<Scalar> {
    _checkCaches(caches)
    let top = caches[depth - 1]
    if dA.shape != top.z.shape {
      shapeFailure("backward: dA_L must have the shape of Z_L, \(top.z.shape); dA_L is \(dA.shape)")
    }
    var g = backward(
      dZ: outputActivation.backward(dA: dA, z: top.z), caches: caches, l2: l2, keepIntermediates: keepIntermediates)
    if keepIntermediates { g.intermediates["dA\(depth)"] = dA }
    return g
  }

  /// The backward pass from `dZ_L` (for a cross-entropy on logits, `A_L − Y`):
  /// for l = L…1, `dWl = (1/m)·dZl·A_{l-1}ᵀ (+ (λ/m)·Wl)`, `dbl = (1/m)·Σ dZl`,
  /// `dA_{l-1} = Wlᵀ·dZl`, `dZ_{l-1} = dA_{l-1} ⊙ g'_{l-1}(Z_{l-1})`.
  /// `dA0` (the gradient with respect to X) is computed only for `keepIntermediates`.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func backward(
    dZ: Matrix<Scalar>, caches: [LayerCache<Scalar>], l2: Double = 0, keepIntermediates: Bool = false
  ) -> Gradients<Scalar> {
    _checkCaches(caches)
    return _backward(dZ: dZ, caches: caches, input: caches[0].aPrev, l2: l2, keepIntermediates: keepIntermediates)
  }

  /// ``backward(dZ:caches:l2:keepIntermediates:)`` with layer 1's A_prev given
  /// apart (a column view, say), whatever caches[0] holds.
  func _backward<X: MatrixOperand<Scalar>>(
    dZ: Matrix<Scalar>, caches: [LayerCache<Scalar>], input: X, l2: Double, keepIntermediates: Bool
  ) -> Gradients<Scalar> {
    var g = Gradients(zerosLike: self)
    var dz = dZ
    let m = dZ.columns
    for l in stride(from: depth - 1, through: 0, by: -1) {
      let layer = layers[l]
      let cache = caches[l]
      if dz.shape != cache.z.shape {
        shapeFailure("backward: dZ\(l + 1) must have the shape of Z\(l + 1), \(cache.z.shape); it is \(dz.shape)")
      }
      if l == 0 {
        layer.parameterGradients(dZ: dz, aPrev: input, dW: &g.weights[l], db: &g.biases[l])
      } else {
        layer.parameterGradients(dZ: dz, aPrev: cache.aPrev, dW: &g.weights[l], db: &g.biases[l])
      }
      if l2 > 0 { Losses.addL2Gradient(weights: layer.weights, lambda: l2, examples: m, to: &g.weights[l]) }
      if keepIntermediates { g.intermediates["dZ\(l + 1)"] = dz }
      if l > 0 || keepIntermediates {
        var dAPrev = Matrix<Scalar>.zeros(layer.inputs, m)
        layer.inputGradient(dZ: dz, into: &dAPrev)
        if keepIntermediates { g.intermediates["dA\(l)"] = dAPrev }
        if l > 0 { dz = layers[l - 1].activation.backward(dA: dAPrev, z: caches[l - 1].z) }
      }
    }
    return g
  }

  func _checkCaches(_ caches: [LayerCache<Scalar>]) {
    if caches.count != depth {
      shapeFailure("backward: \(caches.count) caches for a network of \(depth) layers; forward(_:) gives one per layer")
    }
    for (l, c) in caches.enumerated() where c.aPrev.rows != layers[l].inputs || c.z.rows != layers[l].units {
      shapeFailure(
        "backward: cache \(l + 1) has A_prev \(c.aPrev.shape) and Z \(c.z.shape), but layer \(l + 1) is \(layers[l].inputs) → \(layers[l].units)"
      )
    }
  }
}
