import Foundation
import Hummingbird
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

  func response() -> Response {
    var error: [String: Any] = ["message": message]
    if let record { error["record"] = record }
    if let field { error["field"] = field }
    let data = (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])) ?? Data()
    return Response(
      status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}

/// The routes of the service: `POST /v1/predict`, `GET /health`, `GET /metrics`.
public struct PredictionService: Sendable {
  public let model: TabularModel
  public let options: ServeOptions
  public let metrics: ServiceMetrics
  public let batcher: MicroBatcher

  public init(model: TabularModel, options: ServeOptions, metrics: ServiceMetrics = ServiceMetrics()) {
    self.model = model
    self.options = options
    self.metrics = metrics
    let (examples, requests) = (metrics.batchExamples, metrics.batchRequests)
    batcher = MicroBatcher(model: model, maxBatch: options.maxBatch, maxWait: options.maxWait) { e, r in
      examples.record(Double(e))
      requests.record(Double(r))
    }
  }

  /// The router of the service.
  public func router() -> Router<BasicRequestContext> {
    let router = Router()
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

  /// The application: the router on `options.host`:`options.port`.
  public func application(logger: Logger) -> some ApplicationProtocol {
    Application(
      router: router(), configuration: .init(address: .hostname(options.host, port: options.port)), logger: logger)
  }

  func answer(_ request: Request, _ context: BasicRequestContext) async -> Response {
    let start = ContinuousClock.now
    defer { metrics.latency.record(ContinuousClock.now - start) }
    metrics.requests.increment()
    do {
      let records = try await records(of: request)
      let inputs: Matrix<Float>
      do {
        inputs = try model.inputs(for: records, unseenCategories: options.unseenCategories)
      } catch {
        throw Self.answer(for: error)
      }
      let predictions: [TabularPrediction]
      switch await batcher.predict(inputs) {
      case .success(let p): predictions = p
      case .failure(let error): throw Self.answer(for: error)
      }
      metrics.predictions.increment(by: Int64(predictions.count))
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: encode(predictions))))
    } catch let error as ErrorAnswer {
      metrics.badRequests.increment()
      context.logger.info(
        "refused", metadata: ["status": "\(error.status.code)", "reason": "\(error.message)"])
      return error.response()
    } catch {
      metrics.badRequests.increment()
      return ErrorAnswer(status: .internalServerError, message: "\(error)").response()
    }
  }

  /// The records of a request body: one JSON object, an array of them, or
  /// `{"records": [...]}`; values as strings, numbers, booleans or null (missing).
  func records(of request: Request) async throws -> [[String: String]] {
    let body: ByteBuffer
    do {
      body = try await request.body.collect(upTo: options.maxBodyBytes)
    } catch is NIOTooManyBytesError {
      throw ErrorAnswer(
        status: .contentTooLarge,
        message: "the request body is over \(options.maxBodyBytes) bytes; send fewer records per request")
    }
    // JSONSerialization, not a Decodable value type: decoding each field by
    // trying types one after another threw an error per miss (120 µs a record).
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed])
    } catch {
      throw ErrorAnswer(status: .badRequest, message: "the body is not JSON: \(error.localizedDescription)")
    }
    let list: [Any]
    if let array = json as? [Any] {
      list = array
    } else if let object = json as? [String: Any], object.count == 1, let array = object["records"] as? [Any] {
      list = array
    } else if json is [String: Any] {
      list = [json]
    } else {
      throw ErrorAnswer(
        status: .badRequest,
        message: "the body must be a record (a JSON object), an array of records, or {\"records\": [...]}")
    }
    if list.isEmpty { throw ErrorAnswer(status: .badRequest, message: "no records to predict") }
    if list.count > options.maxRecords {
      throw ErrorAnswer(
        status: .contentTooLarge, message: "\(list.count) records in one request; the most is \(options.maxRecords)")
    }
    var records: [[String: String]] = []
    records.reserveCapacity(list.count)
    for (r, item) in list.enumerated() {
      guard let object = item as? [String: Any] else {
        throw ErrorAnswer(status: .badRequest, message: "record \(r) is not a JSON object", record: r)
      }
      var record: [String: String] = [:]
      record.reserveCapacity(object.count)
      for (key, value) in object {
        if let text = value as? String {
          record[key] = text
        } else if value is NSNull {
          record[key] = ""
        } else if let number = value as? NSNumber {
          // A JSON true or false is a boolean NSNumber (a class of its own); keep its spelling.
          let boolean = String(describing: type(of: number)).contains("Boolean")
          record[key] = boolean ? (number.boolValue ? "true" : "false") : number.stringValue
        } else {
          throw ErrorAnswer(
            status: .badRequest, message: "record \(r), field \"\(key)\": a value must be a string, a number or null",
            record: r, field: key)
        }
      }
      records.append(record)
    }
    return records
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
  /// (a regression's: `{"value": v}`).
  func encode(_ predictions: [TabularPrediction]) -> [UInt8] {
    let names = model.classes
    var text = #"{"predictions":["#
    for (k, p) in predictions.enumerated() {
      if k > 0 { text += "," }
      if let value = p.value {
        text += #"{"value":"# + (value.isFinite ? "\(value)" : "null") + "}"
        continue
      }
      text += #"{"class":"# + Self.quoted(p.className) + #","probabilities":{"#
      for (j, name) in names.enumerated() {
        if j > 0 { text += "," }
        text += Self.quoted(name) + ":" + "\(p.probabilities[j])"
      }
      text += "}}"
    }
    text += "]}"
    return Array(text.utf8)
  }

  /// `text` as a JSON string.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
