import BLASNetServe
import Foundation
import Hummingbird
import HummingbirdTesting
import LinearAlgebra
import Logging
import NeuralNetwork
import Tabular
import Testing

/// A one-layer model built by hand: inputs [a, c=x, c=y], a filled with 3
/// when missing, standardised with means [1, 0, 0] and deviations [2, 1, 1];
/// z = 0.5·a' + c=x − c=y − 0.25, p = σ(z) (as in the Tabular tests).
func handModel() throws -> TabularModel {
  let network = try Network<Float>(
    parameters: [
      "W1": try Matrix(rows: 1, columns: 3, columnMajor: [0.5, 1, -1]),
      "b1": try Matrix(rows: 1, columns: 1, columnMajor: [-0.25]),
    ], activations: [.sigmoid])
  let encoder = TabularEncoder(
    columns: [
      FeatureColumn(name: "a", encoding: .numeric(fill: 3), allowsMissing: true),
      FeatureColumn(name: "c", encoding: .oneHot(categories: ["x", "y"]), allowsMissing: false),
    ], missing: .mean, missingMarkers: TabularEncoder.defaultMissingMarkers, ignoredColumns: ["id"])
  return TabularModel(
    network: network, encoder: encoder,
    standardizer: Standardizer(means: [1, 0, 0], standardDeviations: [2, 1, 1]), labelName: "label",
    classNames: ["no", "yes"], threshold: 0.5)
}

func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

/// The JSON of an answer.
func json(_ body: ByteBuffer?) throws -> [String: Any] {
  let data = Data(buffer: body ?? ByteBuffer())
  return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// The probability of "yes" of each prediction in an answer.
func yes(_ answer: [String: Any]) throws -> [Double] {
  let predictions = try #require(answer["predictions"] as? [[String: Any]])
  return try predictions.map { p in
    let probabilities = try #require(p["probabilities"] as? [String: Any])
    return try #require((probabilities["yes"] as? NSNumber)?.doubleValue)
  }
}

@Suite struct ServeTests {
  func app(_ options: ServeOptions = ServeOptions(), model: TabularModel? = nil) throws -> (
    some ApplicationProtocol, PredictionService
  ) {
    let service = PredictionService(model: try model ?? handModel(), options: options)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return (service.application(logger: logger), service)
  }

  /// A record that needed something besides plain encoding is answered
  /// with its notes (column, kind, value, sentence); a clean one without.
  @Test func eachAnswerCarriesItsRecordsNotes() async throws {
    var options = ServeOptions()
    options.unseenCategories = .encodeAsNone
    let (app, _) = try app(options)
    try await app.test(.router) { client in
      let body = #"[{"a": 5, "c": "y"}, {"a": null, "c": "z"}, {"a": 25, "c": "x"}]"#
      try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { response in
        #expect(response.status == .ok)
        let predictions = try #require(try json(response.body)["predictions"] as? [[String: Any]])
        #expect(predictions.count == 3)
        #expect(predictions[0]["notes"] == nil)
        let second = try #require(predictions[1]["notes"] as? [[String: Any]])
        #expect(second.map { $0["kind"] as? String } == ["filled", "unseen-category"])
        #expect(second.map { $0["column"] as? String } == ["a", "c"])
        #expect((second[0]["value"] as? NSNumber)?.doubleValue == 3)
        #expect(second[1]["value"] as? String == "z")
        #expect(second[0]["text"] as? String == #""a": missing, filled with 3.0"#)
        let third = try #require(predictions[2]["notes"] as? [[String: Any]])
        #expect(third.map { $0["kind"] as? String } == ["far-from-training"])
        #expect((third[0]["value"] as? NSNumber)?.doubleValue == 25)
      }
    }
  }

  @Test func recordsArePredictedInOrderAsComputedByHand() async throws {
    let (app, _) = try app()
    try await app.test(.router) { client in
      // z = 0.5·(5 − 1)/2 + 0 − 1 − 0.25 = −0.25; a missing (null): a = 3, z = 0.5 + 1 − 0.25 = 1.25.
      let body = #"[{"a": 5, "c": "y"}, {"a": null, "c": "x", "id": "P7"}, {"a": "1e0", "c": "x"}]"#
      try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        let p = try yes(try json(response.body))
        #expect(p.count == 3)
        #expect(Swift.abs(p[0] - sigmoid(-0.25)) < 1e-6)
        #expect(Swift.abs(p[1] - sigmoid(1.25)) < 1e-6)
        #expect(Swift.abs(p[2] - sigmoid(0.75)) < 1e-6)
        let classes = try #require(try json(response.body)["predictions"] as? [[String: Any]]).map {
          $0["class"] as? String
        }
        #expect(classes == ["no", "yes", "yes"])
      }
      // One record alone, and {"records": [...]}, answer the same way.
      for body in [#"{"a": 5, "c": "y"}"#, #"{"records": [{"a": 5, "c": "y"}]}"#] {
        try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { response in
          #expect(response.status == .ok)
          let p = try yes(try json(response.body))
          #expect(p.map { Swift.abs($0 - sigmoid(-0.25)) < 1e-6 } == [true])
        }
      }
    }
  }

  @Test func aRegressionModelAnswersValues() async throws {
    // The hand model with a linear output and a target of mean 10, deviation 2: value = 2z + 10.
    var model = try handModel()
    model.network = try Network<Float>(
      parameters: ["W1": model.network.weights(1), "b1": model.network.bias(1)], activations: [.identity])
    (model.classNames, model.threshold, model.target) = (nil, nil, TargetScale(mean: 10, standardDeviation: 2))
    let (app, _) = try app(model: model)
    try await app.test(.router) { client in
      let body = #"[{"a": 5, "c": "y"}, {"a": null, "c": "x"}]"#
      try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { response in
        #expect(response.status == .ok)
        let predictions = try #require(try json(response.body)["predictions"] as? [[String: Any]])
        let values = predictions.compactMap { ($0["value"] as? NSNumber)?.doubleValue }
        // z = −0.25 and 1.25 (see recordsArePredictedInOrderAsComputedByHand).
        #expect(values.count == 2 && abs(values[0] - 9.5) < 1e-5 && abs(values[1] - 12.5) < 1e-5, "\(predictions)")
      }
    }
  }

  @Test func badRequestsAre4xxNamingTheRecordAndField() async throws {
    var options = ServeOptions()
    options.maxBodyBytes = 200
    options.maxRecords = 3
    let (app, _) = try app(options)
    try await app.test(.router) { client in
      let cases: [(String, HTTPResponse.Status, String, Int?, String?)] = [
        ("{nope", .badRequest, "the body is not JSON", nil, nil),
        ("[]", .badRequest, "no records to predict", nil, nil),
        ("42", .badRequest, "the body must be a record", nil, nil),
        (#"[{"a": 1, "c": "x"}, {"c": "x"}]"#, .badRequest, "record 1: no field \"a\"", 1, "a"),
        (#"[{"a": "big", "c": "x"}]"#, .badRequest, "record 0", 0, "a"),
        (#"[{"a": 1, "c": "z"}]"#, .badRequest, "record 0", 0, "c"),
        (#"[{"a": 1, "c": "x", "d": 2}]"#, .badRequest, "record 0", 0, "d"),
        (#"[{"a": [1], "c": "x"}]"#, .badRequest, "a value must be a string, a number or null", 0, "a"),
        (
          #"[{"a":1,"c":"x"},{"a":1,"c":"x"},{"a":1,"c":"x"},{"a":1,"c":"x"}]"#, .contentTooLarge, "4 records", nil, nil
        ),
        (String(repeating: " ", count: 300) + "{}", .contentTooLarge, "over 200 bytes", nil, nil),
      ]
      for (body, status, message, record, field) in cases {
        try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { response in
          #expect(response.status == status, "\(body)")
          let error = try #require(try json(response.body)["error"] as? [String: Any], "\(body)")
          #expect(
            (error["message"] as? String)?.hasPrefix(message) == true
              || (error["message"] as? String)?.contains(message) == true, "\(error)")
          #expect(error["record"] as? Int == record, "\(body)")
          #expect(error["field"] as? String == field, "\(body)")
        }
      }
    }
  }

  @Test func healthAndMetrics() async throws {
    let (app, _) = try app()
    try await app.test(.router) { client in
      try await client.execute(uri: "/health", method: .get) { response in
        #expect(response.status == .ok)
        let answer = try json(response.body)
        #expect(answer["status"] as? String == "ok")
      }
      for body in [#"[{"a": 5, "c": "y"}, {"a": 1, "c": "x"}]"#, "{nope"] {
        try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { _ in }
      }
      try await client.execute(uri: "/metrics", method: .get) { response in
        #expect(response.status == .ok)
        let text = String(buffer: response.body ?? ByteBuffer())
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("blasnet_requests_total 2"), "\(text)")
        #expect(lines.contains("blasnet_request_errors_total 1"))
        #expect(lines.contains("blasnet_predictions_total 2"))
        #expect(lines.contains("blasnet_batch_examples_count 1"))
        #expect(lines.contains("blasnet_request_duration_seconds_count 2"))
      }
    }
  }

  /// Concurrent requests share passes through the network, and each gets
  /// its own predictions back.
  @Test func concurrentRequestsAreBatchedAndAnsweredInOrder() async throws {
    let model = try handModel()
    let passes = Passes()
    let batcher = MicroBatcher(model: model, maxBatch: 1000, maxWait: .milliseconds(50)) { examples, requests in
      passes.add(examples, requests)
    }
    let requests = (0..<40).map { k in (0...(k % 3)).map { j in ["a": "\(k + j)", "c": k % 2 == 0 ? "x" : "y"] } }
    let answers = try await withThrowingTaskGroup(of: (Int, [TabularPrediction]).self) { group in
      for (k, records) in requests.enumerated() {
        group.addTask {
          let inputs = try model.inputs(for: records)
          return (k, try await batcher.predict(inputs).get())
        }
      }
      var all: [Int: [TabularPrediction]] = [:]
      for try await (k, p) in group { all[k] = p }
      return all
    }
    for (k, records) in requests.enumerated() {
      // The same bits as predicting the request alone: a tabular model's
      // products are ordered, so a row's outputs do not depend on the batch.
      let direct = try model.predict(records)
      let batched = try #require(answers[k])
      #expect(batched.map(\.className) == direct.map(\.className), "request \(k)")
      for (a, b) in zip(batched, direct) {
        #expect(a.probabilities.map(\.bitPattern) == b.probabilities.map(\.bitPattern), "request \(k)")
      }
    }
    let seen = passes.all
    #expect(seen.reduce(0) { $0 + $1.requests } == 40)
    #expect(seen.reduce(0) { $0 + $1.examples } == requests.reduce(0) { $0 + $1.count })
    #expect(seen.count < 40, "\(seen.count) passes for 40 requests")
  }

  /// The service on a real port: it answers, and a request too large for
  /// one pass is still answered whole.
  @Test func aLiveServerAnswers() async throws {
    var options = ServeOptions()
    options.port = 0
    options.maxBatch = 2
    let (app, _) = try app(options)
    try await app.test(.live) { client in
      let body = #"[{"a": 5, "c": "y"}, {"a": 1, "c": "x"}, {"a": 3, "c": "x"}]"#
      try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)) { response in
        #expect(response.status == .ok)
        let p = try yes(try json(response.body))
        #expect(p.count == 3)
      }
    }
  }
}

/// What a batcher reported, from any thread.
final class Passes: @unchecked Sendable {
  private let lock = NSLock()
  private var seen: [(examples: Int, requests: Int)] = []
  func add(_ examples: Int, _ requests: Int) {
    lock.lock()
    seen.append((examples, requests))
    lock.unlock()
  }
  var all: [(examples: Int, requests: Int)] {
    lock.lock()
    defer { lock.unlock() }
    return seen
  }
}

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The built executable, as an operator runs it.
@Suite(.serialized) struct ServeProcessTests {
  var executable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("blasnet-serve")
  }

  @Test func aModelThatDoesNotLoadStopsStartupWithTheLoadersMessage() throws {
    let process = Process()
    process.executableURL = executable
    process.arguments = ["/nonexistent/model.json", "--port", "0"]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 1)
    #expect(text.contains("blasnet-serve: error: /nonexistent/model.json: cannot read the model file"), "\(text)")
  }

  /// Started on a free port, it answers; SIGTERM lets it finish and exit 0.
  @Test func itAnswersThenStopsCleanlyOnSIGTERM() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let modelPath = folder.appendingPathComponent("m.json").path
    try handModel().save(to: modelPath)
    let process = Process()
    process.executableURL = executable
    process.arguments = [modelPath, "--port", "0"]
    let out = Pipe()
    process.standardError = out
    process.standardOutput = out
    try process.run()
    // Its log names the port it listens on.
    var log = ""
    var port: Int?
    let deadline = Date().addingTimeInterval(60)
    while port == nil && Date() < deadline {
      let data = out.fileHandleForReading.availableData
      if data.isEmpty { break }
      log += String(decoding: data, as: UTF8.self)
      if let range = log.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
        port = Int(log[range].split(separator: ":").last!)
      }
    }
    let bound = try #require(port, "\(log)")
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(bound)/v1/predict")!)
    request.httpMethod = "POST"
    request.httpBody = Data(#"{"a": 5, "c": "y"}"#.utf8)
    let (data, response) = try await URLSession.shared.data(for: request)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    #expect(String(decoding: data, as: UTF8.self).hasPrefix(#"{"predictions":[{"class":"no""#))
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    #expect(process.terminationReason == .exit && process.terminationStatus == 0)
  }
}
