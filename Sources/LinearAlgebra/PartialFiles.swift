import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The files being written that are not finished yet (an ``NPYWriter``'s
/// `path.part-HOST-PID`), so that an interrupted program leaves none behind:
/// ``removeOnTermination()`` makes SIGINT, SIGTERM and SIGHUP remove them
/// before the process ends as the signal says. A program that is killed
/// (SIGKILL, a crash) cannot; its files carry its host and process id, so a
/// later run can tell that their writer is dead (``writer(of:)``).
public enum PartialFiles {
  /// Room for this many unfinished files at once (a program writes a few).
  static let capacity = 64
  /// The paths as C strings, read by the signal handler without a lock
  /// (which a handler must not take): a slot is cleared before its string is freed.
  nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
    let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    p.initialize(repeating: nil, count: capacity)
    return p
  }()
  static let lock = NSLock()

  /// The suffix of this process's unfinished files: `.part-HOST-PID`.
  public static var suffix: String { ".part-\(hostName)-\(getpid())" }

  static let hostName: String = {
    var name = [CChar](repeating: 0, count: 256)
    guard gethostname(&name, name.count - 1) == 0 else { return "host" }
    let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    // A '-' would make the name ambiguous; a '/' cannot be in a file name.
    let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "-", with: "_").replacingOccurrences(
      of: "/", with: "_")
    return text.isEmpty ? "host" : text
  }()

  /// Registers `path` as unfinished; the returned slot is for ``finished(_:)``
  /// (nil when every slot is taken: the file is then only removed by a later run).
  public static func started(_ path: String) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard let k = (0..<capacity).first(where: { slots[$0] == nil }) else { return nil }
    slots[k] = strdup(path)
    return k
  }

  /// The file of `slot` is finished (renamed into place) or removed.
  public static func finished(_ slot: Int?) {
    guard let slot else { return }
    lock.lock()
    defer { lock.unlock() }
    let path = slots[slot]
    slots[slot] = nil
    free(path)
  }

  /// The unfinished files now registered.
  public static var current: [String] {
    lock.lock()
    defer { lock.unlock() }
    return (0..<capacity).compactMap { slots[$0].map { String(cString: $0) } }
  }

  /// Makes SIGINT, SIGTERM and SIGHUP remove the unfinished files, then end
  /// the process as the signal would have (so a shell sees exit 130 after
  /// Ctrl-C). For programs; a library does not take over signals by itself.
  /// The signals are unblocked too: a parent may have started the program
  /// with them blocked (a libdispatch thread's mask is inherited), and the
  /// program would then never hear them.
  public static func removeOnTermination() {
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&unblock, signal) }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    for signal in [SIGINT, SIGTERM, SIGHUP] {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = removeAndDie
      sigemptyset(&action.sa_mask)
      action.sa_flags = 0
      sigaction(signal, &action, nil)
    }
  }

  /// The signal handler: removes the unfinished files, then lets the signal
  /// end the process (only async-signal-safe calls: unlink, signal, raise).
  public static let removeAndDie: @convention(c) (Int32) -> Void = { number in
    for k in 0..<PartialFiles.capacity {
      if let path = PartialFiles.slots[k] { unlink(path) }
    }
    _ = Glibc.signal(number, SIG_DFL)
    raise(number)
  }

  /// Who wrote the unfinished file `name` (`….part-HOST-PID`, or the
  /// `….part-PID` of earlier versions, taken to be this host's), and whether
  /// that process is still alive: nil if `name` is not an unfinished file.
  /// A writer on another host is taken to be alive (it cannot be asked).
  public static func writer(of name: String) -> (host: String, pid: Int32, alive: Bool)? {
    guard let range = name.range(of: ".part-", options: .backwards) else { return nil }
    let tail = name[range.upperBound...]
    let parts = tail.split(separator: "-", omittingEmptySubsequences: false)
    guard let last = parts.last, let pid = Int32(last), pid > 0, parts.count <= 2 else { return nil }
    let host = parts.count == 2 ? String(parts[0]) : hostName
    guard host == hostName else { return (host, pid, true) }
    let alive = pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
    return (host, pid, alive)
  }
}
