import LinearAlgebra

/// `e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z)` per column (output layers only). Its
/// backward pass applies the Jacobian, `dZᵢ = aᵢ·(dAᵢ − Σⱼ aⱼ·dAⱼ)`.
public struct Softmax: ActivationFunction {
  public static let name = "softmax"
  public static let displayName = "softmax"
  public static let couplesColumns = true
  public init() {}

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func biasAndActivate<S: BLASScalar>(
    z: UnsafeMutableBufferPointer<S>, bias b: UnsafeBufferPointer<S>, a: UnsafeMutableBufferPointer<S>, rows r: Int,
    columns c: Int
  ) {
    for j in 0..<c {
      let base = j &* r
      var mx = -S.infinity
      for i in 0..<r {
        let v = z[base &+ i] + b[i]
        z[base &+ i] = v
        mx = Swift.max(mx, v)
      }
      var total: S = 0
      for i in 0..<r {
        let e = S.exp(z[base &+ i] - mx)
        a[base &+ i] = e
        total += e
      }
      let inv = 1 / total
      for i in 0..<r { a[base &+ i] *= inv }
    }
  }

  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func backward<S: BLASScalar>(_ g: UnsafeMutableBufferPointer<S>, z zp: UnsafeBufferPointer<S>, rows: Int) {
    for base in stride(from: 0, to: g.count, by: Swift.max(rows, 1)) {
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
