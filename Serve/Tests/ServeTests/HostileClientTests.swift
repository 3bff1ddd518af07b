import BLASNetServe
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Log lines: a client's text never starts a line of its own.
@Suite struct LogLineTests {
  @Test func controlCharactersAreEscapedInMessagesKeysAndValues() {
    let line = ServiceLogHandler.line(
      time: "2026-12-06T06:09:00+0000", level: .info, label: "blasnet-serve", message: "refused",
      metadata: [
        "status": "400",
        "reason": "abc\n2026-12-06T06:09:00+0000 critical blasnet-serve: FORGED admin login",
        "field\r\nx": "\u{1B}[31mred\u{1B}[0m\u{2028}\u{202E}",
      ])
    #expect(
      line == #"2026-12-06T06:09:00+0000 info blasnet-serve: refused "#
        + #"field\r\nx="\u001b[31mred\u001b[0m\u2028\u202e" "#
        + #"reason="abc\n2026-12-06T06:09:00+0000 critical blasnet-serve: FORGED admin login" status=400"#)
    #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
  }

  @Test func plainWordsStayBareAndTheRestIsQuotedAsJSON() {
    #expect(ServiceLogHandler.escaped("tab\there") == #"tab\there"#)
    #expect(ServiceLogHandler.escaped(#"a "b" \c"#, quoting: true) == #"a \"b\" \\c"#)
    let line = ServiceLogHandler.line(
      time: "T", level: .warning, label: "x", message: "m",
      metadata: ["a": "1.5", "b": "two words", "c": "k=v", "d": "", "e": .array(["p", "q r"])])
    #expect(line == #"T warning x: m a=1.5 b="two words" c="k=v" d="" e=[p,"q r"]"#)
  }
}

/// Unknown routes and wrong methods.
@Suite struct RouteTests {
  @Test func unknownRoutesAre404AndWrongMethods405WithAllowBothJSON() async throws {
    let service = PredictionService(model: try handModel(), options: ServeOptions())
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    try await service.application(logger: logger).test(.router) { client in
      try await client.execute(uri: "/v1/predict", method: .get) { response in
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "POST")
        #expect(response.headers[.contentType] == "application/json")
        let error = try #require(try json(response.body)["error"] as? [String: Any])
        #expect(error["message"] as? String == #"/v1/predict takes POST, not "GET""#)
      }
      try await client.execute(uri: "/health", method: .delete) { response in
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "GET")
      }
      try await client.execute(uri: "/nope/<script>", method: .get) { response in
        #expect(response.status == .notFound)
        #expect(response.headers[.contentType] == "application/json")
        let error = try #require(try json(response.body)["error"] as? [String: Any])
        #expect(
          error["message"] as? String
            == #"no such route: "/nope/<script>"; the routes are GET /health, GET /metrics, POST /v1/predict"#)
      }
    }
  }
}

/// A socket to the service, byte by byte, as a hostile client holds one.
final class RawConnection {
  let socket: Int32

  init(port: Int) throws {
    socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard status == 0 else {
      close(socket)
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
  }

  deinit { close(socket) }

  func send(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  }

  /// Everything received until the server closes the connection or `seconds` pass;
  /// `closed` tells which.
  func receiveAll(within seconds: Double) -> (text: String, closed: Bool) {
    var received: [UInt8] = []
    let deadline = Date().addingTimeInterval(seconds)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while Date() < deadline {
      var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
      let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
      guard poll(&poller, 1, left) > 0 else { continue }
      let n = recv(socket, &buffer, buffer.count, 0)
      if n <= 0 { return (String(decoding: received, as: UTF8.self), true) }
      received += buffer[..<n]
    }
    return (String(decoding: received, as: UTF8.self), false)
  }

  /// One whole HTTP/1.1 request, and the answer's status line (nil if none came within `seconds`).
  func request(_ method: String, _ path: String, body: String = "", within seconds: Double = 10) -> String? {
    send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    var received: [UInt8] = []
    let deadline = Date().addingTimeInterval(seconds)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while Date() < deadline {
      var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
      guard poll(&poller, 1, 100) > 0 else { continue }
      let n = recv(socket, &buffer, buffer.count, 0)
      if n <= 0 { break }
      received += buffer[..<n]
      if let end = String(decoding: received, as: UTF8.self).range(of: "\r\n") {
        return String(String(decoding: received, as: UTF8.self)[..<end.lowerBound])
      }
    }
    return nil
  }
}

/// `blasnet-serve` started on a free port of 127.0.0.1 with `arguments`,
/// its standard output and error read into ``log``.
final class RunningService: @unchecked Sendable {
  let process = Process()
  let port: Int
  private let lock = NSLock()
  private var text = ""
  private let folder: URL

  init(_ arguments: [String] = []) throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let modelPath = folder.appendingPathComponent("m.json").path
    try handModel().save(to: modelPath)
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("blasnet-serve")
    process.arguments = [modelPath, "--port", "0"] + arguments
    let out = Pipe()
    process.standardError = out
    process.standardOutput = out
    try process.run()
    var found: Int?
    let deadline = Date().addingTimeInterval(60)
    while found == nil && Date() < deadline {
      let data = out.fileHandleForReading.availableData
      if data.isEmpty { break }
      text += String(decoding: data, as: UTF8.self)
      if let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
        found = Int(text[range].split(separator: ":").last!)
      }
    }
    guard let found else {
      process.terminate()
      throw POSIXError(.EIO, "blasnet-serve did not start: \(text)")
    }
    port = found
    // The rest of the log, read in the background until the process closes it.
    let handle = out.fileHandleForReading
    Thread.detachNewThread { [self] in
      while true {
        let data = handle.availableData
        if data.isEmpty { break }
        lock.withLock { text += String(decoding: data, as: UTF8.self) }
      }
    }
  }

  deinit {
    if process.isRunning { process.terminate() }
    try? FileManager.default.removeItem(at: folder)
  }

  var log: String { lock.withLock { text } }

  /// Sends SIGTERM and waits at most `seconds` for the exit: its status, or nil if it did not exit.
  func terminate(within seconds: Double) -> (status: Int32, seconds: Double)? {
    let start = Date()
    kill(process.processIdentifier, SIGTERM)
    while process.isRunning && Date().timeIntervalSince(start) < seconds { usleep(20_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      return nil
    }
    return (process.terminationReason == .exit ? process.terminationStatus : -1, Date().timeIntervalSince(start))
  }
}

extension POSIXError {
  init(_ code: POSIXErrorCode, _ message: String) {
    self.init(code, userInfo: [NSLocalizedDescriptionKey: message])
  }
}

/// The built service under hostile clients.
@Suite(.serialized) struct HostileClientTests {
  /// A value and a field name with a newline, a CR LF and ANSI escapes give one escaped log line.
  @Test func aClientCannotForgeLogLines() throws {
    let service = try RunningService()
    let forged = "2026-12-06T06:09:00+0000 critical blasnet-serve: FORGED admin login"
    let bodies = [
      #"{"a": "abc\n"# + forged + #"", "c": "x"}"#,
      #"{"a": 1, "c": "x", "evil\r\n"# + forged + #"\u001b[2J": 1}"#,
    ]
    let connection = try RawConnection(port: service.port)
    for body in bodies {
      #expect(connection.request("POST", "/v1/predict", body: body) == "HTTP/1.1 400 Bad Request")
    }
    let result = try #require(service.terminate(within: 20))
    #expect(result.status == 0)
    let lines = service.log.split(separator: "\n", omittingEmptySubsequences: false)
    // Each refused request is one line, which starts as the service's own lines do; nothing starts as the forgery.
    let refused = lines.filter { $0.contains(" info blasnet-serve: refused ") }
    #expect(refused.count == 2, "\(service.log)")
    #expect(refused.allSatisfy { $0.contains("FORGED") })
    #expect(lines.filter { $0.contains("FORGED") }.count == 2)
    #expect(!lines.contains { $0.hasPrefix("2026-12-06T06:09:00+0000 critical") })
    #expect(!service.log.unicodeScalars.contains { $0 == "\r" || $0 == "\u{1B}" })
  }

  /// A client that sends a head and 4 of its 100 body bytes, then nothing: SIGTERM still ends the
  /// service within the shutdown timeout, exit 0, after answering a request in progress.
  @Test func aStalledUploadDoesNotHoldTheShutdown() throws {
    let service = try RunningService(["--shutdown-timeout", "1", "--read-timeout", "60"])
    let stalled = try RawConnection(port: service.port)
    stalled.send("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")
    let other = try RawConnection(port: service.port)
    #expect(other.request("POST", "/v1/predict", body: #"{"a": 5, "c": "y"}"#) == "HTTP/1.1 200 OK")
    usleep(200_000)
    let result = try #require(service.terminate(within: 15), "still running 15 s after SIGTERM")
    #expect(result.status == 0)
    #expect(result.seconds >= 0.9 && result.seconds < 8, "\(result.seconds) s")
    #expect(stalled.receiveAll(within: 1).closed)
    #expect(service.log.contains("closed connections at the shutdown deadline connections=1"), "\(service.log)")
  }

  /// A request that does not arrive within the read timeout is answered 408 and its connection closed.
  @Test func aStalledUploadIsAnswered408() throws {
    let service = try RunningService(["--read-timeout", "1"])
    let stalled = try RawConnection(port: service.port)
    let start = Date()
    stalled.send("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")
    let (text, closed) = stalled.receiveAll(within: 10)
    #expect(closed)
    #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(text)")
    #expect(text.contains(#"{"error":{"message":"the request was not received within 1.0 s of its head"#))
    #expect(Date().timeIntervalSince(start) > 0.9)
    _ = service.terminate(within: 20)
  }

  @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() throws {
    let service = try RunningService(["--idle-timeout", "1"])
    let idle = try RawConnection(port: service.port)
    let start = Date()
    let (text, closed) = idle.receiveAll(within: 10)
    #expect(closed && text.isEmpty)
    #expect(Date().timeIntervalSince(start) > 0.9)
    _ = service.terminate(within: 20)
  }

  /// Many more silent connections than places: the oldest idle ones are closed to make room,
  /// and /health answers.
  @Test func healthAnswersPastManyIdleConnections() throws {
    let service = try RunningService(["--max-connections", "8"])
    var silent: [RawConnection] = []
    for _ in 0..<40 { silent.append(try RawConnection(port: service.port)) }
    let health = try RawConnection(port: service.port)
    #expect(health.request("GET", "/health") == "HTTP/1.1 200 OK")
    // The oldest silent connections were closed by the service.
    #expect(silent[0].receiveAll(within: 2).closed)
    _ = service.terminate(within: 20)
  }

  /// When every place holds a request in progress, a new connection gets 503 and is closed.
  @Test func pastTheLimitOfBusyConnectionsA503() throws {
    let service = try RunningService(["--max-connections", "2", "--read-timeout", "60"])
    var busy: [RawConnection] = []
    for _ in 0..<2 {
      let connection = try RawConnection(port: service.port)
      connection.send("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
      busy.append(connection)
    }
    usleep(300_000)
    let late = try RawConnection(port: service.port)
    let (text, closed) = late.receiveAll(within: 5)
    #expect(closed)
    #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(text)")
    #expect(text.contains("the service is at its limit of 2 connections"))
    // Once one busy client finishes, the service answers again.
    busy[0].send(String(repeating: " ", count: 99))
    #expect(busy[0].receiveAll(within: 2).text.hasPrefix("HTTP/1.1 400"))
    let after = try RawConnection(port: service.port)
    #expect(after.request("GET", "/health") == "HTTP/1.1 200 OK")
    _ = service.terminate(within: 20)
  }
}
