import ArgumentParser
import BLASNetServe
import Foundation
import LinearAlgebra
import Logging
import Tabular

/// `blasnet-serve MODEL`: the model as an HTTP prediction service.
@main struct BLASNetServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "blasnet-serve",
    abstract: "Serve a model saved by `blasnet train --save` over HTTP.",
    discussion: """
      POST /v1/predict with a JSON record (column names as in the training CSV, raw values: \
      numbers, text categories, null or "NA" for missing), an array of them, or {"records": [...]}: \
      the answer has each record's class and probabilities, in order. Concurrent requests are \
      predicted together in one pass (--max-batch, --max-wait). GET /health, GET /metrics \
      (Prometheus). SIGTERM or Ctrl-C: requests in flight are answered, then it exits 0.
      """)

  @Argument(help: "The model file.")
  var model: String

  @Option(help: "The address to listen on (127.0.0.1: this machine only).")
  var host = "127.0.0.1"

  @Option(help: "The port (0: any free one, printed at start).")
  var port = 8080

  @Option(name: .customLong("max-batch"), help: "The most examples predicted in one pass.")
  var maxBatch = 1024

  @Option(
    name: .customLong("max-wait"),
    help: "Microseconds an idle service waits for more requests before a pass that is not full (0: none).")
  var maxWait = 0

  @Option(name: .customLong("max-body"), help: "The largest request body in bytes (beyond it: 413).")
  var maxBody = 4 << 20

  @Flag(
    name: .customLong("unseen-as-none"),
    help: "Encode a category never seen in training as no category (default: refuse the record with 400).")
  var unseenAsNone = false

  @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice; the service spreads each pass over the cores).")
  var threads: Int?

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
    guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1, got \(maxBatch)") }
    guard maxWait >= 0 else { throw ValidationError("--max-wait must be ≥ 0 µs, got \(maxWait)") }
    guard maxBody >= 1 else { throw ValidationError("--max-body must be at least 1 byte, got \(maxBody)") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }

  func run() async throws {
    // OpenBLAS picks its kernels when it loads: on a CPU it does not know, restart with matching ones.
    BLAS.restartWithMatchingKernelsIfNeeded {
      FileHandle.standardError.write(Data("blasnet-serve: note: \($0)\n".utf8))
    }
    if let threads { BLAS.threadCount = threads }
    let loaded: TabularModel
    do {
      loaded = try TabularModel.load(from: model)
    } catch {
      FileHandle.standardError.write(Data("blasnet-serve: error: \(error)\n".utf8))
      throw ExitCode(1)
    }
    var options = ServeOptions()
    options.host = host
    options.port = port
    options.maxBatch = maxBatch
    options.maxWait = .microseconds(maxWait)
    options.maxBodyBytes = maxBody
    options.unseenCategories = unseenAsNone ? .encodeAsNone : .error
    var logger = Logger(label: "blasnet-serve")
    logger.logLevel = .info
    logger.info(
      "serving",
      metadata: [
        "model": "\(model)", "network": "\(loaded.network)", "classes": "\(loaded.classes)",
        "blas": "\(BLAS.name) \(BLAS.kernel)",
      ])
    let service = PredictionService(model: loaded, options: options)
    let app = service.application(logger: logger)
    try await app.runService()
    logger.info("stopped")
  }
}
