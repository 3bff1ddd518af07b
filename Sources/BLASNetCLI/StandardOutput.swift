import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Standard output, the one way the CLI writes to it: `write(2)` on file
/// descriptor 1 as the text comes (no stdio buffer that would lose it when
/// it cannot be flushed), every partial write continued, an interrupted one
/// retried, and a failure thrown as `standard output: <the system's reason>`
/// (a full disk: "No space left on device"). `blasnet` ignores SIGPIPE, so a
/// reader that has gone (`blasnet predict … | head -1`) is EPIPE here: it is
/// marked in ``readerGone`` and the command ends quietly with status 0.
enum StandardOutput {
  /// Whether a write failed because nothing reads standard output any more.
  static let readerGone = Atomic<Bool>(false)

  /// Writes all of `data`, or throws naming standard output and the system's reason.
  static func write(_ data: Data) throws(CLIError) {
    guard let failure = writeAll(data, to: STDOUT_FILENO) else { return }
    if failure == EPIPE { readerGone.store(true, ordering: .relaxed) }
    throw CLIError("standard output: \(String(cString: strerror(failure)))")
  }

  /// Writes all of `data` to file descriptor `fd`, continuing partial writes
  /// and retrying interrupted ones; the errno of a failure, or nil.
  static func writeAll(_ data: Data, to fd: Int32) -> Int32? {
    data.withUnsafeBytes { raw -> Int32? in
      var offset = 0
      while offset < raw.count {
        let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
        if n > 0 {
          offset += n
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          return n < 0 ? errno : EIO
        }
      }
      return nil
    }
  }

  /// Writes `text` and a newline, as Swift's `print` would.
  static func print(_ text: String = "") throws(CLIError) {
    try write(Data((text + "\n").utf8))
  }
}

/// Standard error, for messages, notes and progress: written as standard
/// output is, but a failure is dropped, since there is nowhere left to report
/// it (Foundation's `FileHandle.write` would trap instead).
public enum StandardError {
  /// Writes `text` as it is (add the newline yourself).
  public static func write(_ text: String) {
    _ = StandardOutput.writeAll(Data(text.utf8), to: STDERR_FILENO)
  }
}
