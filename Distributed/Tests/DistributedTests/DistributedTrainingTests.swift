import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular
import Testing

/// Runs the built blasnet-mpi under mpirun, as a user would, and compares
/// what N processes train with what one process trains.
struct MPIRun {
  var status: Int32
  var stdout: String
  var stderr: String
  var timedOut: Bool

  static var executable: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("blasnet-mpi")
      .path
  }

  /// The wdbc.csv fixture of the root package's tests.
  static let wdbc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tests/NeuralNetworkTests/Fixtures/wdbc.csv").path

  /// `mpirun` with `launcher` arguments, killed after `timeout` seconds (a hang is a failure, not a stuck CI).
  /// `blasnet-mpi train` on two processes (mpirun's MPMD form): process 0 on
  /// wdbc.csv, process 1 on `other`; expected to fail, and not by timing out.
  static func wdbcOnProcess0(andOnProcess1 other: String, in folder: URL) throws -> MPIRun {
    try onProcess0(["--data", wdbc], andOnProcess1: ["--data", other], in: folder)
  }

  /// `blasnet-mpi train` on two processes with other data options each; expected to fail, not by timing out.
  static func onProcess0(_ first: [String], andOnProcess1 second: [String], in folder: URL) throws -> MPIRun {
    let run = try run(
      ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "1", executable, "train"] + first + ["--quiet"]
        + [":", "-np", "1", executable, "train"] + second + ["--quiet"], in: folder, timeout: 120)
    #expect(!run.timedOut)
    #expect(run.status != 0)
    return run
  }

  static func run(
    _ launcher: [String], in folder: URL, environment: [String: String] = [:], timeout: Double = 240
  ) throws -> MPIRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = launcher
    process.currentDirectoryURL = folder
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let killed = Flag()
    let killer = DispatchWorkItem {
      killed.set()
      process.terminate()
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer.cancel()
    // The note of a restart with matching BLAS kernels depends on the machine, not on the run.
    let stderr = String(decoding: errData, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix("blasnet-mpi: note: OpenBLAS chose its ") }.joined(separator: "\n")
    return MPIRun(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr,
      timedOut: killed.value)
  }

  /// `mpirun -np N blasnet-mpi arguments` (root may run it; more processes than cores are allowed).
  static func train(_ processes: Int, _ arguments: [String], in folder: URL) throws -> MPIRun {
    try run(
      // Without the bins, one network: these tests pin the networks' widths and allreduce sizes and counts.
      [
        "mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "\(processes)", executable, "train", "--bins", "0",
        "--ensemble", "1",
      ] + arguments,
      in: folder)
  }
}

final class Flag: @unchecked Sendable {
  private let lock = NSLock()
  private var raised = false
  func set() { lock.withLock { raised = true } }
  var value: Bool { lock.withLock { raised } }
}

/// `train` on n processes saving `m<n>.json` (and `c<n>.svg`) in `folder`; the run and the model saved.
func train(_ n: Int, _ arguments: [String], in folder: URL) throws -> (MPIRun, Network<Float>?) {
  let name = "m\(n).json"
  let run = try MPIRun.train(n, arguments + ["--save", name, "--plot", "c\(n).svg"], in: folder)
  let model = try? TabularModel.load(from: folder.appendingPathComponent(name).path).network
  return (run, model)
}

/// Trains with `arguments` on 1 process and (with `twoAlso` too) on 2, and
/// expects the same parameters (to 1e-5 relative) on every process; both runs.
@discardableResult
func expectTwoProcessesTrainAsOne(
  _ arguments: [String], twoAlso: [String] = [], in folder: URL, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (one: MPIRun, two: MPIRun) {
  let (one, first) = try train(1, arguments, in: folder)
  let (two, second) = try train(2, arguments + twoAlso, in: folder)
  #expect(!two.timedOut, sourceLocation: sourceLocation)
  #expect(
    two.stdout.contains("Replicas: every process holds the same parameters (compared bit for bit)"),
    sourceLocation: sourceLocation)
  let a = try #require(first, "\(one.stderr)", sourceLocation: sourceLocation)
  let b = try #require(second, "\(two.stderr)", sourceLocation: sourceLocation)
  let difference = relativeDifference(b, a)
  #expect(difference <= 1e-5, "relative difference \(difference)", sourceLocation: sourceLocation)
  return (one, two)
}

func withFolder<R>(_ body: (URL) throws -> R) throws -> R {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-mpi-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try body(url)
}

/// max |a − b| / max |b| over each parameter matrix, the largest over the network.
func relativeDifference(_ a: Network<Float>, _ b: Network<Float>) -> Double {
  var worst = 0.0
  for l in 1...b.depth {
    for (x, y) in [(a.weights(l), b.weights(l)), (a.bias(l), b.bias(l))] {
      let scale = y.elements.map { abs(Double($0)) }.max() ?? 0
      worst = max(worst, Double(x.maxAbsoluteDifference(y)) / max(scale, 1e-30))
    }
  }
  return worst
}

@Suite(.serialized) struct DistributedTrainingTests {
  @Test func fullBatchGradientDescentOnNProcessesGivesOneProcesssParameters() throws {
    try withFolder { folder in
      let common = [
        "--data", MPIRun.wdbc, "--layers", "16,8", "--optimizer", "gd", "--learning-rate", "0.1", "--batch-size", "0",
        "--epochs", "50", "--validation-fraction", "0", "--quiet",
      ]
      let (one, first) = try train(1, common, in: folder)
      let reference = try #require(first, "\(one.stderr)")
      for n in [2, 3] {
        let (run, saved) = try train(n, common, in: folder)
        #expect(run.status == 0 && !run.timedOut, "\(run.stderr)")
        #expect(run.stdout.contains("Processes: \(n) (MPI, data-parallel"))
        #expect(run.stdout.contains("Replicas: every process holds the same parameters (compared bit for bit)"))
        #expect(run.stdout.contains("Allreduce: 50 calls of 642 floats"))
        let model = try #require(saved)
        let difference = relativeDifference(model, reference)
        #expect(difference <= 1e-5, "\(n) processes: relative difference \(difference)")
        // Fifty steps moved the parameters far from where they started.
        let start = Network<Float>(sizes: [30, 16, 8, 1], seed: 42)
        #expect(relativeDifference(model, start) > 0.01)
      }
    }
  }

  @Test func miniBatchesAreTheSameForAnyNumberOfProcesses() throws {
    try withFolder { folder in
      let common = [
        "--data", MPIRun.wdbc, "--layers", "16,8", "--optimizer", "adam", "--learning-rate", "0.01", "--batch-size",
        "32", "--epochs", "6", "--patience", "3", "--quiet",
      ]
      let (one, two) = try expectTwoProcessesTrainAsOne(common, in: folder)
      // 364 training examples in batches of 32: 12 steps an epoch.
      #expect(two.stdout.contains("Allreduce: 72 calls of 642 floats"))
      func line(_ run: MPIRun, _ prefix: String) -> String? {
        run.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
      }
      // The same final cost and the same test accuracy to the digits printed.
      #expect(
        line(one, "Trained:")?.components(separatedBy: "final cost").last
          == line(two, "Trained:")?.components(separatedBy: "final cost").last)
      #expect(line(one, "accuracy") == line(two, "accuracy") && line(one, "accuracy") != nil)
    }
  }

  @Test func aStreamedFileTrainsOnNProcessesFromTheCacheProcess0Writes() throws {
    try withFolder { folder in
      let data = folder.appendingPathComponent("w.csv").path
      try FileManager.default.copyItem(atPath: MPIRun.wdbc, toPath: data)
      let common = [
        "--data", data, "--optimizer", "adam", "--learning-rate", "0.01", "--batch-size", "32", "--epochs", "6",
        "--quiet",
      ]
      let (_, two) = try expectTwoProcessesTrainAsOne(common, twoAlso: ["--stream"], in: folder)
      #expect(two.stdout.contains("Cache:   \(data).blasnet-cache ("))
    }
  }

  @Test func arraysFromNumPyTrainOnNProcessesAsOnOne() throws {
    try withFolder { folder in
      let text = try String(contentsOfFile: MPIRun.wdbc, encoding: .utf8)
      let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
      let x = Matrix<Float>(rows: rows.count, columns: rows[0].count - 1) { i, j in Float(rows[i][j]) }
      try x.write(npyFile: folder.appendingPathComponent("X.npy").path, fortranOrder: false)
      try Matrix(row: rows.map { $0.last! }).write(npyFile: folder.appendingPathComponent("y.npy").path)
      let common = ["--x", "X.npy", "--y", "y.npy", "--examples-as-rows", "--epochs", "40", "--quiet"]
      let (_, two) = try expectTwoProcessesTrainAsOne(common, in: folder)
      #expect(two.stdout.contains("Data:    X.npy and y.npy: 569 examples, 30 features"))
    }
  }

  @Test func aProcessThatCannotReadItsDataStopsEveryProcess() throws {
    try withFolder { folder in
      let missing = folder.appendingPathComponent("missing.csv").path
      // Process 0 reads wdbc.csv, process 1 a file that is not there.
      let run = try MPIRun.wdbcOnProcess0(andOnProcess1: missing, in: folder)
      let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("blasnet-mpi: error:") }
      #expect(
        lines.contains { $0.hasPrefix("blasnet-mpi: error: process 1 of 2: ") && $0.contains(missing) }, "\(run.stderr)"
      )
      #expect(
        lines.contains {
          $0
            == "blasnet-mpi: error: process 1 of 2 has failed before training (its message says why); every process stops"
        }, "\(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("blasnet-model.json").path))
    }
  }

  /// A process whose copy of the data differs (labels flipped, a row fewer,
  /// one value changed) stops every process before training with one line
  /// from process 0 that names the process, the difference and the first
  /// block of examples where it is; no model is saved.
  @Test(arguments: ["flipped", "shorter", "one value"])
  func processesWithDifferentDataStopBeforeTraining(_ change: String) throws {
    try withFolder { folder in
      let text = try String(contentsOfFile: MPIRun.wdbc, encoding: .utf8)
      var lines = text.split(separator: "\n").map(String.init)
      if change == "flipped" {
        for k in 1..<lines.count {
          let last = lines[k].split(separator: ",").last!
          lines[k] = lines[k].dropLast(last.count) + (last == "1" ? "0" : "1")
        }
      } else if change == "shorter" {
        lines.removeLast()
      } else {
        // Example 300's first value, 20 more (15 → 35, say): the same column statistics would not notice.
        var fields = lines[300].split(separator: ",").map(String.init)
        fields[0] = String(Double(fields[0])! + 20)
        lines[300] = fields.joined(separator: ",")
      }
      let other = folder.appendingPathComponent("other.csv").path
      try (lines.joined(separator: "\n") + "\n").write(toFile: other, atomically: false, encoding: .utf8)
      let run = try MPIRun.wdbcOnProcess0(andOnProcess1: other, in: folder)
      let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("blasnet-mpi: error:") }
      let what =
        change == "flipped"
        ? "its labels differ from process 0's, first in examples 1–35 of 569"
        : change == "shorter"
          ? "it has 568 examples, process 0 has 569"
          : "its encoded values differ from process 0's, first in examples 285–320 of 569"
      #expect(
        errors == [
          "blasnet-mpi: error: the processes hold different data: process 1 of 2 read \(other) differently from process 0's \(MPIRun.wdbc) (\(what)); every process must read the same data, the same file on every machine"
        ], "\(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("blasnet-model.json").path))
    }
  }

  /// `.npy` arrays are mapped by each process from its own file: one
  /// example's values changed on process 1 are found and placed (they used to
  /// go unchecked: only the labels and the count were compared for mapped data).
  @Test func processesWithDifferentArraysStopBeforeTraining() throws {
    try withFolder { folder in
      let x = Matrix<Float>(rows: 4, columns: 200) { i, j in Float((i * 7 + j * 3) % 11) - 5 }
      let y = Matrix<Float>(row: (0..<200).map { Float($0 % 2) })
      var other = x
      other[2, 130] += 1
      try x.write(npyFile: folder.appendingPathComponent("x.npy").path)
      try other.write(npyFile: folder.appendingPathComponent("other.npy").path)
      try y.write(npyFile: folder.appendingPathComponent("y.npy").path)
      let run = try MPIRun.onProcess0(
        ["--x", "x.npy", "--y", "y.npy"], andOnProcess1: ["--x", "other.npy", "--y", "y.npy"], in: folder)
      let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("blasnet-mpi: error:") }
      // Example 131 is in block 11 of 16: examples 126–137 (k·200/16 to (k+1)·200/16).
      #expect(
        errors == [
          "blasnet-mpi: error: the processes hold different data: process 1 of 2 read other.npy differently from process 0's x.npy (its encoded values differ from process 0's, first in examples 126–137 of 200); every process must read the same data, the same file on every machine"
        ], "\(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("blasnet-model.json").path))
    }
  }

  @Test func anErrorEveryProcessHasIsPrintedOnce() throws {
    try withFolder { folder in
      let run = try MPIRun.train(2, ["--data", MPIRun.wdbc, "--label", "nope"], in: folder)
      #expect(run.status != 0 && !run.timedOut)
      let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("blasnet-mpi: error:") }
      #expect(lines.count == 1 && lines[0].contains("nope"), "\(run.stderr)")
      let predict = try MPIRun.run(
        ["mpirun", "--allow-run-as-root", "-np", "1", MPIRun.executable, "predict", "--model", "m", "--data", "d"],
        in: folder)
      #expect(predict.stderr.contains("blasnet-mpi: error: blasnet-mpi runs `train` only"))
    }
  }

  @Test func withoutMpirunTheHintIsOneLine() throws {
    try withFolder { folder in
      let alone = try MPIRun.run([MPIRun.executable, "train"], in: folder)
      #expect(alone.status == 1)
      #expect(
        alone.stderr.hasPrefix(
          "blasnet-mpi: error: not started by mpirun; start it with mpirun: mpirun -np 2 blasnet-mpi")
      )
      #expect(alone.stderr.split(separator: "\n").count == 1)
      let noMPI = try MPIRun.run(
        [MPIRun.executable, "train"], in: folder, environment: ["PATH": folder.appendingPathComponent("bin").path])
      #expect(
        noMPI.stderr
          == "blasnet-mpi: error: not started by mpirun; mpirun was not found: install Open MPI (bash scripts/ensure-deps.sh --mpi, or apt-get install openmpi-bin libopenmpi-dev), then mpirun -np 2 blasnet-mpi train --data FILE.csv\n"
      )
    }
  }
}
