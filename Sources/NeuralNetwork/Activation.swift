import Foundation
import LinearAlgebra

/// The function a layer applies to its pre-activation `Z = W·A + b`.
///
///     relu(z)      = max(0, z)
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
  /// `Z += b` (b broadcast over columns) and `A = g(Z)` in one pass over the
  /// buffers. `z` is n×m, `bias` n×1, `a` n×m. Softmax works per column.
  @inlinable
  func biasAndActivate<S: BLASScalar>(z: inout Matrix<S>, bias: Matrix<S>, a: inout Matrix<S>) {
    let r = z.rows
    let c = z.columns
    let kind = self
    bias.withUnsafeBufferPointer { b in
      z.withUnsafeMutableBufferPointer { zp in
        a.withUnsafeMutableBufferPointer { ap in
          for j in 0..<c {
            let base = j &* r
            switch kind {
            case .relu:
              for i in 0..<r {
                let v = zp[base &+ i] + b[i]
                zp[base &+ i] = v
                ap[base &+ i] = v > 0 ? v : 0
              }
            case .leakyReLU:
              let slope = S(Activation.leakySlope)
              for i in 0..<r {
                let v = zp[base &+ i] + b[i]
                zp[base &+ i] = v
                ap[base &+ i] = v > 0 ? v : slope * v
              }
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
            case .identity:
              for i in 0..<r {
                let v = zp[base &+ i] + b[i]
                zp[base &+ i] = v
                ap[base &+ i] = v
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

  /// `dZ = dA ⊙ g'(Z)`, in place on `gradient` (which holds dA on entry). Not
  /// for softmax, whose backward pass is always fused with the cross-entropy.
  @inlinable
  func backward<S: BLASScalar>(gradient: inout Matrix<S>, z: Matrix<S>) {
    let kind = self
    z.withUnsafeBufferPointer { zp in
      gradient.withUnsafeMutableBufferPointer { g in
        let n = g.count
        switch kind {
        // Branch-free forms: with `if z <= 0 { g = 0 }` the compiler keeps a
        // branch per element and this pass cost a tenth of a wide iteration.
        case .relu:
          S.keepWherePositive(g.baseAddress!, zp.baseAddress!, count: n)
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
          shapeFailure("softmax backward is only defined together with categorical cross-entropy")
        }
      }
    }
  }

  /// `g(Z)` as a new matrix (inference and tests).
  public func apply<S: BLASScalar>(_ z: Matrix<S>) -> Matrix<S> {
    var zz = z
    var a = z
    biasAndActivate(z: &zz, bias: Matrix<S>.zeros(z.rows, 1), a: &a)
    return a
  }
}
