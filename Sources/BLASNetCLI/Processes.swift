import ArgumentParser
import Foundation
import NeuralNetwork
import Tabular

/// A failure before training on one or more processes of a group, as every
/// process sees it after they have compared notes.
struct ProcessFailure: Error {
  var error: CLIError
  /// Whether this process prints it: process 0 always; another one only for
  /// a failure of its own that process 0 did not have (when process 0 failed
  /// too, its message stands for all).
  var printHere: Bool

  /// Runs `body` on every process, then tells each whether any failed (one
  /// allreduce of a flag per process); throws on every process if any did.
  static func agree<T>(_ group: any ProcessGroup, _ body: () throws(CLIError) -> T) throws(ProcessFailure) -> T {
    var outcome: Result<T, CLIError>
    do {
      outcome = .success(try body())
    } catch {
      outcome = .failure(error)
    }
    guard group.size > 1 else {
      switch outcome {
      case .success(let value): return value
      case .failure(let error): throw ProcessFailure(error: error, printHere: true)
      }
    }
    var failed = [Double](repeating: 0, count: group.size)
    if case .failure = outcome { failed[group.rank] = 1 }
    failed.withUnsafeMutableBufferPointer { group.allreduceSum($0) }
    let failing = failed.indices.filter { failed[$0] > 0 }
    switch outcome {
    case .success(let value) where failing.isEmpty:
      return value
    case .failure(let error):
      let own = CLIError("process \(group.rank) of \(group.size): \(error.description)")
      throw ProcessFailure(error: group.rank == 0 ? error : own, printHere: group.rank == 0 || failed[0] == 0)
    case .success:
      let which = failing.map(String.init).joined(separator: ", ")
      let them =
        failing.count == 1 ? "process \(which) of \(group.size) has" : "processes \(which) of \(group.size) have"
      throw ProcessFailure(
        error: CLIError(
          "\(them) failed before training (\(failing.count == 1 ? "its" : "their") message says why); every process stops"
        ),
        printHere: group.rank == 0)
    }
  }
}

extension BLASNetCommand {
  /// The command line of `blasnet-mpi`: `train` and the options of
  /// `blasnet train`, run on every process of `group`. Returns the exit
  /// status instead of exiting, so that the caller can end MPI first. Errors
  /// are printed once (by process 0, or by the process whose own failure it is).
  public static func runTraining(arguments: [String], group: any ProcessGroup, programName: String) -> Int32 {
    let reporter = group.rank == 0
    if !reporter { warningsAreQuiet = true }
    func fail(_ message: String, printed: Bool) -> Int32 {
      if printed { FileHandle.standardError.write(Data("\(programName): error: \(message)\n".utf8)) }
      return 1
    }
    do {
      let command = try parseAsRoot(arguments)
      guard let train = command as? Train else {
        return fail(
          "\(programName) runs `train` only (\(programName) train --data FILE.csv …); evaluate and predict with blasnet",
          printed: reporter)
      }
      try train.run(group: group)
      return 0
    } catch let failure as ProcessFailure {
      return fail(failure.error.description, printed: failure.printHere)
    } catch let error as CLIError {
      return fail(error.description, printed: reporter)
    } catch {
      if exitCode(for: error) == .success {
        if reporter { print(fullMessage(for: error)) }
        return 0
      }
      return fail(oneLine(error), printed: reporter)
    }
  }
}
