import LinearAlgebra

/// `1 / (1 + e⁻ᶻ)`, computed without overflow for any z; derivative σ(z)(1 − σ(z)).
public struct Sigmoid: ActivationFunction {
  public static let name = "sigmoid"
  public static let displayName = "sigmoid"
  public static let aliases = ["logistic"]
  public init() {}

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func biasAndActivate<S: BLASScalar>(
    z: UnsafeMutableBufferPointer<S>, bias b: UnsafeBufferPointer<S>, a: UnsafeMutableBufferPointer<S>, rows r: Int,
    columns c: Int
  ) {
    _biasAndMap(z, b, a, rows: r, columns: c) { _sigmoid($0) }
  }

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func backward<S: BLASScalar>(_ g: UnsafeMutableBufferPointer<S>, z zp: UnsafeBufferPointer<S>, rows: Int) {
    for i in 0..<g.count {
      let s = _sigmoid(zp[i])
      g[i] *= s * (1 - s)
    }
  }
}
