import Foundation
import LinearAlgebra
import MPI
import NeuralNetwork

// Steps per second of data-parallel training on this machine, for the
// scaling model of Distributed/README.md:
//
//   mpirun -np N blasnet-mpi-bench [--rows 1000000] [--batch 1024] [--data FILE]
//
// One epoch of the wide reference network [784, 512, 256, 1] (plain gradient
// descent) over a generated data set of --rows examples, written once as a
// .npy pair and memory-mapped by every process, each reading only its own
// examples of each batch. Process 0 prints the step rate, the time spent in
// the allreduce, and the time of allreduces of the gradient's size alone.
// scripts/bench-distributed.sh runs it as 1 process × 2 BLAS threads and as
// 2 processes × 1 thread, alternately.

BLAS.restartWithMatchingKernelsIfNeeded { _ in }
let world = MPICommunicator.start()
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
  guard let k = arguments.firstIndex(of: name), k + 1 < arguments.count, let v = Int(arguments[k + 1]) else {
    return fallback
  }
  return v
}
let rows = option("--rows", 1_000_000)
let batch = option("--batch", 1024)
let sizes = [784, 512, 256, 1]
let dataPath: String = {
  if let k = arguments.firstIndex(of: "--data"), k + 1 < arguments.count { return arguments[k + 1] }
  return NSTemporaryDirectory() + "blasnet-bench-wide-\(rows).npy"
}()
let labelPath = dataPath.replacingOccurrences(of: ".npy", with: "-y.npy")

/// Writes the data set: features uniform in [−1, 1) from a counter-based
/// hash (any block can be made alone), label 1 when x₀ + x₁ > 0.
func generate() throws {
  let writer = try NPYWriter<Float>(path: dataPath, rows: sizes[0], columns: rows)
  var labels = [Float](repeating: 0, count: rows)
  var start = 0
  while start < rows {
    let count = min(4096, rows - start)
    var block = Matrix<Float>.zeros(sizes[0], count)
    block.withUnsafeMutableBufferPointer { p in
      for k in 0..<p.count {
        var h = UInt64(start * sizes[0] + k) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        p[k] = Float(h >> 40) / Float(1 << 23) - 1
      }
      for j in 0..<count { labels[start + j] = p[j * sizes[0]] + p[j * sizes[0] + 1] > 0 ? 1 : 0 }
    }
    try writer.append(block)
    start += count
  }
  try writer.finish()
  try Matrix(row: labels).write(npyFile: labelPath)
}

func existing() -> Bool {
  guard let x = try? NPYArray(path: dataPath), let y = try? NPYArray(path: labelPath) else { return false }
  return x.shape == [sizes[0], rows] && y.shape == [1, rows]
}

var failed = [0.0]
if world.rank == 0 && !existing() {
  let started = ContinuousClock.now
  do {
    try generate()
    print("generated \(dataPath) (\(rows) examples × \(sizes[0]) features) in \(ContinuousClock.now - started)")
  } catch {
    FileHandle.standardError.write(Data("blasnet-mpi-bench: error: \(error)\n".utf8))
    failed[0] = 1
  }
}
failed.withUnsafeMutableBufferPointer { world.allreduceSum($0) }
if failed[0] > 0 {
  world.finish()
  exit(1)
}

let examples = NPYExamples<Float>(try NPYArray(path: dataPath))
let labels = try Matrix<Float>(npyFile: labelPath)
let options = TrainingOptions(
  epochs: 1, optimizer: .gradientDescent(learningRate: 0.01), batchSize: batch, seed: 1, stopOnDivergence: false)
var trainer = try Trainer(network: Network<Float>(sizes: sizes, seed: 3), options: options)
world.barrier()
let started = ContinuousClock.now
let history = try trainer.fit(LabelledExamples(examples, labels: labels), group: world)
let elapsed = ContinuousClock.now - started
world.barrier()

// Allreduces of the packed gradient's size alone: what communication costs here.
let count = trainer.network.parameterCount + 1
var buffer = [Float](repeating: 1, count: count)
for _ in 0..<5 { buffer.withUnsafeMutableBufferPointer { world.allreduceSum($0) } }
let reps = 50
world.barrier()
let alone = ContinuousClock.now
for _ in 0..<reps { buffer.withUnsafeMutableBufferPointer { world.allreduceSum($0) } }
let allreduceAlone = (ContinuousClock.now - alone) / reps

func ms(_ d: Duration) -> String {
  String(format: "%.3f", Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
}
if world.rank == 0 {
  let steps = trainer.allreduceCalls
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  let threads = BLAS.threadCount
  print(
    """
    processes \(world.size) × BLAS threads \(threads) (\(BLAS.summary)), CPU \(BLAS.CPUFeatures.current.modelName)
    network \(sizes.map(String.init).joined(separator: "-")), \(count - 1) parameters, \(rows) examples, global batch \(batch)
    steps \(steps) in \(String(format: "%.2f", seconds)) s: \(String(format: "%.2f", Double(steps) / seconds)) steps/s, \(String(format: "%.0f", Double(rows) / seconds)) examples/s
    per step \(ms(elapsed / steps)) ms, of which allreduce (waiting included) \(ms(trainer.allreduceTime / steps)) ms
    allreduce of \(count) floats alone: \(ms(allreduceAlone)) ms
    final cost \(String(format: "%.4f", history.finalCost ?? .nan))
    """)
}
world.finish()
