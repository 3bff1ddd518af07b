import Foundation
import Hummingbird
import HummingbirdCore
import LinearAlgebra
import Logging
import NIOCore
import Prometheus
import Tabular

/// How `blasnet-serve` runs.
public struct ServeOptions: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  /// The most examples in one pass through the network.
  public var maxBatch = 1024
  /// How long an idle service waits for more requests before a pass that is not full.
  public var maxWait: Duration = .zero
  /// The largest request body, in bytes (beyond it: 413).
  public var maxBodyBytes = 4 << 20
  /// The most records in one request.
  public var maxRecords = 10_000
  /// What to do with a category never seen in training.
  public var unseenCategories: TabularModel.UnseenCategories = .error
  /// How long a connection may stay open with no request in progress and
  /// nothing received (a keep-alive connection between requests, or one
  /// that has not finished sending its request head): then it is closed.
  public var idleTimeout: Duration = .seconds(30)
  /// How long a request may take to arrive, from its head to its last body
  /// byte: a client that stalls or trickles its upload gets a 408 and is
  /// disconnected.
  public var readTimeout: Duration = .seconds(10)
  /// After SIGTERM or Ctrl-C: how long requests in progress have to finish
  /// before the connections still open are closed and the service exits.
  public var shutdownTimeout: Duration = .seconds(5)
  /// The most connections open at once (fewer when the open-file limit
  /// leaves fewer; see ``ConnectionLimit``).
  public var maxConnections = 1000

  public init() {}
}

/// The service's Prometheus metrics.
public struct ServiceMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  let requests: Counter
  let badRequests: Counter
  let predictions: Counter
  let latency: DurationHistogram
  let batchExamples: ValueHistogram
  let batchRequests: ValueHistogram

  public init() {
    func name(_ metric: String, _ unit: String?, _ help: String) -> MetricNameDescriptor {
      MetricNameDescriptor(namespace: "blasnet", metricName: metric, unitName: unit, helpText: help)
    }
    requests = registry.makeCounter(descriptor: name("requests", "total", "Prediction requests answered"))
    badRequests = registry.makeCounter(
      descriptor: name("request_errors", "total", "Prediction requests refused (4xx) or failed (5xx)"))
    predictions = registry.makeCounter(descriptor: name("predictions", "total", "Records predicted"))
    latency = registry.makeDurationHistogram(
      descriptor: name("request_duration", "seconds", "Time from a prediction request's arrival to its answer"),
      buckets: [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .seconds(1),
      ])
    batchExamples = registry.makeValueHistogram(
      descriptor: name("batch_examples", nil, "Examples per pass through the network"),
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096])
    batchRequests = registry.makeValueHistogram(
      descriptor: name("batch_requests", nil, "Requests per pass through the network"),
      buckets: [1, 2, 4, 8, 16, 32, 64, 128])
  }
}

/// A JSON error answer: `{"error": {"message": …, "record": …, "field": …}}`.
struct ErrorAnswer: Error {
  var status: HTTPResponse.Status
  var message: String
  var record: Int?
  var field: String?
  /// Logged at debug level only: the client is gone (another line, such as the read timeout's, said why).
  var quiet = false

  init(status: HTTPResponse.Status, message: String, record: Int? = nil, field: String? = nil) {
    (self.status, self.message, self.record, self.field) = (status, message, record, field)
  }

  /// A refusal of the request decoder: 413 for too many records, else 400.
  init(_ failure: JSONRecords.Failure) {
    self.init(
      status: failure.kind == .tooMany ? .contentTooLarge : .badRequest, message: failure.message,
      record: failure.record, field: failure.field)
  }

  /// The body: `{"error": {"field": …, "message": …, "record": …}}`.
  func json() -> [UInt8] {
    var text = #"{"error":{"#
    if let field { text += #""field":"# + PredictionService.quoted(field) + "," }
    text += #""message":"# + PredictionService.quoted(message)
    if let record { text += #","record":\#(record)"# }
    return Array((text + "}}").utf8)
  }

  func response(headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: json())))
  }
}

/// The routes of the service: `POST /v1/predict`, `GET /health`, `GET /metrics`.
public struct PredictionService: Sendable {
  public let model: TabularModel
  public let options: ServeOptions
  public let metrics: ServiceMetrics
  public let batcher: MicroBatcher
  /// The open connections, at most `options.maxConnections`.
  public let connections: ConnectionLimit

  /// The routes and the methods each takes (any other method: 405 with `Allow`).
  static let routes: [String: [HTTPRequest.Method]] = [
    "/v1/predict": [.post], "/health": [.get], "/metrics": [.get],
  ]

  public init(model: TabularModel, options: ServeOptions, metrics: ServiceMetrics = ServiceMetrics()) {
    self.model = model
    self.options = options
    self.metrics = metrics
    self.connections = ConnectionLimit(limit: max(1, options.maxConnections))
    let (examples, requests) = (metrics.batchExamples, metrics.batchRequests)
    batcher = MicroBatcher(model: model, maxBatch: options.maxBatch, maxWait: options.maxWait) { e, r in
      examples.record(Double(e))
      requests.record(Double(r))
    }
  }

  /// The router of the service.
  public func router() -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: UnknownRoutes())
    let service = self
    router.post("v1/predict") { request, context in
      await service.answer(request, context)
    }
    router.get("health") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(bytes: service.metrics.registry.emitToBuffer())))
    }
    return router
  }

  /// The application: the router on `options.host`:`options.port`, each
  /// connection under the idle and read timeouts and the connection limit.
  public func application(logger: Logger) -> some ApplicationProtocol {
    let (connections, readTimeout) = (self.connections, options.readTimeout)
    let http = HTTP1Channel.Configuration(
      additionalChannelHandlers: [ConnectionGuard(connections: connections, readTimeout: readTimeout, logger: logger)],
      idleTimeout: TimeAmount(options.idleTimeout))
    return Application(
      router: router(), server: .http1(configuration: http),
      configuration: .init(address: .hostname(options.host, port: options.port)), logger: logger)
  }

  func answer(_ request: Request, _ context: BasicRequestContext) async -> Response {
    let start = ContinuousClock.now
    defer { metrics.latency.record(ContinuousClock.now - start) }
    metrics.requests.increment()
    do {
      let records = try await records(of: request)
      let encoded: (inputs: Matrix<Float>, notes: [[PredictionNote]])
      do {
        encoded = try model.inputsAndNotes(for: records, unseenCategories: options.unseenCategories)
      } catch {
        throw Self.answer(for: error)
      }
      var predictions: [TabularPrediction]
      switch await batcher.predict(encoded.inputs) {
      case .success(let p): predictions = p
      case .failure(let error): throw Self.answer(for: error)
      }
      for (k, notes) in encoded.notes.enumerated() where !notes.isEmpty { predictions[k].notes = notes }
      metrics.predictions.increment(by: Int64(predictions.count))
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: encode(predictions))))
    } catch let error as ErrorAnswer {
      metrics.badRequests.increment()
      // One line per refused request (at debug level when the client is gone); the log handler
      // escapes the client's text in every field.
      var metadata: Logger.Metadata = ["status": "\(error.status.code)", "reason": "\(error.message)"]
      if let record = error.record { metadata["record"] = "\(record)" }
      if let field = error.field { metadata["field"] = "\(field)" }
      context.logger.log(level: error.quiet ? .debug : .info, "refused", metadata: metadata)
      return error.response()
    } catch {
      metrics.badRequests.increment()
      context.logger.error("failed", metadata: ["status": "500", "reason": "\(error)"])
      return ErrorAnswer(status: .internalServerError, message: "\(error)").response()
    }
  }

  /// The records of a request body as typed values (see
  /// ``JSONRecords/decodeValues(_:maxRecords:)``: a JSON number is used as a number).
  func records(of request: Request) async throws -> [[String: TabularValue]] {
    let body: ByteBuffer
    do {
      body = try await request.body.collect(upTo: options.maxBodyBytes)
    } catch is NIOTooManyBytesError {
      throw ErrorAnswer(
        status: .contentTooLarge,
        message: "the request body is over \(options.maxBodyBytes) bytes; send fewer records per request")
    } catch {
      // The client went away or broke the framing mid-body: its fault, not the service's.
      var answer = ErrorAnswer(status: .badRequest, message: "the request body could not be read: \(error)")
      answer.quiet = true
      throw answer
    }
    do {
      return try JSONRecords.decodeValues(Array(buffer: body), maxRecords: options.maxRecords)
    } catch {
      throw ErrorAnswer(error)
    }
  }

  /// A record error as a 400 (422 for a model output that is not finite) naming record and field.
  static func answer(for error: RecordError) -> ErrorAnswer {
    var field: String?
    switch error {
    case .missingColumn(_, let c), .unknownColumn(_, let c, _), .missingValue(_, let c, _), .notANumber(_, let c, _),
      .notFinite(_, let c, _), .unseenCategory(_, let c, _, _):
      field = c
    case .outputNotFinite: field = nil
    }
    let status: HTTPResponse.Status
    if case .outputNotFinite = error { status = .unprocessableContent } else { status = .badRequest }
    return ErrorAnswer(status: status, message: error.description, record: error.record, field: field)
  }

  /// `{"predictions": [{"class": …, "probabilities": {class: p, …}}, …]}`, in the records' order
  /// (a regression's: `{"value": v}`); a record with notes has them too, as
  /// `"notes": [{"column": …, "kind": "filled"|"unseen-category"|"far-from-training", "value": …, "text": …}]`.
  func encode(_ predictions: [TabularPrediction]) -> [UInt8] {
    let names = model.classes
    var text = #"{"predictions":["#
    for (k, p) in predictions.enumerated() {
      if k > 0 { text += "," }
      if let value = p.value {
        text += #"{"value":"# + Self.number(value)
      } else {
        text += #"{"class":"# + Self.quoted(p.className) + #","probabilities":{"#
        for (j, name) in names.enumerated() {
          if j > 0 { text += "," }
          text += Self.quoted(name) + ":" + "\(p.probabilities[j])"
        }
        text += "}"
      }
      if !p.notes.isEmpty {
        text += #","notes":["# + p.notes.map(Self.json).joined(separator: ",") + "]"
      }
      text += "}"
    }
    text += "]}"
    return Array(text.utf8)
  }

  /// One note as a JSON object: its column, its kind, the value (a number, a
  /// category, or null for a text column's missing value) and its sentence.
  static func json(_ note: PredictionNote) -> String {
    let (kind, value): (String, String)
    switch note {
    case .filled(_, let v): (kind, value) = ("filled", v.map(number) ?? "null")
    case .unseenCategory(_, let v): (kind, value) = ("unseen-category", quoted(v))
    case .farFromTraining(_, let v): (kind, value) = ("far-from-training", number(v))
    }
    return #"{"column":"# + quoted(note.column) + #","kind":""# + kind + #"","value":"# + value + #","text":"#
      + quoted(note.description) + "}"
  }

  /// `value` as a JSON number (null when not finite).
  static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

  /// `text` as a JSON string (control and format characters escaped, as in the log).
  static func quoted(_ text: String) -> String {
    "\"" + ServiceLogHandler.escaped(text, quoting: true) + "\""
  }
}

/// Unknown paths answer 404 and known paths with another method 405 (with
/// `Allow`), both with a JSON error body like every other refusal.
struct UnknownRoutes: RouterMiddleware {
  typealias Context = BasicRequestContext

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as HTTPError where error.status == .notFound {
      let path = "/" + request.uri.path.split(separator: "/").joined(separator: "/")
      let listed = PredictionService.routes.keys.sorted().map { key in
        PredictionService.routes[key]!.map { "\($0) \(key)" }.joined(separator: ", ")
      }.joined(separator: ", ")
      if let allowed = PredictionService.routes[path] {
        let names = allowed.map(\.rawValue)
        return ErrorAnswer(
          status: .methodNotAllowed,
          message: "\(path) takes \(names.joined(separator: " or ")), not \(quoted(request.method.rawValue))"
        ).response(headers: [.allow: names.joined(separator: ", ")])
      }
      return ErrorAnswer(status: .notFound, message: "no such route: \(quoted(path)); the routes are \(listed)")
        .response()
    }
  }

  /// `s` in quotes, cut to 80 characters (the path is the client's).
  func quoted(_ s: String) -> String {
    s.count <= 80 ? "\"\(s)\"" : "\"\(s.prefix(79))…\""
  }
}
