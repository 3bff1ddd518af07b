import LinearAlgebra

/// `tanh(z)`; derivative 1 − tanh²(z).
public struct Tanh: ActivationFunction {
  public static let name = "tanh"
  public static let displayName = "tanh"
  public init() {}

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func biasAndActivate<S: BLASScalar>(
    z: UnsafeMutableBufferPointer<S>, bias b: UnsafeBufferPointer<S>, a: UnsafeMutableBufferPointer<S>, rows r: Int,
    columns c: Int
  ) {
    _biasAndMap(z, b, a, rows: r, columns: c) { S.tanh($0) }
  }

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func backward<S: BLASScalar>(_ g: UnsafeMutableBufferPointer<S>, z zp: UnsafeBufferPointer<S>, rows: Int) {
    for i in 0..<g.count {
      let t = S.tanh(zp[i])
      g[i] *= 1 - t * t
    }
  }
}
