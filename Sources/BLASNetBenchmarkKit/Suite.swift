import LinearAlgebra
import NeuralNetwork

/// One row of the square-GEMM sweep.
public struct GEMMResult: Codable, Sendable {
  public var n: Int
  /// GFLOP/s of the textbook triple loop (nil above the naive size limit).
  public var naive: Double?
  /// GFLOP/s through `gemm(...)` on `Matrix`.
  public var blas: Double
  /// GFLOP/s of the bare `cblas_sgemm` call on the same buffers.
  public var direct: Double

  public var speedup: Double? { naive.map { blas / $0 } }
}

/// One product of a reference network, BLAS only.
public struct ProductResult: Codable, Sendable {
  public var network: String
  public var label: String
  public var shape: String
  public var form: String
  public var gflops: Double
  /// The kernel the dispatch chose for it on this machine: `blas` or `libxsmm`.
  public var kernel: String?
}

/// One reference network: a full training iteration on both paths, its
/// products alone, and inference.
public struct NetworkResult: Codable, Sendable {
  public var name: String
  public var sizes: [Int]
  public var examples: Int
  public var flopsPerIteration: Double
  /// Milliseconds per iteration (forward, cost, backward, update), median.
  public var blasMilliseconds: Double
  public var naiveMilliseconds: Double?
  /// Milliseconds the iteration's products take alone, back to back (median).
  public var gemmMilliseconds: Double
  /// Milliseconds per `predict` on all m examples (median).
  public var predictMilliseconds: Double
  /// NumPy's milliseconds per iteration, when the reference ran.
  public var numpyMilliseconds: Double?
  /// PyTorch's milliseconds per iteration (CPU, float32), when
  /// `Benchmarks/Python/torch_reference.py` ran (`blasnet-bench --torch-python PY`).
  public var torchMilliseconds: Double?

  public var achievedGFLOPs: Double { flopsPerIteration / (blasMilliseconds * 1e6) }
  /// Share of the iteration spent in its products.
  public var blasShare: Double { gemmMilliseconds / blasMilliseconds }
}

/// Everything one run of the benchmark measured.
public struct BenchmarkReport: Codable, Sendable {
  /// The backend's build (``BLAS/configuration``) and kernels (``BLAS/kernel``).
  public var blas: String
  public var kernel: String
  public var threads: Int
  public var cpu: String
  public var gemm: [GEMMResult]
  public var products: [ProductResult]
  public var networks: [NetworkResult]
  /// This machine's measured FMA throughput, when the CPU has AVX2 or AVX-512.
  public var peak: PeakProbe?

  public init(
    blas: String, kernel: String, threads: Int, cpu: String, gemm: [GEMMResult], products: [ProductResult],
    networks: [NetworkResult], peak: PeakProbe? = nil
  ) {
    self.peak = peak
    self.blas = blas
    self.kernel = kernel
    self.threads = threads
    self.cpu = cpu
    self.gemm = gemm
    self.products = products
    self.networks = networks
  }

  /// The smallest n from which BLAS beats the naive loop at every measured size.
  public var crossover: Int? {
    let measured = gemm.filter { $0.speedup != nil }
    guard let firstLoss = measured.lastIndex(where: { $0.speedup! <= 1 }) else { return measured.first?.n }
    return firstLoss + 1 < measured.count ? measured[firstLoss + 1].n : nil
  }
}

/// Runs the measurements. `quick` shortens every time budget (for a smoke run).
public struct BenchmarkSuite {
  public var quick: Bool
  public var sizes: [Int]
  public var naiveLimit: Int
  /// Whether the trainers split skinny products across cores themselves
  /// (``TrainingOptions/splitSkinnyProducts``, on by default), or leave
  /// every product to the BLAS's own threads.
  public var splitSkinnyProducts = true

  public init(quick: Bool = false, sizes: [Int] = [4, 8, 16, 32, 64, 128, 256, 512, 1024], naiveLimit: Int = 1024) {
    self.quick = quick
    self.sizes = sizes
    self.naiveLimit = naiveLimit
  }

  var budget: Double { quick ? 0.05 : 0.4 }

  /// Square sgemm: naive loop, `gemm` on `Matrix`, and the bare BLAS entry point.
  public func gemmSweep(log: (String) -> Void) -> [GEMMResult] {
    sizes.map { n in
      let shape = GEMMShape(label: "square", m: n, n: n, k: n)
      var (a, b, c) = shape.operands()
      let (blas, direct) = Timing.compare(
        budget: 2 * budget, { gemm(a, b, into: &c) }, { Self.direct(a, b, &c, shape) })
      var naive: Timing?
      if n <= naiveLimit {
        naive = Timing.measure(budget: budget, minimumRuns: n >= 512 ? 2 : 5) { Naive.gemm(a, b, into: &c) }
      }
      opaqueUse(c)
      let r = GEMMResult(
        n: n, naive: naive.map { shape.flops / $0.median / 1e9 }, blas: shape.flops / blas.median / 1e9,
        direct: shape.flops / direct.median / 1e9)
      log("gemm n=\(n) done")
      return r
    }
  }

  /// The bare `cblas_sgemm` call (through `Float.gemm`, which is `@inline(__always)`
  /// and forwards the pointers as they are), with no `Matrix` checks around it.
  static func direct(_ a: Matrix<Float>, _ b: Matrix<Float>, _ c: inout Matrix<Float>, _ s: GEMMShape) {
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          Float.gemm(
            Transpose(s.transposeA), Transpose(s.transposeB), m: Int32(s.m), n: Int32(s.n),
            k: Int32(s.k), alpha: 1, a: ap.baseAddress!, lda: Int32(a.rows), b: bp.baseAddress!, ldb: Int32(b.rows),
            beta: 0, c: cp.baseAddress!, ldc: Int32(s.m))
        }
      }
    }
  }

  /// Each product of each reference network, in its transpose form.
  public func networkProducts(_ networks: [ReferenceNetwork]) -> [ProductResult] {
    networks.flatMap { net in
      net.products.map { p in
        var (a, b, c) = p.operands()
        let t = Timing.measure(budget: budget / 2) {
          gemm(a, b, transposeA: p.transposeA, transposeB: p.transposeB, into: &c)
        }
        opaqueUse(c)
        return ProductResult(
          network: net.name, label: p.label, shape: "\(p.m)×\(p.n)×\(p.k)", form: p.form,
          gflops: p.flops / t.median / 1e9, kernel: SmallProducts.chosenKernel(for: p.productShape).rawValue)
      }
    }
  }

  /// One training iteration on each path, the products alone, and inference.
  public func network(_ net: ReferenceNetwork, naive: Bool, log: (String) -> Void) -> NetworkResult {
    let (x, y) = net.data()
    var trainer = net.trainer(path: .blas, splitSkinnyProducts: splitSkinnyProducts)
    // The iteration and its products alone (on buffers of the same shapes, back
    // to back), in alternation so that both see the same machine.
    var buffers = net.products.map { $0.operands() }
    let shapes = net.products
    // The products that read the input (Z1 and dW1) read the same X, as in the iteration.
    for i in shapes.indices where shapes[i].label.contains("A0") { buffers[i].b = x }
    let options = trainer.options
    let (step, products) = Timing.compare(
      budget: budget * 4, minimumRuns: 10, { opaqueUse(trainer.step(x: x, y: y)) },
      {
        // Each product the way the trainer runs it (the trainer's own dispatch).
        for i in buffers.indices {
          let s = shapes[i]
          ProductDispatch.product(
            buffers[i].a, buffers[i].b, transposeA: s.transposeA, transposeB: s.transposeB, into: &buffers[i].c,
            path: options.path, splitSkinnyProducts: options.splitSkinnyProducts)
        }
      })
    opaqueUse(buffers)
    log("\(net.name): BLAS iteration done")
    var naiveTiming: Timing?
    if naive {
      var slow = net.trainer(path: .naive)
      naiveTiming = Timing.measure(budget: budget, minimumRuns: quick ? 1 : 3) { opaqueUse(slow.step(x: x, y: y)) }
      log("\(net.name): naive iteration done")
    }
    let model = trainer.network
    let predict = Timing.measure(budget: budget, minimumRuns: 10) { opaqueUse(model.predict(x)) }
    return NetworkResult(
      name: net.name, sizes: net.sizes, examples: net.examples, flopsPerIteration: net.iterationFLOPs,
      blasMilliseconds: step.median * 1e3, naiveMilliseconds: naiveTiming.map { $0.median * 1e3 },
      gemmMilliseconds: products.median * 1e3, predictMilliseconds: predict.median * 1e3, numpyMilliseconds: nil,
      torchMilliseconds: nil)
  }
}
