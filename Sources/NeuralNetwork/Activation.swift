import Foundation
import LinearAlgebra

/// The function a layer applies to its pre-activation `Z = W·A + b`.
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
public enum Activation: String, Codable, Sendable, CaseIterable {
  case relu
  case leakyReLU
  case sigmoid
  case tanh
  case identity
  case softmax

  /// The slope of ``leakyReLU`` for negative inputs.
  public static let leakySlope = 0.01

  /// The name printed in a network's architecture: `ReLU`, `sigmoid`, ...
  public var displayName: String {
    switch self {
    case .relu: return "ReLU"
    case .leakyReLU: return "leaky ReLU"
    case .sigmoid: return "sigmoid"
    case .tanh: return "tanh"
    case .identity: return "linear"
    case .softmax: return "softmax"
    }
  }

  /// Parses a command-line or file spelling (`relu`, `ReLU`, `leaky-relu`, `linear`, ...).
  public init?(name: String) {
    switch name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
      .replacingOccurrences(of: " ", with: "")
    {
    case "relu": self = .relu
    case "leakyrelu": self = .leakyReLU
    case "sigmoid", "logistic": self = .sigmoid
    case "tanh": self = .tanh
    case "identity", "linear", "none": self = .identity
    case "softmax": self = .softmax
    default: return nil
    }
  }
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
    let r = z.rows
    let c = z.columns
    let kind = self
    bias.withUnsafeBufferPointer { b in
      z.withUnsafeMutableBufferPointer { zp in
        a.withUnsafeMutableBufferPointer { ap in
          switch kind {
          case .relu:
            _biasAndPositivePart(zp, ap, b, rows: r, columns: c, slope: 0, identity: false)
            return
          case .leakyReLU:
            _biasAndPositivePart(zp, ap, b, rows: r, columns: c, slope: S(Activation.leakySlope), identity: false)
            return
          case .identity:
            _biasAndPositivePart(zp, ap, b, rows: r, columns: c, slope: 1, identity: true)
            return
          default: break
          }
          for j in 0..<c {
            let base = j &* r
            switch kind {
            case .relu, .leakyReLU, .identity: break
            case .sigmoid:
              for i in 0..<r {
                let v = zp[base &+ i] + b[i]
                zp[base &+ i] = v
                ap[base &+ i] = _sigmoid(v)
              }
            case .tanh:
              for i in 0..<r {
                let v = zp[base &+ i] + b[i]
                zp[base &+ i] = v
                ap[base &+ i] = S.tanh(v)
              }
            case .softmax:
              var mx = -S.infinity
              for i in 0..<r {
                let v = zp[base &+ i] + b[i]
                zp[base &+ i] = v
                mx = Swift.max(mx, v)
              }
              var total: S = 0
              for i in 0..<r {
                let e = S.exp(zp[base &+ i] - mx)
                ap[base &+ i] = e
                total += e
              }
              let inv = 1 / total
              for i in 0..<r { ap[base &+ i] *= inv }
            }
          }
        }
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
    let kind = self
    let rows = z.rows
    z.withUnsafeBufferPointer { zp in
      gradient.withUnsafeMutableBufferPointer { g in
        let n = g.count
        switch kind {
        // Branch-free forms: with `if z <= 0 { g = 0 }` the compiler keeps a
        // branch per element and this pass cost a tenth of a wide iteration.
        case .relu:
          if n > 0 { S.keepWherePositive(g.baseAddress!, zp.baseAddress!, count: n) }
        case .leakyReLU:
          let slope = S(Activation.leakySlope)
          for i in 0..<n { g[i] *= zp[i] > 0 ? 1 : slope }
        case .sigmoid:
          for i in 0..<n {
            let s = _sigmoid(zp[i])
            g[i] *= s * (1 - s)
          }
        case .tanh:
          for i in 0..<n {
            let t = S.tanh(zp[i])
            g[i] *= 1 - t * t
          }
        case .identity:
          break
        case .softmax:
          for base in stride(from: 0, to: n, by: Swift.max(rows, 1)) {
            var mx = -S.infinity
            for i in 0..<rows { mx = Swift.max(mx, zp[base &+ i]) }
            var total: S = 0
            for i in 0..<rows { total += S.exp(zp[base &+ i] - mx) }
            var weighted: S = 0
            for i in 0..<rows { weighted += S.exp(zp[base &+ i] - mx) / total * g[base &+ i] }
            for i in 0..<rows {
              let a = S.exp(zp[base &+ i] - mx) / total
              g[base &+ i] = a * (g[base &+ i] - weighted)
            }
          }
        }
      }
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
    if self == .softmax {
      shapeFailure("softmax has no elementwise derivative (its Jacobian couples a column); use backward(dA:z:)")
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
