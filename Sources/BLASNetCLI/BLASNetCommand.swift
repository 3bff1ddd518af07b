import ArgumentParser
import Foundation
import LinearAlgebra
import NeuralNetwork
import Tabular

/// `blasnet`: train, evaluate and predict with dense networks on CSV files.
public struct BLASNetCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "blasnet",
    abstract: "Train, evaluate and run dense neural networks on CSV data, on OpenBLAS.",
    discussion: """
      With no --data, `blasnet train` uses the built-in Wisconsin breast-cancer data set
      (569 examples, 30 features, label "malignant").
      """,
    subcommands: [
      Train.self, Evaluate.self, Predict.self, CrossValidate.self, Explain.self, ImportWeights.self, Export.self,
    ])

  public init() {}

  /// Parses `arguments` and runs the command. Any error, ArgumentParser's own
  /// included, becomes one line on stderr and exit status 1; `--help` prints
  /// the help and exits 0.
  public static func run(arguments: [String]? = nil) -> Never {
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      Foundation.exit(0)
    } catch let error as CLIError {
      // Nothing reads standard output any more (`| head -1`): nothing to say, nothing failed.
      if StandardOutput.readerGone.load(ordering: .relaxed) { Foundation.exit(0) }
      fail(error.commandLineMessage)
    } catch {
      if exitCode(for: error) == .success { exit(withError: error) }
      fail(oneLine(error))
    }
  }

  static func fail(_ message: String) -> Never {
    StandardError.write("blasnet: error: \(message)\n")
    Foundation.exit(1)
  }
}

/// Options shared by the commands that read a model.
struct ModelOptions: ParsableArguments {
  @Option(help: "The model file written by `blasnet train --save`.")
  var model: String

  @Option(help: "The CSV file: a header row, then one example per row.")
  var data: String

  @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
  var threads: Int?

  @Option(help: "Decision threshold of a two-class model (default: the one stored in the model, else 0.5).")
  var threshold: Double?

  func validate() throws {
    try validateThreads(threads)
    if let threshold { try validateThreshold(threshold) }
  }

  func load() throws(CLIError) -> TabularModel {
    applyThreads(threads)
    do {
      var loaded = try TabularModel.load(from: model)
      if threshold != nil && loaded.network.outputSize != 1 {
        throw CLIError(
          "--threshold is for a two-class model; \(model) has \(loaded.network.outputSize) classes (the most probable one is predicted)"
        )
      }
      if let threshold { loaded.threshold = threshold }
      return loaded
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("\(error)")
    }
  }
}

func validateThreshold(_ threshold: Double) throws {
  guard threshold > 0 && threshold <= 1 else {
    throw ValidationError("--threshold must be in (0, 1], got \(threshold)")
  }
}

func validateThreads(_ threads: Int?) throws {
  if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
}

func applyThreads(_ threads: Int?) {
  if let threads { BLAS.threadCount = threads }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

func formatDuration(_ d: Duration) -> String {
  let s = seconds(d)
  return s < 1 ? "\(Int((s * 1000).rounded())) ms" : format(s, 2) + " s"
}
