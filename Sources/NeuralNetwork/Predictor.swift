import Dispatch
import Foundation
import LinearAlgebra
import Synchronization

/// The cores this process may use, read once: Foundation reads them from
/// the system on every call, which takes about as long as predicting a
/// record (18 µs).
package let activeCores = ProcessInfo.processInfo.activeProcessorCount

/// Batch prediction: the examples go through the network a block of columns
/// at a time, through every layer before the next block starts, so that a
/// block's activations stay in the cache; each layer is one product on the
/// block, then one pass that adds the bias and applies the activation. The
/// blocks are spread over the cores. The buffers of a call (a block's Z and
/// A for each layer, per worker) are kept and reused: after the first call,
/// ``predict(_:into:)`` allocates nothing.
///
/// The products are `OrderedProducts` (``Products/ordered``) for networks
/// whose layers are small (the default for at most
/// ``largestOrderedLayer`` weights a layer; every tabular model asks for
/// them): every output then depends on its own example alone, bit for bit,
/// whether it is predicted alone, in a batch of 7 or of 100,000, on one core
/// or many, with AVX-512 or AVX2, and the predictor never touches BLAS's
/// process-wide thread count, so a fit running beside it is not disturbed.
/// ``Products/blas`` runs each product in BLAS instead (one BLAS thread per
/// worker while the workers run): faster for wide layers, the default for
/// them, its last bits depending on the batch.
///
/// A predictor is safe to share between threads: concurrent calls each take
/// their own buffers.
///
///     let predictor = Predictor(network)
///     var p = Matrix<Float>.zeros(1, x.columns)
///     predictor.predict(x, into: &p)          // A_L, as network.predict(x)
public final class Predictor<Scalar: BLASScalar>: @unchecked Sendable {
  /// The network it runs.
  public let network: Network<Scalar>
  /// The examples of one block.
  public let blockColumns: Int
  /// The most blocks processed at once (one worker each).
  public let workers: Int
  /// Where the layers' products run.
  public let products: Products

  /// Where a predictor runs the layers' products.
  public enum Products: Sendable, Equatable {
    /// `OrderedProducts`: each output the same whatever the batch (the default).
    case ordered
    /// BLAS (`?gemm`, `?gemv` for one example): the last bits depend on the batch.
    case blas
  }
  /// Buffers of finished calls, for the next ones.
  private let spare = Mutex<[[Workspace]]>([])

  /// A predictor of `network`. `blockColumns` defaults to what keeps a
  /// block's input and activations within about 256 KiB (see
  /// ``defaultBlockColumns(for:)``); `workers` to the active cores;
  /// `products` to ``defaultProducts(for:)``.
  public init(
    _ network: Network<Scalar>, blockColumns: Int? = nil, workers: Int? = nil, products: Products? = nil
  ) {
    if let blockColumns, blockColumns < 1 {
      shapeFailure("Predictor: blockColumns must be at least 1, got \(blockColumns)")
    }
    if let workers, workers < 1 { shapeFailure("Predictor: workers must be at least 1, got \(workers)") }
    self.network = network
    self.blockColumns = blockColumns ?? Self.defaultBlockColumns(for: network)
    self.workers = workers ?? Self.cores
    self.products = products ?? Self.defaultProducts(for: network)
  }

  /// The most weights a layer has for ``defaultProducts(for:)`` to choose
  /// ordered products: 65,536 (a 256 × 256 layer). Above it, BLAS's packed
  /// kernels win (a 784 → 512 → 256 → 1 network: 1.8× faster in BLAS on a
  /// Zen core with AVX2), below it the ordered kernel does (30 → 16 → 8 → 1:
  /// 1.26× faster than BLAS).
  public static var largestOrderedLayer: Int { 1 << 16 }

  /// ``Products/ordered`` when every layer has at most
  /// ``largestOrderedLayer`` weights, ``Products/blas`` otherwise: a rule on
  /// the shapes alone, so a network's predictions never depend on a timing.
  public static func defaultProducts(for network: Network<Scalar>) -> Products {
    network.layers.allSatisfy { $0.weights.count <= largestOrderedLayer } ? .ordered : .blas
  }

  /// The active cores, read once.
  static var cores: Int { activeCores }

  /// Columns such that a block's input, widest Z and widest A take about
  /// 256 KiB (a core's L2 on the machines seen here holds 512 KiB to 2 MiB),
  /// a multiple of 64 from 64 to 4096: 1024 for `[30, 16, 8, 1]`.
  public static func defaultBlockColumns(for network: Network<Scalar>) -> Int {
    var widest = 1
    for layer in network.layers { widest = Swift.max(widest, layer.units) }
    let bytesPerColumn = (network.inputSize + 2 * widest) * MemoryLayout<Scalar>.stride
    let columns = (256 << 10) / Swift.max(bytesPerColumn, 1)
    return Swift.min(4096, Swift.max(64, columns / 64 * 64))
  }

  /// The output activations `A_L` for inputs `x` (n_x × m), as
  /// ``Network/predict(_:)``. Traps unless `x` has n_x rows.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>)
  public func predict<X: MatrixOperand<Scalar>>(_ x: X) -> Matrix<Scalar> {
    var out = Matrix<Scalar>.zeros(network.outputSize, x.columns)
    predict(x, into: &out)
    return out
  }

  /// The output activations for inputs `x` (n_x × m) into `out` (n_L × m),
  /// which receives every element. Traps unless the shapes fit.
  @_specialize(exported:true,where Scalar == Float, X == Matrix<Float>)
  @_specialize(exported:true,where Scalar == Float, X == MatrixColumns<Float>)
  @_specialize(exported:true,where Scalar == Double, X == Matrix<Double>)
  @_specialize(exported:true,where Scalar == Double, X == MatrixColumns<Double>)
  public func predict<X: MatrixOperand<Scalar>>(_ x: X, into out: inout Matrix<Scalar>) {
    network._checkInput(x, "Predictor.predict")
    if out.rows != network.outputSize || out.columns != x.columns {
      shapeFailure(
        "Predictor.predict: the output must be n_L×m = \(network.outputSize)×\(x.columns); it is \(out.rows)×\(out.columns)"
      )
    }
    let m = x.columns
    if m == 0 { return }
    if m <= Self.smallBatch {
      Self.runSmall(network, x, into: &out, products: products)
      return
    }
    let blocks = (m + blockColumns - 1) / blockColumns
    let count = Swift.min(workers, blocks)
    let columns = Swift.min(blockColumns, m)
    let plan = Plan(network: network, m: m, block: blockColumns, products: products)
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { op in
        let workspaces = take(count, columns: columns)
        defer { give(workspaces) }
        if count == 1 {
          // One worker (one block, or one core): no threads.
          let w = workspaces[0].buffer
          for k in 0..<blocks { plan.run(block: k, x: xp.baseAddress!, out: op.baseAddress!, w) }
          return
        }
        nonisolated(unsafe) let (input, output) = (xp.baseAddress!, op.baseAddress!)
        let work = {
          DispatchQueue.concurrentPerform(iterations: count) { w in
            for k in stride(from: w, to: blocks, by: count) {
              plan.run(block: k, x: input, out: output, workspaces[w].buffer)
            }
          }
        }
        if products == .blas { BLAS.singleThreaded(work) } else { work() }
      }
    }
  }

  /// `network`'s outputs for a few examples in one block on this thread,
  /// the buffer a temporary allocation (on the stack when small): what
  /// ``Network/predict(_:)`` does for up to ``smallBatch`` examples, where
  /// setting up a predictor would cost more than the work.
  static func predictSmall<X: MatrixOperand<Scalar>>(_ network: Network<Scalar>, _ x: X) -> Matrix<Scalar> {
    var out = Matrix<Scalar>.zeros(network.outputSize, x.columns)
    if x.columns > 0 { runSmall(network, x, into: &out, products: defaultProducts(for: network)) }
    return out
  }

  /// A few examples (at least one): one block on this thread, its buffer on the stack.
  static func runSmall<X: MatrixOperand<Scalar>>(
    _ network: Network<Scalar>, _ x: X, into out: inout Matrix<Scalar>, products: Products
  ) {
    let m = x.columns
    let plan = Plan(network: network, m: m, block: m, products: products)
    withUnsafeTemporaryAllocation(of: Scalar.self, capacity: Plan.workspaceCount(network.layers, columns: m)) {
      buffer in
      x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
          plan.run(block: 0, x: xp.baseAddress!, out: op.baseAddress!, buffer.baseAddress!)
        }
      }
    }
  }

  /// Up to this many examples, ``Network/predict(_:)`` runs them in one block on the calling thread.
  static var smallBatch: Int { 32 }

  /// `count` workspaces for blocks of `columns`: a kept set if one is large
  /// enough (taking and giving back a set allocates nothing).
  private func take(_ count: Int, columns: Int) -> [Workspace] {
    let kept = spare.withLock { pool -> [Workspace]? in
      guard let k = pool.lastIndex(where: { $0.count >= count && $0[0].columns >= columns }) else { return nil }
      return pool.remove(at: k)
    }
    if let kept { return kept }
    let size = Plan.workspaceCount(network.layers, columns: columns)
    return (0..<count).map { _ in Workspace(count: size, columns: columns) }
  }

  /// Keeps a set of workspaces for later calls (a few sets, the largest).
  private func give(_ set: [Workspace]) {
    spare.withLock { pool in
      if pool.count < 4 {
        pool.append(set)
      } else if let k = pool.indices.min(by: {
        pool[$0][0].columns * pool[$0].count < pool[$1][0].columns * pool[$1].count
      }) {
        pool[k] = set
      }
    }
  }

  /// A worker's buffer: Z and A of each layer for one block, one after the other.
  final class Workspace: @unchecked Sendable {
    let columns: Int
    let buffer: UnsafeMutablePointer<Scalar>

    init(count: Int, columns: Int) {
      self.columns = columns
      buffer = .allocate(capacity: count)
    }

    deinit { buffer.deallocate() }
  }

  /// What every block of one call needs: the layers' shapes and parameters.
  struct Plan: @unchecked Sendable {
    let layers: [Layer<Scalar>]
    let m: Int
    let block: Int
    let inputs: Int
    let products: Products

    init(network: Network<Scalar>, m: Int, block: Int, products: Products) {
      layers = network.layers
      self.m = m
      self.block = block
      inputs = network.inputSize
      self.products = products
    }

    /// The elements of a workspace for blocks of `columns`: Z and A of every layer.
    static func workspaceCount(_ layers: [Layer<Scalar>], columns: Int) -> Int {
      var units = 0
      for layer in layers { units += layer.units }
      return 2 * units * columns
    }

    /// Block `k`: its columns of X through every layer, Z and A in
    /// `buffer` (``workspaceCount(_:columns:)`` elements for `block`
    /// columns); the last layer writes its A straight into the output's columns.
    func run(
      block k: Int, x: UnsafePointer<Scalar>, out: UnsafeMutablePointer<Scalar>, _ buffer: UnsafeMutablePointer<Scalar>
    ) {
      let first = k * block
      let n = Swift.min(block, m - first)
      var input = x + first * inputs
      var rows = inputs
      var free = buffer
      for l in layers.indices {
        let layer = layers[l]
        let units = layer.units
        let z = free
        let a = l == layers.count - 1 ? out + first * units : free + units * n
        free += 2 * units * n
        layer.weights.withUnsafeBufferPointer { wp in
          if products == .ordered {
            OrderedProducts.multiply(
              m: units, n: n, k: rows, a: wp.baseAddress!, lda: units, b: input, ldb: rows, c: z, ldc: units)
          } else if n == 1 {
            // One example: a matrix–vector product (gemm's set-up costs more than the work).
            Scalar.gemv(
              .none, m: Int32(units), n: Int32(rows), alpha: 1, a: wp.baseAddress!, lda: Int32(units), x: input,
              beta: 0, y: z)
          } else {
            Scalar.gemm(
              .none, .none, m: Int32(units), n: Int32(n), k: Int32(rows), alpha: 1, a: wp.baseAddress!,
              lda: Int32(units), b: input, ldb: Int32(rows), beta: 0, c: z, ldc: Int32(units))
          }
        }
        layer.bias.withUnsafeBufferPointer { b in
          layer.activation.function.biasAndActivate(
            z: UnsafeMutableBufferPointer(start: z, count: units * n), bias: b,
            a: UnsafeMutableBufferPointer(start: a, count: units * n), rows: units, columns: n)
        }
        input = UnsafePointer(a)
        rows = units
      }
    }
  }
}
