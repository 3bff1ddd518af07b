import LinearAlgebra

/// How the weights `Wl` (n_l × n_{l-1}) start. Biases always start at zero.
///
///     he            Wl ~ N(0, 1)·√(2 / n_{l-1})         (default; suits ReLU)
///     xavier        Wl ~ N(0, 1)·√(2 / (n_{l-1} + n_l)) (Glorot; suits tanh/sigmoid)
///     reference     Wl ~ N(0, 1) / √n_{l-1}             (the NumPy course's deep network)
///     smallNormal   Wl ~ N(0, 1)·0.01                   (the course's first network)
///     orthogonal    Wl = gain·Q from the QR of an N(0, 1) matrix (rows or columns orthonormal)
///
/// All draw from one seeded ``Xoshiro256StarStar``, layer 1 first, column by column.
public enum Initializer: String, Codable, Sendable, CaseIterable {
  case he
  case xavier
  case reference
  case smallNormal
  case orthogonal

  /// Parses `he`, `xavier`/`glorot`, `reference`, `small`, `orthogonal`.
  public init?(name: String) {
    switch name.lowercased() {
    case "he", "kaiming": self = .he
    case "xavier", "glorot": self = .xavier
    case "reference", "lecun": self = .reference
    case "small", "smallnormal", "small-normal": self = .smallNormal
    case "orthogonal": self = .orthogonal
    default: return nil
    }
  }

  /// A `fanOut × fanIn` weight matrix.
  public func weights<S: BLASScalar>(fanOut: Int, fanIn: Int, using g: inout Xoshiro256StarStar) -> Matrix<S> {
    let nIn = Double(fanIn)
    let nOut = Double(fanOut)
    switch self {
    case .he:
      return .randomNormal(fanOut, fanIn, standardDeviation: S((2 / nIn).squareRoot()), using: &g)
    case .xavier:
      return .randomNormal(fanOut, fanIn, standardDeviation: S((2 / (nIn + nOut)).squareRoot()), using: &g)
    case .reference:
      return .randomNormal(fanOut, fanIn, standardDeviation: S(1 / nIn.squareRoot()), using: &g)
    case .smallNormal:
      return .randomNormal(fanOut, fanIn, standardDeviation: S(0.01), using: &g)
    case .orthogonal:
      // QR of a tall Gaussian matrix gives orthonormal columns; for a wide
      // layer take the transpose, so that the rows are orthonormal instead.
      let tall = Swift.max(fanOut, fanIn)
      let short = Swift.min(fanOut, fanIn)
      let gaussian = Matrix<Double>.randomNormal(tall, short, using: &g)
      guard let (qr, r) = try? gaussian.qr() else {
        // A Gaussian matrix has full rank with probability 1; geqrf/orgqr do not fail on one.
        shapeFailure("Initializer.orthogonal: LAPACK QR failed on a \(tall)×\(short) Gaussian matrix")
      }
      var q = qr
      // Fix the sign ambiguity of QR so the result is uniformly distributed.
      for j in 0..<short where r[j, j] < 0 {
        for i in 0..<tall { q[i, j] = -q[i, j] }
      }
      let gain = 2.0.squareRoot()  // for ReLU layers, as He
      let w = fanOut >= fanIn ? q : q.transposed
      return Matrix<S>(rows: fanOut, columns: fanIn) { i, j in S(gain * w[i, j]) }
    }
  }
}
