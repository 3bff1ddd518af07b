import Dispatch
import LinearAlgebra
import Synchronization
import Testing

@testable import NeuralNetwork

/// Issue 22 (1): the blocked inference engine gives what the layer-by-layer
/// pass gives, for any number of examples around the block size, every
/// activation and output, any number of workers.
@Suite struct PredictorTests {
  func network<S: BLASScalar>(
    _ sizes: [Int], hidden: Activation, output: Activation, seed: UInt64, _: S.Type
  ) throws -> Network<S> {
    var parameters: [String: Matrix<S>] = [:]
    var g = SplitMix(seed)
    for l in 1..<sizes.count {
      parameters["W\(l)"] = Matrix(rows: sizes[l], columns: sizes[l - 1]) { _, _ in S(g.next()) }
      parameters["b\(l)"] = Matrix(rows: sizes[l], columns: 1) { _, _ in S(g.next()) }
    }
    return try Network(
      parameters: parameters, activations: Array(repeating: hidden, count: sizes.count - 2) + [output])
  }

  /// Values in [−1, 1) from a seed.
  struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Double {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      z ^= z >> 31
      return Double(z >> 11) / Double(1 << 52) - 1
    }
  }

  func inputs<S: BLASScalar>(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<S> {
    var g = SplitMix(seed)
    return Matrix(rows: rows, columns: columns) { _, _ in S(3 * g.next()) }
  }

  func expectClose<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>, _ tolerance: S, _ note: String) {
    #expect(a.shape == b.shape, "\(note)")
    guard a.shape == b.shape else { return }
    let worst = zip(a.elements, b.elements).map { Swift.abs($0 - $1) }.max() ?? 0
    #expect(worst <= tolerance, "\(note): largest difference \(worst)")
  }

  @Test(arguments: [Activation.relu, .leakyReLU, .tanh, .sigmoid, .identity])
  func blocksEqualTheLayerByLayerPassAroundTheBlockSize(_ hidden: Activation) throws {
    for output in [Activation.sigmoid, .softmax, .identity] {
      let units = output == .sigmoid ? 1 : 3
      let net = try network([7, 9, 5, units], hidden: hidden, output: output, seed: 11, Float.self)
      for workers in [1, 3] {
        // Up to 32 examples run in one block on the caller's thread (1: matrix–vector products);
        // more in blocks of 40 over the workers.
        let predictor = Predictor(net, blockColumns: 40, workers: workers)
        for m in [1, 2, 32, 33, 39, 40, 41, 121] {
          let x: Matrix<Float> = inputs(7, m, seed: UInt64(m))
          let reference = net._output(x, "test").a
          let blocked = predictor.predict(x)
          expectClose(blocked, reference, 1e-5, "\(hidden) → \(output), \(workers) workers, m = \(m)")
          if output == .softmax {
            for j in 0..<m {
              let sum = (0..<units).reduce(Float(0)) { $0 + blocked[$1, j] }
              #expect(Swift.abs(sum - 1) < 1e-5)
            }
          }
        }
      }
    }
  }

  @Test func doublesAndColumnViewsAndTheDefaultBlock() throws {
    let net = try network([30, 16, 8, 1], hidden: .relu, output: .sigmoid, seed: 3, Double.self)
    let predictor = Predictor(net)
    // (30 + 2·16) values of 8 bytes a column in 256 KiB: 528, down to a multiple of 64; Float: 1024.
    #expect(predictor.blockColumns == 512)
    #expect(
      Predictor<Float>.defaultBlockColumns(
        for: try network([30, 16, 8, 1], hidden: .relu, output: .sigmoid, seed: 3, Float.self)) == 1024)
    let x: Matrix<Double> = inputs(30, 2500, seed: 5)
    expectClose(predictor.predict(x), net._output(x, "test").a, 1e-12, "Double, 2500 examples")
    // A view of columns 100..<1300 of X, through `into:`.
    var out = Matrix<Double>.zeros(1, 1200)
    predictor.predict(x.columnRange(100..<1300), into: &out)
    expectClose(out, net._output(x.columnRange(100..<1300), "test").a, 1e-12, "a view")
    // No examples: nothing to do.
    #expect(predictor.predict(Matrix<Double>.zeros(30, 0)).shape == Shape(1, 0))
  }

  /// Calls from many threads at once share the predictor's buffers safely.
  @Test func concurrentCallsGiveTheSameAnswers() throws {
    let net = try network([12, 10, 2], hidden: .tanh, output: .softmax, seed: 9, Float.self)
    let predictor = Predictor(net, blockColumns: 64, workers: 2)
    let x: Matrix<Float> = inputs(12, 700, seed: 1)
    let reference = net._output(x, "test").a
    let results = Mutex<[Matrix<Float>]>([])
    DispatchQueue.concurrentPerform(iterations: 8) { k in
      let p = predictor.predict(x.columnRange(0..<(300 + 50 * k)))
      results.withLock { $0.append(p) }
    }
    let all = results.withLock { $0 }
    #expect(all.count == 8)
    for p in all { expectClose(p, reference.columnRange(0..<p.columns).copy(), 1e-6, "\(p.columns) columns") }
  }

  @Test func networkPredictIsTheEngine() throws {
    let net = try network([30, 16, 8, 1], hidden: .relu, output: .sigmoid, seed: 21, Float.self)
    let x: Matrix<Float> = inputs(30, 3000, seed: 2)
    expectClose(net.predict(x), net._output(x, "test").a, 1e-5, "Network.predict")
    expectClose(net.predict(x), Predictor(net).predict(x), 0, "the same engine")
  }
}
