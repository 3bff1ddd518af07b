import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

#if canImport(Glibc)
  import Glibc
#endif

/// The service's open connections, at most ``limit`` of them. When a new
/// connection finds them all open, the oldest idle one (no request in
/// progress: a keep-alive connection between requests, or one that never
/// sent a request head) is closed to make room, as nginx reuses idle
/// connections; when none is idle, the new connection is answered 503 and
/// closed. So silent connections can neither exhaust the open-file limit nor
/// keep a health check out.
public final class ConnectionLimit: @unchecked Sendable {
  struct Entry {
    let channel: any Channel
    var requests = 0
    var closing = false
  }

  /// The most connections open at once.
  public let limit: Int
  private let lock = NSLock()
  private var entries: [Int: Entry] = [:]
  private var nextID = 0
  private var counted = 0

  public init(limit: Int) {
    precondition(limit >= 1, "ConnectionLimit needs a limit of at least 1, got \(limit)")
    self.limit = limit
  }

  /// The connections open and not being closed.
  public var openCount: Int {
    lock.withLock { counted }
  }

  enum Admission: Equatable {
    /// Admitted under this identifier (after closing `evicted` idle connections to make room).
    case admitted(Int, evicted: Int)
    /// Every place is held by a connection with a request in progress.
    case refused
  }

  /// Admits `channel`, closing the oldest idle connection when every place is taken.
  func admit(_ channel: any Channel) -> Admission {
    var victim: (any Channel)?
    let admission: Admission = lock.withLock {
      if counted >= limit {
        guard let oldest = entries.filter({ !$0.value.closing && $0.value.requests == 0 }).keys.min() else {
          return .refused
        }
        entries[oldest]!.closing = true
        counted -= 1
        victim = entries[oldest]!.channel
      }
      let id = nextID
      nextID += 1
      entries[id] = Entry(channel: channel)
      counted += 1
      return .admitted(id, evicted: victim == nil ? 0 : 1)
    }
    victim?.close(promise: nil)
    return admission
  }

  func requestStarted(_ id: Int) {
    lock.withLock { entries[id]?.requests += 1 }
  }

  func requestAnswered(_ id: Int) {
    lock.withLock {
      if let n = entries[id]?.requests, n > 0 { entries[id]!.requests = n - 1 }
    }
  }

  func closed(_ id: Int) {
    lock.withLock {
      if let entry = entries.removeValue(forKey: id), !entry.closing { counted -= 1 }
    }
  }

  /// Closes every open connection (the end of a bounded shutdown); returns how many.
  @discardableResult
  public func closeAll() -> Int {
    let channels: [any Channel] = lock.withLock {
      let open = entries.values.filter { !$0.closing }.map(\.channel)
      for id in entries.keys { entries[id]!.closing = true }
      counted = 0
      return open
    }
    for channel in channels { channel.close(promise: nil) }
    return channels.count
  }

  /// The most connections the process can hold: `wanted`, less when the
  /// open-file limit (`RLIMIT_NOFILE`, raised to its hard limit first) leaves
  /// fewer than `wanted` + `reserve` descriptors.
  public static func fitted(_ wanted: Int, reserve: Int = 32) -> (limit: Int, openFiles: Int?) {
    var files = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0 else { return (wanted, nil) }
    if files.rlim_cur < files.rlim_max {
      var raised = files
      raised.rlim_cur = files.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { files = raised }
    }
    let available = files.rlim_cur == rlim_t.max ? Int.max : Int(clamping: files.rlim_cur)
    return (max(1, min(wanted, available - reserve)), available == Int.max ? nil : available)
  }
}

/// The guard on each HTTP/1 connection (a Hummingbird additional channel
/// handler, after the HTTP codec): it takes the connection's place in the
/// ``ConnectionLimit`` (503 and close when there is none), marks the
/// connection busy from a request's head to its answer, and gives each
/// request `readTimeout` from its head to its last body byte: a client that
/// stalls or trickles its upload is answered 408 and disconnected.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  let connections: ConnectionLimit
  let readTimeout: TimeAmount
  let logger: Logger
  private var id: Int?
  private var refused = false
  /// Whether an answer has begun (its head written) and not ended.
  private var answering = false
  private var deadline: Scheduled<Void>?

  init(connections: ConnectionLimit, readTimeout: Duration, logger: Logger) {
    self.connections = connections
    self.readTimeout = TimeAmount(readTimeout)
    self.logger = logger
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { admit(context) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    deadline?.cancel()
    deadline = nil
  }

  func channelActive(context: ChannelHandlerContext) {
    admit(context)
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    deadline?.cancel()
    deadline = nil
    if let id { connections.closed(id) }
    id = nil
    context.fireChannelInactive()
  }

  private func admit(_ context: ChannelHandlerContext) {
    guard id == nil, !refused else { return }
    switch connections.admit(context.channel) {
    case .admitted(let id, _):
      self.id = id
    case .refused:
      refused = true
      logger.warning(
        "refused a connection",
        metadata: ["status": "503", "reason": "all \(connections.limit) connections have a request in progress"])
      answerAndClose(
        context, status: .serviceUnavailable,
        message:
          "the service is at its limit of \(connections.limit) connections, each with a request in progress; try again"
      )
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !refused else { return }
    switch unwrapInboundIn(data) {
    case .head:
      if let id { connections.requestStarted(id) }
      deadline?.cancel()
      let seconds = Double(readTimeout.nanoseconds) / 1e9
      deadline = context.eventLoop.assumeIsolated().scheduleTask(in: readTimeout) { [self] in
        deadline = nil
        logger.info(
          "closed a connection",
          metadata: ["status": "408", "reason": "the request was not received within \(seconds) s"])
        if answering {
          context.close(promise: nil)
        } else {
          answerAndClose(
            context, status: .requestTimeout,
            message: "the request was not received within \(seconds) s of its head; send it faster or smaller")
        }
      }
    case .body:
      break
    case .end:
      deadline?.cancel()
      deadline = nil
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .head: answering = true
    case .body: break
    case .end:
      answering = false
      if let id { connections.requestAnswered(id) }
    }
    context.write(data, promise: promise)
  }

  /// A JSON error answer with `Connection: close`, then the connection closed.
  private func answerAndClose(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
    let body = ErrorAnswer(status: status, message: message).json()
    var fields = HTTPFields()
    fields[.contentType] = "application/json"
    fields[.contentLength] = "\(body.count)"
    fields[.connection] = "close"
    context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
    context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    context.close(promise: nil)
  }
}
