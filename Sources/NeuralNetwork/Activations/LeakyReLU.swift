import LinearAlgebra

/// `z` for z > 0, `0.01·z` otherwise (``Activation/leakySlope``).
public struct LeakyReLU: ActivationFunction {
  public static let name = "leakyReLU"
  public static let displayName = "leaky ReLU"
  public init() {}

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func biasAndActivate<S: BLASScalar>(
    z: UnsafeMutableBufferPointer<S>, bias b: UnsafeBufferPointer<S>, a: UnsafeMutableBufferPointer<S>, rows r: Int,
    columns c: Int
  ) {
    _biasAndPositivePart(z, a, b, rows: r, columns: c, slope: S(Activation.leakySlope), identity: false)
  }

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func backward<S: BLASScalar>(_ g: UnsafeMutableBufferPointer<S>, z zp: UnsafeBufferPointer<S>, rows: Int) {
    let slope = S(Activation.leakySlope)
    for i in 0..<g.count { g[i] *= zp[i] > 0 ? 1 : slope }
  }
}
