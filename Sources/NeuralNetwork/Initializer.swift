import LinearAlgebra

/// How the weights `Wl` (n_l × n_{l-1}) start. Biases always start at zero.
///
///     he            Wl ~ N(0, 1)·√(2 / n_{l-1})         (default; suits ReLU)
///     xavier        Wl ~ N(0, 1)·√(2 / (n_{l-1} + n_l)) (Glorot; suits tanh/sigmoid)
///     reference     Wl ~ N(0, 1) / √n_{l-1}             (the NumPy course's deep network)
///     smallNormal   Wl ~ N(0, 1)·0.01                   (the course's first network;
///                                                       smallNormal(scale:) for another scale)
///     orthogonal    Wl = gain·Q from the QR of an N(0, 1) matrix (rows or columns orthonormal)
///
/// A network draws all layers from one generator (a seeded
/// `Xoshiro256StarStar` unless another is given), layer 1 first, column by
/// column; or takes standard-normal draws made elsewhere and scales them by
/// the same rule (``weights(fromStandardNormal:)``).
public struct Initializer: Hashable, Sendable, CustomStringConvertible {
  /// The rule that scales the draws.
  public enum Rule: String, Sendable, CaseIterable {
    case he, xavier, reference, smallNormal, orthogonal
  }

  public var rule: Rule
  /// The standard deviation of ``Rule/smallNormal`` (the course's 0.01 unless given).
  public var smallScale: Double

  public init(_ rule: Rule, smallScale: Double = 0.01) {
    self.rule = rule
    self.smallScale = smallScale
  }

  public static let he = Initializer(.he)
  public static let xavier = Initializer(.xavier)
  public static let reference = Initializer(.reference)
  public static let smallNormal = Initializer(.smallNormal)
  public static let orthogonal = Initializer(.orthogonal)
  /// N(0, 1)·`scale`: the course's `np.random.randn(n_l, n_prev) * scale`.
  public static func smallNormal(scale: Double) -> Initializer { Initializer(.smallNormal, smallScale: scale) }

  /// The five rules, small-normal at 0.01.
  public static var allCases: [Initializer] { Rule.allCases.map { Initializer($0) } }

  /// `he`, `smallNormal(scale: 0.5)`, ….
  public var description: String {
    rule == .smallNormal && smallScale != 0.01 ? "smallNormal(scale: \(smallScale))" : rule.rawValue
  }

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

  /// The standard deviation the normal rules scale N(0, 1) draws by, for a
  /// `fanOut × fanIn` matrix: √(2/n_in), √(2/(n_in + n_out)), 1/√n_in, the small scale (0.01);
  /// √2 (the gain applied to orthonormal rows or columns) for orthogonal.
  public func scale(fanOut: Int, fanIn: Int) -> Double {
    let nIn = Double(fanIn)
    let nOut = Double(fanOut)
    switch rule {
    case .he: return (2 / nIn).squareRoot()
    case .xavier: return (2 / (nIn + nOut)).squareRoot()
    case .reference: return 1 / nIn.squareRoot()
    case .smallNormal: return smallScale
    case .orthogonal: return 2.0.squareRoot()  // for ReLU layers, as He
    }
  }

  /// A `fanOut × fanIn` weight matrix drawn from `generator` (any
  /// `RandomNumberGenerator`; N(0, 1) by `nextStandardNormal()`,
  /// column by column).
  public func weights<S: BLASScalar>(fanOut: Int, fanIn: Int, using generator: inout some RandomNumberGenerator)
    -> Matrix<S>
  {
    if self == .orthogonal {
      // QR of a tall Gaussian matrix gives orthonormal columns.
      let draws = Matrix<Double>.randomNormal(Swift.max(fanOut, fanIn), Swift.min(fanOut, fanIn), using: &generator)
      return _orthogonal(draws, fanOut: fanOut, fanIn: fanIn)
    }
    return .randomNormal(fanOut, fanIn, standardDeviation: S(scale(fanOut: fanOut, fanIn: fanIn)), using: &generator)
  }

  /// Weights from standard-normal draws made elsewhere (NumPy's
  /// `np.random.randn(n_l, n_prev)`, say), scaled by this rule: the draws
  /// times ``scale(fanOut:fanIn:)``, with fanOut × fanIn the draws' shape.
  /// For `orthogonal`, the draws' orthonormalised rows or columns (QR) times √2.
  public func weights<S: BLASScalar>(fromStandardNormal draws: Matrix<S>) -> Matrix<S> {
    let (fanOut, fanIn) = (draws.rows, draws.columns)
    if self == .orthogonal {
      let tall = fanOut >= fanIn ? draws : draws.transposed
      let double = Matrix<Double>(rows: tall.rows, columns: tall.columns) { i, j in Double(tall[i, j]) }
      return _orthogonal(double, fanOut: fanOut, fanIn: fanIn)
    }
    return draws * S(scale(fanOut: fanOut, fanIn: fanIn))
  }

  /// √2·Q from the QR of a tall (max × min) Gaussian matrix, as `fanOut × fanIn`.
  func _orthogonal<S: BLASScalar>(_ gaussian: Matrix<Double>, fanOut: Int, fanIn: Int) -> Matrix<S> {
    let short = Swift.min(fanOut, fanIn)
    guard let (qr, r) = try? gaussian.qr() else {
      // A Gaussian matrix has full rank with probability 1; geqrf/orgqr do not fail on one.
      shapeFailure("Initializer.orthogonal: LAPACK QR failed on a \(gaussian.shape) Gaussian matrix")
    }
    var q = qr
    // Fix the sign ambiguity of QR so the result is uniformly distributed.
    for j in 0..<short where r[j, j] < 0 {
      for i in 0..<q.rows { q[i, j] = -q[i, j] }
    }
    let gain = scale(fanOut: fanOut, fanIn: fanIn)
    let w = fanOut >= fanIn ? q : q.transposed
    return Matrix<S>(rows: fanOut, columns: fanIn) { i, j in S(gain * w[i, j]) }
  }
}
