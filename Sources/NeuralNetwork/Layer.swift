import LinearAlgebra

/// One fully connected (dense) layer `l`: `Z = W·A_prev + b`, `A = g(Z)`.
///
/// Examples are columns: `A_prev` is n_{l-1} × m, `W` is n_l × n_{l-1}, `b` is
/// n_l × 1 (added to every column), `Z` and `A` are n_l × m. Each step of the
/// course's `linear_forward`, `linear_activation_forward`, `linear_backward`
/// and `linear_activation_backward` is a method here, in two forms: one that
/// returns new matrices, and one that writes into matrices the caller keeps
/// (the trainer's hot path, which allocates nothing).
///
/// The backward pass follows the course's convention: `dZ` is the gradient of
/// the loss *summed* over the m examples (for sigmoid + cross-entropy,
/// `dZ = A − Y`), and the layer divides by m:
///
///     dW      = (1/m)·dZ·A_prevᵀ     (gemm, A_prev read transposed in place)
///     db      = (1/m)·Σ_columns dZ
///     dA_prev = Wᵀ·dZ                (gemm, W read transposed in place)
public struct Layer<Scalar: BLASScalar>: Equatable, Sendable {
  /// `Wl`, n_l × n_{l-1}.
  public var weights: Matrix<Scalar>
  /// `bl`, n_l × 1.
  public var bias: Matrix<Scalar>
  /// `g`.
  public var activation: Activation

  /// A layer from its parameters; traps unless `bias` is `weights.rows × 1`.
  public init(weights: Matrix<Scalar>, bias: Matrix<Scalar>, activation: Activation) {
    if bias.shape != Shape(weights.rows, 1) {
      shapeFailure("Layer: the bias must be W.rows×1 = \(weights.rows)×1; W is \(weights.shape), b is \(bias.shape)")
    }
    self.weights = weights
    self.bias = bias
    self.activation = activation
  }

  /// Units in this layer, n_l.
  public var units: Int { weights.rows }
  /// Inputs to this layer, n_{l-1}.
  public var inputs: Int { weights.columns }

  @usableFromInline
  func _checkInput<X: MatrixOperand<Scalar>>(_ aPrev: X, _ operation: String) {
    if aPrev.rows != inputs {
      shapeFailure(
        "\(operation): A_prev must be n_{l-1}×m = \(inputs)×m for W of \(weights.shape); A_prev is \(aPrev.rows)×\(aPrev.columns)"
      )
    }
  }

  // MARK: Forward

  /// `Z = W·A_prev + b` (the course's `linear_forward`).
  public func linear<X: MatrixOperand<Scalar>>(_ aPrev: X) -> Matrix<Scalar> {
    var z = Matrix<Scalar>.zeros(units, aPrev.columns)
    linear(aPrev, into: &z)
    return z
  }

  /// `Z = W·A_prev + b` into an existing n_l × m matrix: one gemm, one pass for the bias.
  @inlinable
  public func linear<X: MatrixOperand<Scalar>>(
    _ aPrev: X, into z: inout Matrix<Scalar>, path: ComputePath = .blas, splitSkinnyProducts: Bool = false
  ) {
    _checkInput(aPrev, "Layer.linear")
    ProductDispatch.product(weights, aPrev, into: &z, path: path, splitSkinnyProducts: splitSkinnyProducts)
    z.addColumnToEachColumn(bias)
  }

  /// `Z = W·A_prev + b` and `A = g(Z)` (the course's `linear_activation_forward`);
  /// `(z, a)` is what the backward pass needs besides `A_prev`.
  public func forward<X: MatrixOperand<Scalar>>(_ aPrev: X) -> (z: Matrix<Scalar>, a: Matrix<Scalar>) {
    var z = Matrix<Scalar>.zeros(units, aPrev.columns)
    var a = z
    forward(aPrev, z: &z, a: &a)
    return (z, a)
  }

  /// `Z = W·A_prev + b`, `A = g(Z)` into existing n_l × m matrices: one
  /// product whose output gets the bias and the activation as it is produced
  /// (block by block while in cache on libxsmm's path, in one pass after a
  /// BLAS call), keeping Z and writing A. Allocates nothing when `z` and `a`
  /// are not shared.
  ///
  /// - Parameters:
  ///   - aPrev: A_{l-1}, n_{l-1} × m (a matrix or a view of its columns).
  ///   - z: n_l × m; receives Z.
  ///   - a: n_l × m; receives A.
  ///   - path: BLAS or the naive loops.
  ///   - splitSkinnyProducts: on the BLAS path, run a large product with few
  ///     output rows as one single-threaded call per core (it briefly sets
  ///     OpenBLAS's process-wide thread count to 1; see
  ///     `gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)`).
  @inlinable
  public func forward<X: MatrixOperand<Scalar>>(
    _ aPrev: X, z: inout Matrix<Scalar>, a: inout Matrix<Scalar>, path: ComputePath = .blas,
    splitSkinnyProducts: Bool = false
  ) {
    _checkInput(aPrev, "Layer.forward")
    if a.shape != z.shape || z.rows != units || z.columns != aPrev.columns {
      shapeFailure(
        "Layer.forward: Z and A must be n_l×m = \(units)×\(aPrev.columns); Z is \(z.shape), A is \(a.shape)")
    }
    if z.count == 0 { return }
    let f = activation.function
    bias.withUnsafeBufferPointer { b in
      a.withUnsafeMutableBufferPointer { ap in
        ProductDispatch.product(
          weights, aPrev, into: &z, epilogue: _BiasAndActivation(function: f, bias: b, a: ap.baseAddress!), path: path,
          splitSkinnyProducts: splitSkinnyProducts)
      }
    }
  }

  // MARK: Backward

  /// `dW = (1/m)·dZ·A_prevᵀ`, `db = (1/m)·Σ_columns dZ`, `dA_prev = Wᵀ·dZ`
  /// (the course's `linear_backward`).
  public func backward<X: MatrixOperand<Scalar>>(dZ: Matrix<Scalar>, aPrev: X) -> (
    dAPrev: Matrix<Scalar>, dW: Matrix<Scalar>, db: Matrix<Scalar>
  ) {
    var dW = Matrix<Scalar>.zeros(units, inputs)
    var db = Matrix<Scalar>.zeros(units, 1)
    var dAPrev = Matrix<Scalar>.zeros(inputs, dZ.columns)
    parameterGradients(dZ: dZ, aPrev: aPrev, dW: &dW, db: &db)
    inputGradient(dZ: dZ, into: &dAPrev)
    return (dAPrev, dW, db)
  }

  /// `dZ = dA ⊙ g'(Z)`, then ``backward(dZ:aPrev:)`` (the course's
  /// `linear_activation_backward`); `z` is the Z this layer's forward pass
  /// returned. Returns `dZ` too, for checking a step by hand.
  public func backward<X: MatrixOperand<Scalar>>(dA: Matrix<Scalar>, z: Matrix<Scalar>, aPrev: X) -> (
    dAPrev: Matrix<Scalar>, dW: Matrix<Scalar>, db: Matrix<Scalar>, dZ: Matrix<Scalar>
  ) {
    let dZ = activation.backward(dA: dA, z: z)
    let (dAPrev, dW, db) = backward(dZ: dZ, aPrev: aPrev)
    return (dAPrev, dW, db, dZ)
  }

  /// `dW = (1/m)·dZ·A_prevᵀ` (one gemm with A_prev read transposed) and
  /// `db = (1/m)·Σ_columns dZ` (one pass), into existing matrices.
  @inlinable
  public func parameterGradients<X: MatrixOperand<Scalar>>(
    dZ: Matrix<Scalar>, aPrev: X, dW: inout Matrix<Scalar>, db: inout Matrix<Scalar>, path: ComputePath = .blas,
    splitSkinnyProducts: Bool = false
  ) {
    _checkInput(aPrev, "Layer.parameterGradients")
    if dZ.rows != units || dZ.columns != aPrev.columns || dZ.columns == 0 {
      shapeFailure(
        "Layer.parameterGradients: dZ must be n_l×m = \(units)×\(aPrev.columns) (m ≥ 1, as A_prev); dZ is \(dZ.shape), A_prev is \(aPrev.rows)×\(aPrev.columns)"
      )
    }
    let invM = 1 / Scalar(dZ.columns)
    ProductDispatch.product(
      alpha: invM, dZ, aPrev, transposeB: true, into: &dW, path: path, splitSkinnyProducts: splitSkinnyProducts)
    dZ.sumOfEachRow(into: &db, scale: invM)
  }

  /// `dZ_prev = (Wᵀ·dZ) ⊙ mask ⊙ g'(Z_prev)` into an existing n_{l-1} × m
  /// matrix: the gradient reaching the layer below (whose activation is
  /// `below` and pre-activation `zPrev`), from one product whose output is
  /// multiplied by the dropout mask (if any) and the derivative as it is
  /// produced. Equals ``inputGradient(dZ:into:path:splitSkinnyProducts:)``
  /// followed by `dAPrev *= mask` and `below.backward(&dAPrev, z: zPrev)`.
  @inlinable
  public func inputGradient(
    dZ: Matrix<Scalar>, into dZPrev: inout Matrix<Scalar>, below: Activation, zPrev: Matrix<Scalar>,
    mask: Matrix<Scalar>? = nil, path: ComputePath = .blas, splitSkinnyProducts: Bool = false
  ) {
    if zPrev.rows != inputs || zPrev.columns != dZ.columns || dZPrev.shape != zPrev.shape
      || (mask.map { $0.shape != zPrev.shape } ?? false)
    {
      shapeFailure(
        "Layer.inputGradient: dZ_prev, Z_prev (and a mask) must be n_{l-1}×m = \(inputs)×\(dZ.columns); dZ_prev is \(dZPrev.shape), Z_prev is \(zPrev.shape)\(mask.map { ", the mask is \($0.shape)" } ?? "")"
      )
    }
    if zPrev.count == 0 { return }
    let f = below.function
    zPrev.withUnsafeBufferPointer { zp in
      func run(_ mp: UnsafePointer<Scalar>?) {
        ProductDispatch.product(
          weights, dZ, transposeA: true, into: &dZPrev,
          epilogue: _ActivationDerivative(function: f, z: zp.baseAddress!, mask: mp), path: path,
          splitSkinnyProducts: splitSkinnyProducts)
      }
      if let mask { mask.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
    }
  }

  /// `dA_prev = Wᵀ·dZ` into an existing n_{l-1} × m matrix (one gemm, W read transposed).
  @inlinable
  public func inputGradient(
    dZ: Matrix<Scalar>, into dAPrev: inout Matrix<Scalar>, path: ComputePath = .blas,
    splitSkinnyProducts: Bool = false
  ) {
    ProductDispatch.product(
      weights, dZ, transposeA: true, into: &dAPrev, path: path, splitSkinnyProducts: splitSkinnyProducts)
  }
}
