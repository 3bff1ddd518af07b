import ArgumentParser
import BLASNetServe
import Foundation
import LinearAlgebra
import Logging
import ServiceLifecycle
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
      (Prometheus). Idle connections close after --idle-timeout, a request must arrive within \
      --read-timeout (else 408), at most --max-connections are open. SIGTERM or Ctrl-C: requests \
      in flight are answered, connections still open after --shutdown-timeout are closed, then it \
      exits 0.
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

  @Option(
    name: .customLong("idle-timeout"),
    help: "Seconds a connection may stay open with no request in progress before it is closed.")
  var idleTimeout = 30.0

  @Option(
    name: .customLong("read-timeout"),
    help: "Seconds a request may take to arrive, head to last body byte (beyond it: 408 and the connection closed).")
  var readTimeout = 10.0

  @Option(
    name: .customLong("shutdown-timeout"),
    help:
      "Seconds after SIGTERM or Ctrl-C for requests in progress to be answered; then the connections still open are closed and it exits 0."
  )
  var shutdownTimeout = 5.0

  @Option(
    name: .customLong("max-connections"),
    help:
      "The most open connections (fewer if the open-file limit is lower); past it the oldest idle one is closed, or, with none idle, the new one gets 503."
  )
  var maxConnections = 1000

  @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice; the service spreads each pass over the cores).")
  var threads: Int?

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
    guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1, got \(maxBatch)") }
    guard maxWait >= 0 else { throw ValidationError("--max-wait must be ≥ 0 µs, got \(maxWait)") }
    guard maxBody >= 1 else { throw ValidationError("--max-body must be at least 1 byte, got \(maxBody)") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    for (flag, value) in [
      ("--idle-timeout", idleTimeout), ("--read-timeout", readTimeout), ("--shutdown-timeout", shutdownTimeout),
    ] {
      guard value.isFinite && value > 0 && value <= 86_400 else {
        throw ValidationError("\(flag) must be more than 0 and at most 86400 seconds, got \(value)")
      }
    }
    guard maxConnections >= 1 else {
      throw ValidationError("--max-connections must be at least 1, got \(maxConnections)")
    }
  }

  func run() async throws {
    // OpenBLAS picks its kernels when it loads: on a CPU it does not know, restart with matching ones.
    BLAS.restartWithMatchingKernelsIfNeeded {
      try? FileHandle.standardError.write(contentsOf: Data("blasnet-serve: note: \($0)\n".utf8))
    }
    if let threads { BLAS.threadCount = threads }
    let loaded: TabularModel
    do {
      loaded = try TabularModel.load(from: model)
    } catch {
      try? FileHandle.standardError.write(contentsOf: Data("blasnet-serve: error: \(error)\n".utf8))
      throw ExitCode(1)
    }
    var options = ServeOptions()
    options.host = host
    options.port = port
    options.maxBatch = maxBatch
    options.maxWait = .microseconds(maxWait)
    options.maxBodyBytes = maxBody
    options.unseenCategories = unseenAsNone ? .encodeAsNone : .error
    options.idleTimeout = .seconds(idleTimeout)
    options.readTimeout = .seconds(readTimeout)
    options.shutdownTimeout = .seconds(shutdownTimeout)
    let (limit, openFiles) = ConnectionLimit.fitted(maxConnections)
    options.maxConnections = limit
    // Every line through the escaping handler: a client's text never starts a line of its own.
    LoggingSystem.bootstrap { label in
      var handler = ServiceLogHandler(label: label)
      handler.logLevel = .info
      return handler
    }
    let logger = Logger(label: "blasnet-serve")
    logger.info(
      "serving",
      metadata: [
        "model": "\(model)", "network": "\(loaded.network)", "classes": "\(loaded.classes)",
        "blas": "\(BLAS.name) \(BLAS.kernel)", "max_connections": "\(limit)",
      ])
    if limit < maxConnections {
      logger.warning(
        "fewer connections than asked",
        metadata: [
          "max_connections": "\(limit)", "asked": "\(maxConnections)",
          "reason": "the open-file limit is \(openFiles.map(String.init) ?? "?")",
        ])
    }
    let service = PredictionService(model: loaded, options: options)
    var group = ServiceGroupConfiguration(
      services: [
        .init(service: service.application(logger: logger)),
        .init(
          service: ShutdownDeadline(connections: service.connections, timeout: options.shutdownTimeout, logger: logger)),
      ],
      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    // A backstop: should closing the connections not end the server, cancel it.
    group.maximumGracefulShutdownDuration = options.shutdownTimeout + .seconds(5)
    try await ServiceGroup(configuration: group).run()
    logger.info("stopped")
  }
}

/// Bounds the drain after SIGTERM or Ctrl-C: when the graceful shutdown
/// begins it starts a clock, and after `timeout` closes every connection
/// still open (a stalled upload, a client that never reads), so that the
/// server ends and the process exits 0. Listed after the application, it is
/// told of the shutdown first and returns at once.
struct ShutdownDeadline: Service {
  let connections: ConnectionLimit
  let timeout: Duration
  let logger: Logger

  func run() async throws {
    // Returns when the shutdown begins (throws on cancellation: nothing to do then).
    try await gracefulShutdown()
    let (connections, timeout, logger) = (self.connections, self.timeout, self.logger)
    Task.detached {
      try? await Task.sleep(for: timeout)
      let closed = connections.closeAll()
      if closed > 0 {
        logger.warning(
          "closed connections at the shutdown deadline",
          metadata: ["connections": "\(closed)", "timeout_seconds": "\(Double(timeout.components.seconds))"])
      }
    }
  }
}
