import Foundation
import LinearAlgebra

/// A function a layer applies to its pre-activation `Z = W·A + b`, with its
/// derivative: conform one type to it, in a file of its own under
/// `Activations/`, and list it in ``Activation/builtIn`` to add an activation
/// (and its name in the command line's list of choices). Nothing else in the
/// library switches over activations.
///
/// Both passes work on raw column-major buffers and allocate nothing. Mark
/// their implementations `@_specialize(where S == Float)` (and `Double`):
/// a layer calls them through an existential, and the run-time dispatch that
/// this attribute adds is what runs the specialised loop.
public protocol ActivationFunction: Sendable {
  /// The name in model files and messages (`relu`).
  static var name: String { get }
  /// The name printed in a network's architecture (`ReLU`).
  static var displayName: String { get }
  /// Other spellings a command line or a file may use (`linear` for identity),
  /// compared without case, `-`, `_` and spaces.
  static var aliases: [String] { get }
  /// Whether it couples the outputs of a column (softmax): then it has no
  /// elementwise derivative and only an output layer may have it.
  static var couplesColumns: Bool { get }
  /// Every column of `z` (rows × columns) gains `bias` (`z += b`) and `a`
  /// receives `g(z)`.
  func biasAndActivate<S: BLASScalar>(
    z: UnsafeMutableBufferPointer<S>, bias: UnsafeBufferPointer<S>, a: UnsafeMutableBufferPointer<S>, rows: Int,
    columns: Int)
  /// `dZ = dA ⊙ g'(Z)` in place: `gradient` holds dA on entry (rows × columns).
  func backward<S: BLASScalar>(_ gradient: UnsafeMutableBufferPointer<S>, z: UnsafeBufferPointer<S>, rows: Int)
}

extension ActivationFunction {
  public static var aliases: [String] { [] }
  public static var couplesColumns: Bool { false }
}

/// The activation of a layer: a value that names an ``ActivationFunction``.
///
///     relu(z)      = max(0, z)             (NaN stays NaN)
///     leakyReLU(z) = z if z > 0, else 0.01·z
///     sigmoid(z)   = 1 / (1 + e⁻ᶻ)
///     tanh(z)      = (eᶻ − e⁻ᶻ) / (eᶻ + e⁻ᶻ)
///     identity(z)  = z
///     softmax(z)ᵢ  = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z)   (per column, output layer only)
///
/// Derivatives are taken from Z, never from A, so they stay right when
/// dropout has scaled A. ReLU's derivative is 0 wherever Z ≤ 0 (including 0).
/// Two activations are equal when their names are.
public struct Activation: Hashable, Sendable, CustomStringConvertible {
  /// The function itself.
  public let function: any ActivationFunction

  public init(_ function: some ActivationFunction) { self.function = function }

  public static let relu = Activation(ReLU())
  public static let leakyReLU = Activation(LeakyReLU())
  public static let sigmoid = Activation(Sigmoid())
  public static let tanh = Activation(Tanh())
  public static let identity = Activation(Identity())
  public static let softmax = Activation(Softmax())

  /// The activations that model files and command lines may name.
  public static let builtIn: [Activation] = [.relu, .leakyReLU, .sigmoid, .tanh, .identity, .softmax]

  /// The slope of ``leakyReLU`` for negative inputs.
  public static let leakySlope = 0.01

  /// The name in model files (`relu`, `leakyReLU`, …).
  public var rawValue: String { type(of: function).name }
  public var description: String { rawValue }
  /// The name printed in a network's architecture: `ReLU`, `sigmoid`, ...
  public var displayName: String { type(of: function).displayName }
  /// Whether it couples the outputs of a column (softmax).
  public var couplesColumns: Bool { type(of: function).couplesColumns }

  /// The built-in activation named exactly `rawValue` (as a model file has it).
  public init?(rawValue: String) {
    guard let found = Self.builtIn.first(where: { $0.rawValue == rawValue }) else { return nil }
    self = found
  }

  /// Parses a command-line or file spelling (`relu`, `ReLU`, `leaky-relu`, `linear`, ...).
  public init?(name: String) {
    func plain(_ s: String) -> String {
      s.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
        .replacingOccurrences(of: " ", with: "")
    }
    let key = plain(name)
    guard
      let found = Self.builtIn.first(where: { a in
        ([a.rawValue] + type(of: a.function).aliases).contains { plain($0) == key }
      })
    else { return nil }
    self = found
  }

  public static func == (a: Activation, b: Activation) -> Bool { a.rawValue == b.rawValue }
  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// Every column of Z (r × c, column-major) gains the bias (`z += b`) and A
/// receives `max(z, slope·z)` (ReLU for slope 0, leaky ReLU), or `z` itself
/// when `identity`: eight rows at a time with SIMD, the remaining rows one by
/// one. Written without closures so that the specialised loop has no calls
/// in it (passing the activation as a closure left one call per eight
/// elements: a sixth of a wdbc training step).
@inlinable @inline(__always)
func _biasAndPositivePart<S: BLASScalar>(
  _ zp: UnsafeMutableBufferPointer<S>, _ ap: UnsafeMutableBufferPointer<S>, _ b: UnsafeBufferPointer<S>,
  rows r: Int, columns c: Int, slope: S, identity: Bool
) {
  let z = UnsafeMutableRawPointer(zp.baseAddress!)
  let a = UnsafeMutableRawPointer(ap.baseAddress!)
  let bias = UnsafeRawPointer(b.baseAddress!)
  let stride = MemoryLayout<S>.stride
  let vectorRows = r & ~7
  for j in 0..<c {
    let base = j &* r
    var i = 0
    while i < vectorRows {
      let offset = (base &+ i) &* stride
      let v =
        z.loadUnaligned(fromByteOffset: offset, as: SIMD8<S>.self)
        + bias.loadUnaligned(fromByteOffset: i &* stride, as: SIMD8<S>.self)
      z.storeBytes(of: v, toByteOffset: offset, as: SIMD8<S>.self)
      a.storeBytes(of: identity ? v : S.positivePart(v, slope: slope), toByteOffset: offset, as: SIMD8<S>.self)
      i &+= 8
    }
    while i < r {
      let v = zp[base &+ i] + b[i]
      zp[base &+ i] = v
      ap[base &+ i] = identity || !(v <= 0) ? v : slope * v
      i &+= 1
    }
  }
}

/// Every column of Z gains the bias and A receives `g(z)` element by element
/// (inlined into each activation's specialised pass, so `g` costs no call).
@inlinable @inline(__always)
func _biasAndMap<S: BLASScalar>(
  _ z: UnsafeMutableBufferPointer<S>, _ b: UnsafeBufferPointer<S>, _ a: UnsafeMutableBufferPointer<S>, rows r: Int,
  columns c: Int, _ g: (S) -> S
) {
  for j in 0..<c {
    let base = j &* r
    for i in 0..<r {
      let v = z[base &+ i] + b[i]
      z[base &+ i] = v
      a[base &+ i] = g(v)
    }
  }
}

@inlinable
func _sigmoid<S: BLASScalar>(_ z: S) -> S {
  // Two branches so that exp never overflows: for z < 0 use eᶻ/(1 + eᶻ).
  if z >= 0 {
    return 1 / (1 + S.exp(-z))
  } else {
    let e = S.exp(z)
    return e / (1 + e)
  }
}

extension Activation {
  /// `Z += b` (b added to every column) and `A = g(Z)` in one pass over the
  /// buffers: the forward kernel of a dense layer after its product.
  ///
  /// `z` is n×m and holds `W·A_prev` on entry, `Z` on return; `bias` is n×1;
  /// `a` is n×m and receives `g(Z)`. Softmax works per column. Allocates
  /// nothing. Traps unless the shapes fit, naming them.
  @inlinable
  public func biasAndActivate<S: BLASScalar>(z: inout Matrix<S>, bias: Matrix<S>, a: inout Matrix<S>) {
    if bias.rows != z.rows || bias.columns != 1 || a.shape != z.shape {
      shapeFailure(
        "\(rawValue) forward: bias must be Z.rows×1 and A the shape of Z; Z is \(z.shape), b is \(bias.shape), A is \(a.shape)"
      )
    }
    let (r, c) = (z.rows, z.columns)
    let f = function
    bias.withUnsafeBufferPointer { b in
      z.withUnsafeMutableBufferPointer { zp in
        a.withUnsafeMutableBufferPointer { ap in f.biasAndActivate(z: zp, bias: b, a: ap, rows: r, columns: c) }
      }
    }
  }

  /// `dZ = dA ⊙ g'(Z)`, in place: `gradient` holds dA on entry and dZ on return.
  ///
  /// The derivative is taken from Z (never from A, which dropout may have
  /// scaled). ReLU's derivative is 0 wherever Z ≤ 0, including Z = 0, and
  /// NaN in Z counts as not positive. Softmax couples the outputs of a column:
  /// its backward pass applies the Jacobian, `dZᵢ = aᵢ·(dAᵢ − Σⱼ aⱼ·dAⱼ)` with
  /// `a = softmax(z)` per column. Allocates nothing; traps unless the shapes are equal.
  @inlinable
  public func backward<S: BLASScalar>(_ gradient: inout Matrix<S>, z: Matrix<S>) {
    if gradient.shape != z.shape {
      shapeFailure("\(rawValue) backward: dA and Z must have the same shape; dA is \(gradient.shape), Z is \(z.shape)")
    }
    let rows = z.rows
    let f = function
    z.withUnsafeBufferPointer { zp in
      gradient.withUnsafeMutableBufferPointer { g in f.backward(g, z: zp, rows: rows) }
    }
  }

  /// `dZ = dA ⊙ g'(Z)` (the Jacobian product for softmax) as a new matrix:
  /// the course's `relu_backward(dA, cache)` / `sigmoid_backward(dA, cache)`.
  public func backward<S: BLASScalar>(dA: Matrix<S>, z: Matrix<S>) -> Matrix<S> {
    var g = dA
    backward(&g, z: z)
    return g
  }

  /// `g'(Z)` elementwise, as a new matrix: 1/0 for ReLU (0 at Z = 0), 1/0.01
  /// for leaky ReLU (0.01 at 0), σ(z)(1 − σ(z)), 1 − tanh²(z), 1.
  ///
  /// Softmax has no elementwise derivative (each output depends on the whole
  /// column), so this traps for softmax; use ``backward(dA:z:)``.
  public func derivative<S: BLASScalar>(_ z: Matrix<S>) -> Matrix<S> {
    if couplesColumns {
      shapeFailure("\(rawValue) has no elementwise derivative (its Jacobian couples a column); use backward(dA:z:)")
    }
    return backward(dA: Matrix<S>.ones(z.rows, z.columns), z: z)
  }

  /// `g(Z)` as a new matrix (the course's `relu(Z)`, `sigmoid(Z)`). The
  /// allocation-free form is ``biasAndActivate(z:bias:a:)``.
  public func apply<S: BLASScalar>(_ z: Matrix<S>) -> Matrix<S> {
    var zz = z
    var a = z
    biasAndActivate(z: &zz, bias: Matrix<S>.zeros(z.rows, 1), a: &a)
    return a
  }
}
