import ArgumentParser
import Foundation
import NeuralNetwork
import Tabular

extension BLASNetCommand {
  /// The command line of `blasnet-mpi`: `train` and the options of
  /// `blasnet train`, run on every process of `group`. Returns the exit
  /// status instead of exiting, so that the caller can end MPI first. Errors
  /// are printed once (by process 0, or by the process whose own failure it is).
  public static func runTraining(arguments: [String], group: any ProcessGroup, programName: String) -> Int32 {
    let reporter = group.rank == 0
    func fail(_ message: String, printed: Bool) -> Int32 {
      if printed { StandardError.write("\(programName): error: \(message)\n") }
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
    } catch let error as CLIError {
      // A reader of standard output that has gone ends the command quietly.
      if StandardOutput.readerGone.load(ordering: .relaxed) { return 0 }
      // Process 0 prints; another process only its own failure before training that process 0 did not have.
      return fail(
        error.commandLineMessage, printed: !error.reportedByAnotherProcess && (reporter || error.fromAgreement))
    } catch {
      if exitCode(for: error) == .success {
        guard reporter else { return 0 }
        do {
          try StandardOutput.print(fullMessage(for: error))
        } catch {
          return fail(error.description, printed: !StandardOutput.readerGone.load(ordering: .relaxed))
        }
        return 0
      }
      return fail(oneLine(error), printed: reporter)
    }
  }
}
