import Foundation
import Tabular
import Testing

/// Runs the built `blasnet` executable, as a user would.
struct CLI {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Terminated by a signal (a crash) rather than by exit().
    var crashed: Bool
    /// The note of a restart with matching BLAS kernels (on a CPU that
    /// OpenBLAS does not know), taken out of `stderr` so that the other tests
    /// read the same lines on every machine.
    var kernelNotes: [String] = []
  }

  static var executable: URL {
    // The test bundle sits next to the package's executables in the build folder.
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("blasnet")
  }

  static func run(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> Result {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = folder
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes to the end before waiting, so a full pipe cannot block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    var stderr = String(decoding: errData, as: UTF8.self)
    let note = "blasnet: note: OpenBLAS chose its "
    let notes = stderr.split(separator: "\n").filter { $0.hasPrefix(note) }.map(String.init)
    for n in notes { stderr = stderr.replacingOccurrences(of: n + "\n", with: "") }
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr,
      crashed: process.terminationReason == .uncaughtSignal, kernelNotes: notes)
  }
}

/// A fresh folder, removed when `body` returns.
func withTemporaryFolder<R>(_ body: (URL) throws -> R) throws -> R {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("blasnet-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try body(url)
}

/// The shared data fixtures of the NeuralNetwork tests.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("NeuralNetworkTests/Fixtures")

/// The value in `column` of the metrics row `name` of a printed table.
func metric(_ output: String, _ name: String, column: Int) -> Double? {
  for line in output.split(separator: "\n") where line.hasPrefix(name + " ") {
    // A cell "0.974 (0.947–0.991)" counts as its first number.
    let cells = line.dropFirst(name.count).split(separator: " ").filter { !$0.hasPrefix("(") }
    return column < cells.count ? Double(cells[column]) : nil
  }
  return nil
}

func write(_ text: String, _ name: String, in folder: URL) throws -> String {
  let url = folder.appendingPathComponent(name)
  try text.write(to: url, atomically: false, encoding: .utf8)
  return url.path
}
