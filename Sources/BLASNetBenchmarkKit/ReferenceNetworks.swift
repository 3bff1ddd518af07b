import LinearAlgebra
import NeuralNetwork

/// The three reference networks the benchmarks measure, with deterministic inputs.
///
/// - `wdbc` [30, 16, 8, 1], m = 455: the breast-cancer training split (tiny: overhead-bound).
/// - `cat` [12288, 20, 7, 5, 1], m = 209: the course's 64×64×3 cat images (skinny products).
/// - `wide` [784, 512, 256, 1], m = 1024: MNIST-sized inputs, wide layers (GEMM-bound).
public struct ReferenceNetwork: Sendable {
  public var name: String
  public var sizes: [Int]
  public var examples: Int

  public static let all = [
    ReferenceNetwork(name: "wdbc", sizes: [30, 16, 8, 1], examples: 455),
    ReferenceNetwork(name: "cat", sizes: [12288, 20, 7, 5, 1], examples: 209),
    ReferenceNetwork(name: "wide", sizes: [784, 512, 256, 1], examples: 1024),
  ]

  /// Inputs: N(0, 1) features (as after standardisation), 0/1 labels; fixed seeds.
  public func data() -> (x: Matrix<Float>, y: Matrix<Float>) {
    let x = Matrix<Float>.randomNormal(sizes[0], examples, seed: 1)
    var g = Xoshiro256StarStar(seed: 2)
    let y = Matrix<Float>(rows: 1, columns: examples) { _, _ in Float(g.next() & 1) }
    return (x, y)
  }

  /// The network with He initialisation (seed 3).
  public func network() -> Network<Float> { Network(sizes: sizes, seed: 3) }

  /// A full-batch plain-gradient-descent trainer on the given path (and
  /// with or without the trainer's own column split of skinny products).
  public func trainer(path: ComputePath, splitSkinnyProducts: Bool = true) -> Trainer<Float> {
    // The options are valid by construction.
    try! Trainer(
      network: network(),
      options: TrainingOptions(
        optimizer: .gradientDescent(learningRate: 0.0075), path: path, splitSkinnyProducts: splitSkinnyProducts))
  }

  /// The products of one training iteration, in order: forward `Zl = Wl·A_{l-1}`
  /// for l = 1...L, then backward `dWl = dZl·A_{l-1}ᵀ` for l = L...1 and
  /// `dA_{l-1} = Wlᵀ·dZl` for l = L...2.
  public var products: [GEMMShape] {
    let m = examples
    let depth = sizes.count - 1
    var list: [GEMMShape] = []
    for l in 1...depth {
      list.append(GEMMShape(label: "Z\(l) = W\(l)·A\(l - 1)", m: sizes[l], n: m, k: sizes[l - 1]))
    }
    for l in stride(from: depth, through: 1, by: -1) {
      list.append(
        GEMMShape(label: "dW\(l) = dZ\(l)·A\(l - 1)ᵀ", m: sizes[l], n: sizes[l - 1], k: m, transposeB: true))
      if l > 1 {
        list.append(
          GEMMShape(label: "dA\(l - 1) = W\(l)ᵀ·dZ\(l)", m: sizes[l - 1], n: m, k: sizes[l], transposeA: true))
      }
    }
    return list
  }

  /// Floating-point operations of one iteration's products (2·m·n·k each).
  public var iterationFLOPs: Double { products.reduce(0) { $0 + $1.flops } }

  /// Floating-point operations of one forward pass (inference).
  public var forwardFLOPs: Double { products.prefix(sizes.count - 1).reduce(0) { $0 + $1.flops } }
}

/// One product `C (m×n) = op(A)·op(B)` with inner dimension k.
public struct GEMMShape: Sendable {
  public var label: String
  public var m: Int
  public var n: Int
  public var k: Int
  public var transposeA = false
  public var transposeB = false

  public init(label: String, m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false) {
    self.label = label
    self.m = m
    self.n = n
    self.k = k
    self.transposeA = transposeA
    self.transposeB = transposeB
  }

  public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

  /// The shape as the small-product dispatch keys it (Float).
  public var productShape: ProductShape {
    ProductShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k)
  }

  /// `NN`, `TN`, `NT` or `TT`.
  public var form: String { (transposeA ? "T" : "N") + (transposeB ? "T" : "N") }

  /// Operands stored so that op(A) is m×k and op(B) is k×n, plus the output.
  public func operands(seed: UInt64 = 7) -> (a: Matrix<Float>, b: Matrix<Float>, c: Matrix<Float>) {
    let a = transposeA ? Matrix<Float>.randomNormal(k, m, seed: seed) : .randomNormal(m, k, seed: seed)
    let b = transposeB ? Matrix<Float>.randomNormal(n, k, seed: seed + 1) : .randomNormal(k, n, seed: seed + 1)
    return (a, b, .zeros(m, n))
  }
}
