import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed file operation, with the system's reason.
package struct FileWriteError: Error, Equatable {
  package var reason: String
}

/// `write(2)` under a name that ``AtomicFile/write(_:to:)`` does not shadow.
private func writeBytes(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, bytes, count)
}

/// Whole-file writes that never leave a partial file behind. Not public API:
/// the model files, the CLI and the benchmark write through it.
package enum AtomicFile {
  /// Writes `data` to `path` so that `path` holds either its old contents or
  /// all of `data`, never a mixture: the bytes go to a temporary file in the
  /// same folder, are flushed with `fsync`, and the temporary file is renamed
  /// over `path` (rename is atomic within a file system). On any failure the
  /// temporary file is removed and `path` is untouched.
  package static func write(_ data: Data, to path: String) throws(FileWriteError) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    if fd < 0 { throw FileWriteError(reason: String(cString: strerror(errno))) }
    var failure: String?
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      var offset = 0
      while offset < raw.count {
        let n = writeBytes(fd, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          failure = String(cString: strerror(errno))
          return
        }
        offset += n
      }
    }
    if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    if close(fd) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
    if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
    if let failure {
      unlink(temporary)
      throw FileWriteError(reason: failure)
    }
  }
}
