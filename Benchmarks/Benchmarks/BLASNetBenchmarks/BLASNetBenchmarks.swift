import BLASNetBenchmarkKit
// Suites: gemm.{naive,blas}.n=N (square), gemm.blas.<network>.<product> (the
// network-shaped products in their transpose forms), train.{blas,naive}.<network>
// (one full-batch iteration), train.{meanSquaredError,huber}.wdbc (a regression's
// full-batch iteration), train.adam.<network> (an Adam step on the full batch
// and one on a 64-example view), predict.<network>, and `empty` (the harness's own
// allocations, to subtract from the malloc counts).
import Benchmark
import LinearAlgebra
import NeuralNetwork

typealias Operands = (a: Matrix<Float>, b: Matrix<Float>, c: Matrix<Float>)

let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: metrics, warmupIterations: 2, scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 1000)

  Benchmark("empty") { benchmark in
    for _ in benchmark.scaledIterations { blackHole(0) }
  }

  for n in [16, 32, 64, 128, 256, 512, 1024] {
    let shape = GEMMShape(label: "square", m: n, n: n, k: n)
    if n <= 512 {
      Benchmark("gemm.naive.n=\(n)", configuration: .init(maxIterations: n >= 256 ? 10 : 200)) {
        (benchmark: Benchmark, ops: Operands) in
        var (a, b, c) = ops
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { Naive.gemm(a, b, into: &c) }
        blackHole(c)
      } setup: {
        shape.operands()
      }
    }
    Benchmark("gemm.blas.n=\(n)") { (benchmark: Benchmark, ops: Operands) in
      var (a, b, c) = ops
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations { gemm(a, b, into: &c) }
      blackHole(c)
    } setup: {
      shape.operands()
    }
  }

  for net in ReferenceNetwork.all {
    for p in net.products {
      let name = p.label.prefix { $0 != " " }
      Benchmark("gemm.blas.\(net.name).\(name).\(p.form)") {
        (benchmark: Benchmark, ops: Operands) in
        var (a, b, c) = ops
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
          gemm(a, b, transposeA: p.transposeA, transposeB: p.transposeB, into: &c)
        }
        blackHole(c)
      } setup: {
        p.operands()
      }
    }

    for path in [ComputePath.blas, .naive] {
      let limit = path == .naive && net.name != "wdbc" ? 3 : 1000
      Benchmark("train.\(path.rawValue).\(net.name)", configuration: .init(maxIterations: limit)) {
        (benchmark: Benchmark, state: (Trainer<Float>, Matrix<Float>, Matrix<Float>)) in
        var (trainer, x, y) = state
        // One step outside the measurement: the workspace is allocated on the first.
        trainer.step(x: x, y: y)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(trainer.step(x: x, y: y)) }
      } setup: {
        let (x, y) = net.data()
        return (net.trainer(path: path), x, y)
      }
    }

    // A regression's step: a linear output with mean squared error or Huber
    // (the pointwise losses), full batch.
    if net.name == "wdbc" {
      for loss in [Loss.meanSquaredError, .huber] {
        Benchmark("train.\(loss.rawValue).\(net.name)") {
          (benchmark: Benchmark, state: (Trainer<Float>, Matrix<Float>, Matrix<Float>)) in
          var (trainer, x, y) = state
          trainer.step(x: x, y: y)
          benchmark.startMeasurement()
          for _ in benchmark.scaledIterations { blackHole(trainer.step(x: x, y: y)) }
        } setup: {
          let (x, y) = net.data()
          let network = Network<Float>(sizes: net.sizes, hiddenActivation: .relu, outputActivation: .identity, seed: 3)
          let options = TrainingOptions(optimizer: .gradientDescent(learningRate: 0.0075), loss: loss)
          return (try! Trainer(network: network, options: options), x, y)
        }
      }
    }

    // Adam (through OptimizerState, the optimiser updated in its box) on the full
    // batch and on a 64-example view, as a mini-batch epoch runs it.
    Benchmark("train.adam.\(net.name)") {
      (benchmark: Benchmark, state: (Trainer<Float>, Matrix<Float>, Matrix<Float>)) in
      var (trainer, x, y) = state
      let (bx, by) = (x.columnRange(0..<64), y.columnRange(0..<64))
      trainer.step(x: x, y: y)
      trainer.step(x: bx, y: by)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        blackHole(trainer.step(x: x, y: y))
        blackHole(trainer.step(x: bx, y: by))
      }
    } setup: {
      let (x, y) = net.data()
      let trainer = try! Trainer(network: net.network(), options: TrainingOptions(optimizer: .adam(learningRate: 0.001)))
      return (trainer, x, y)
    }

    Benchmark("predict.\(net.name)") { (benchmark: Benchmark, state: (Network<Float>, Matrix<Float>)) in
      let (network, x) = state
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations { blackHole(network.predict(x)) }
    } setup: {
      (net.network(), net.data().x)
    }

    // A kept Predictor writing into a kept output: no allocation per call once its buffers exist.
    Benchmark("predict.engine.\(net.name)") { (benchmark: Benchmark, state: (Predictor<Float>, Matrix<Float>)) in
      let (predictor, x) = state
      var out = Matrix<Float>.zeros(1, x.columns)
      predictor.predict(x, into: &out)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations { predictor.predict(x, into: &out) }
      benchmark.stopMeasurement()
      blackHole(out)
    } setup: {
      (Predictor(net.network()), net.data().x)
    }
  }
}
