// blasnet-load: a bounded load test of blasnet-serve on this machine.
//
//   blasnet-load --port P --body FILE.json [--records K] [--clients C] [--requests N] [--seconds S]
//
// C clients, each on its own keep-alive connection to 127.0.0.1:P (never another
// host), send POST /v1/predict with the body of FILE.json until N requests in all
// are answered or S seconds have passed, then print requests/s, predictions/s
// (K records per request), p50/p99/max latency and the errors (any answer but 200,
// or a broken connection).
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

struct Options {
  var port = 0
  var body = ""
  var records = 1
  var clients = 1
  var requests = 10_000
  var seconds = 60.0
}

func fail(_ message: String) -> Never {
  try? FileHandle.standardError.write(contentsOf: Data("blasnet-load: \(message)\n".utf8))
  exit(2)
}

func parse() -> Options {
  var o = Options()
  var args = Array(CommandLine.arguments.dropFirst())
  while !args.isEmpty {
    let name = args.removeFirst()
    guard let value = args.first else { fail("\(name) needs a value") }
    args.removeFirst()
    switch name {
    case "--port": o.port = Int(value) ?? 0
    case "--body": o.body = value
    case "--records": o.records = Int(value) ?? 0
    case "--clients": o.clients = Int(value) ?? 0
    case "--requests": o.requests = Int(value) ?? 0
    case "--seconds": o.seconds = Double(value) ?? 0
    default: fail("unknown option \(name) (--port, --body, --records, --clients, --requests, --seconds)")
    }
  }
  guard (1...65535).contains(o.port) else { fail("--port must be 1 to 65535 (the service on 127.0.0.1)") }
  guard !o.body.isEmpty else { fail("--body FILE.json: the request body to send") }
  guard o.records >= 1, o.clients >= 1, o.requests >= 1, o.seconds > 0, o.seconds <= 600 else {
    fail("--records, --clients and --requests must be ≥ 1, --seconds in (0, 600]")
  }
  return o
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1.
final class Connection {
  let fd: Int32
  var buffer = [UInt8](repeating: 0, count: 1 << 16)
  var pending: [UInt8] = []

  init?(port: Int) {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    if !ok {
      close(fd)
      return nil
    }
  }

  deinit { close(fd) }

  func send(_ bytes: [UInt8]) -> Bool {
    var sent = 0
    while sent < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return false }
      sent += n
    }
    return true
  }

  /// The status of the next response (its body read and dropped), or nil if the connection broke.
  func receive() -> Int? {
    func fill() -> Bool {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
      if n <= 0 { return false }
      pending += buffer[..<n]
      return true
    }
    let separator: [UInt8] = [13, 10, 13, 10]
    var headerEnd: Int?
    while headerEnd == nil {
      if pending.count >= 4 {
        headerEnd = (0...(pending.count - 4)).first { pending[$0..<($0 + 4)].elementsEqual(separator) }
      }
      if headerEnd == nil && !fill() { return nil }
    }
    let head = String(decoding: pending[..<headerEnd!], as: UTF8.self)
    let lines = head.split(separator: "\r\n")
    guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    let length =
      lines.dropFirst().compactMap { line -> Int? in
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
        return Int(parts[1].trimmingCharacters(in: .whitespaces))
      }.first ?? 0
    let total = headerEnd! + 4 + length
    while pending.count < total { if !fill() { return nil } }
    pending.removeFirst(total)
    return status
  }
}

let options = parse()
guard let body = FileManager.default.contents(atPath: options.body) else { fail("cannot read \(options.body)") }
let request =
  Array(
    "POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1:\(options.port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
      .utf8) + Array(body)

/// What the client threads share: the count of requests started, and what came back.
final class Tally: @unchecked Sendable {
  let lock = NSLock()
  let limit: Int
  let deadline: ContinuousClock.Instant
  var started = 0
  var latencies: [Double] = []
  var errors = 0
  var statuses: [Int: Int] = [:]

  init(limit: Int, deadline: ContinuousClock.Instant) {
    self.limit = limit
    self.deadline = deadline
  }

  /// Takes the next request to send, or false when all are sent or time is up.
  func claim() -> Bool {
    lock.lock()
    defer { lock.unlock() }
    guard started < limit, ContinuousClock.now < deadline else { return false }
    started += 1
    return true
  }

  func add(_ latencies: [Double], errors: Int, statuses: [Int: Int]) {
    lock.lock()
    defer { lock.unlock() }
    self.latencies += latencies
    self.errors += errors
    for (s, n) in statuses { self.statuses[s, default: 0] += n }
  }
}

let clock = ContinuousClock()
let begin = clock.now
let tally = Tally(limit: options.requests, deadline: begin + .seconds(options.seconds))
let port = options.port
let group = DispatchGroup()
for _ in 0..<options.clients {
  group.enter()
  Thread.detachNewThread {
    defer { group.leave() }
    var connection = Connection(port: port)
    var mine: [Double] = []
    var myErrors = 0
    var myStatuses: [Int: Int] = [:]
    while tally.claim() {
      if connection == nil { connection = Connection(port: port) }
      guard let c = connection else {
        myErrors += 1
        continue
      }
      let t0 = ContinuousClock.now
      guard c.send(request), let status = c.receive() else {
        myErrors += 1
        connection = nil
        continue
      }
      let d = ContinuousClock.now - t0
      mine.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
      myStatuses[status, default: 0] += 1
      if status != 200 { myErrors += 1 }
    }
    tally.add(mine, errors: myErrors, statuses: myStatuses)
  }
}
group.wait()
let latencies = tally.latencies.sorted()
let errors = tally.errors
let statuses = tally.statuses
let elapsed = clock.now - begin
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
func percentile(_ p: Double) -> Double {
  latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1e3
}
let answered = latencies.count
let ok = statuses[200] ?? 0
print(
  String(
    format:
      "clients %d, records/request %d: %d requests in %.2f s, %.0f requests/s, %.0f predictions/s, latency p50 %.3f ms, p99 %.3f ms, max %.3f ms, errors %d",
    options.clients, options.records, answered, seconds, Double(answered) / seconds,
    Double(ok * options.records) / seconds, percentile(0.5), percentile(0.99), percentile(1), errors))
if statuses.keys.contains(where: { $0 != 200 }) {
  print("statuses: \(statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
}
exit(errors == 0 ? 0 : 1)
