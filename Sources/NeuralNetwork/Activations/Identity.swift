import LinearAlgebra

/// `z` itself (a linear layer; printed `linear`).
public struct Identity: ActivationFunction {
  public static let name = "identity"
  public static let displayName = "linear"
  public static let aliases = ["linear", "none"]
  public init() {}

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func biasAndActivate<S: BLASScalar>(
    z: UnsafeMutableBufferPointer<S>, bias b: UnsafeBufferPointer<S>, a: UnsafeMutableBufferPointer<S>, rows r: Int,
    columns c: Int
  ) {
    _biasAndPositivePart(z, a, b, rows: r, columns: c, slope: 1, identity: true)
  }

  public func backward<S: BLASScalar>(_ g: UnsafeMutableBufferPointer<S>, z zp: UnsafeBufferPointer<S>, rows: Int) {}
}
