import LinearAlgebra

extension Network {
  /// The output activations `A_L` for inputs `x` (n_x × m): probabilities for
  /// a sigmoid or softmax output. Needs no caches: each layer's result
  /// replaces the previous one. Traps unless `x` has n_x rows.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>)
  public func predict<X: MatrixOperand<Scalar>>(_ x: X) -> Matrix<Scalar> {
    if x.rows != inputSize {
      shapeFailure(
        "predict: X must be n_x×m = \(inputSize)×m (features as rows, examples as columns); X is \(x.rows)×\(x.columns)"
          + (x.columns == inputSize ? " — it looks transposed" : ""))
    }
    var a = Matrix<Scalar>.zeros(0, 0)
    for (l, layer) in layers.enumerated() {
      var z = Matrix<Scalar>.zeros(layer.units, x.columns)
      if l == 0 { gemm(layer.weights, x, into: &z) } else { gemm(layer.weights, a, into: &z) }
      var next = Matrix<Scalar>.zeros(layer.units, x.columns)
      layer.activation.biasAndActivate(z: &z, bias: layer.bias, a: &next)
      a = next
    }
    return a
  }

  /// The predicted class of each example: for one output unit, 1 where the
  /// output is ≥ `threshold` (default 0.5) and 0 elsewhere; for several output
  /// units, the index of the largest.
  public func classify<X: MatrixOperand<Scalar>>(_ x: X, threshold: Scalar = 0.5) -> [Int] {
    let a = predict(x)
    if a.rows == 1 { return a.elements.map { $0 >= threshold ? 1 : 0 } }
    return a.argmaxOfEachColumn()
  }

  /// The cost of the network on `x`, `y` with the given loss (natural one by
  /// default), computed from the logits where the output allows it.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func cost(x: Matrix<Scalar>, y: Matrix<Scalar>, loss: Loss? = nil, l2: Double = 0) -> Scalar {
    let loss = loss ?? Loss.natural(for: outputActivation)
    guard var trainer = try? Trainer(network: self, options: TrainingOptions(l2: l2, loss: loss)) else {
      shapeFailure("cost: loss \(loss.rawValue) does not go with a \(outputActivation.displayName) output")
    }
    return trainer.costAndGradients(x: x, y: y).cost
  }
}
