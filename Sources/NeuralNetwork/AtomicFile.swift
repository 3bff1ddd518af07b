import Foundation
import LinearAlgebra
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed file operation, with the system's reason.
package struct FileWriteError: Error, Equatable {
  package var reason: String

  package init(reason: String) { self.reason = reason }

  static func system(_ what: String = "") -> FileWriteError {
    FileWriteError(reason: what + String(cString: strerror(errno)))
  }
}

/// `write(2)` under a name that ``AtomicFile/write(_:to:)`` does not shadow.
private func writeBytes(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, bytes, count)
}

/// Whole-file writes that never leave a partial file behind. Not public API:
/// the model files, the CLI and the benchmark write through it.
package enum AtomicFile {
  /// One save at a time holds the signal handlers.
  static let saving = Mutex(())

  /// Marks BLASNet's temporary files: `.NAME.tmp-PID-RANDOM`.
  static let temporaryMarker = ".tmp-"

  /// Writes `data` to `path` so that `path` holds either its old contents or
  /// all of `data`, never a mixture: the bytes go to a temporary file in the
  /// same folder, are flushed with `fsync`, and the temporary file is renamed
  /// over `path` (rename is atomic within a file system). On any failure the
  /// temporary file is removed and `path` is untouched.
  ///
  /// - A symbolic link is followed: its final target is replaced, the link
  ///   stays a link.
  /// - An existing file keeps its permission bits; a new one gets 0666 less
  ///   the umask, as any program's new file does.
  /// - A folder, device, FIFO or socket at `path` is refused, never replaced.
  /// - Temporary files of this pattern left in the folder by processes that
  ///   no longer run (a SIGKILL mid-save) are removed first.
  /// - A SIGINT or SIGTERM that arrives while the file is written removes the
  ///   temporary file before the process ends (when the signal would end the
  ///   process anyway; a program that handles the signal itself keeps its handler).
  package static func write(_ data: Data, to path: String) throws(FileWriteError) {
    try saving.withLock { _ throws(FileWriteError) in
      let writer = try Writer(path: path)
      let handled = installSignalHandlers()
      defer { removeSignalHandlers(handled) }
      try writer.write(data)
      try writer.commit()
    }
  }

  /// A file written a piece at a time that appears at its path only when
  /// complete (``commit()``), as ``write(_:to:)`` writes a whole one: the
  /// pieces go to a temporary file in the same folder, which ``commit()``
  /// flushes and renames over the path; a writer dropped without a commit
  /// removes it. The temporary file is registered with ``PartialFiles``, so
  /// a program that installed its handler (`blasnet` does) removes it on
  /// SIGINT or SIGTERM; a SIGKILL leaves it, and the next write into that
  /// folder removes it.
  package final class Writer {
    package let target: String
    let temporary: String
    let folder: String
    private var fd: Int32
    private var slot: Int?
    private var failure: String?

    /// Checks `path` (symbolic links followed; a folder, device, FIFO or
    /// socket is refused) and creates the temporary file.
    package init(path: String) throws(FileWriteError) {
      target = try AtomicFile.finalTarget(of: path)
      var info = stat()
      var mode: mode_t? = nil
      if stat(target, &info) == 0 {
        if let kind = AtomicFile.notARegularFile(info.st_mode) {
          throw FileWriteError(reason: "\(target) is \(kind), not a file")
        }
        mode = info.st_mode & 0o7777
      }
      let url = URL(fileURLWithPath: target)
      folder = url.deletingLastPathComponent().path
      AtomicFile.removeStaleTemporaries(in: folder)
      temporary =
        folder + "/." + url.lastPathComponent + AtomicFile.temporaryMarker
        + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      slot = PartialFiles.started(temporary)
      fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if fd < 0 {
        let error = FileWriteError.system()
        PartialFiles.finished(slot)
        slot = nil
        throw error
      }
      if let mode, fchmod(fd, mode) != 0 { failure = String(cString: strerror(errno)) }
    }

    deinit {
      if fd >= 0 {
        close(fd)
        unlink(temporary)
      }
      PartialFiles.finished(slot)
    }

    /// Appends `data`.
    package func write(_ data: Data) throws(FileWriteError) {
      if let failure { throw FileWriteError(reason: failure) }
      data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var offset = 0
        while failure == nil && offset < raw.count {
          let n = writeBytes(fd, raw.baseAddress! + offset, raw.count - offset)
          if n < 0 {
            if errno == EINTR { continue }
            failure = String(cString: strerror(errno))
            return
          }
          offset += n
        }
      }
      if let failure { throw FileWriteError(reason: failure) }
    }

    /// Writes `data` over the bytes at `offset` (a header whose sizes are
    /// known only at the end, say).
    package func overwrite(_ data: Data, at offset: Int) throws(FileWriteError) {
      if let failure { throw FileWriteError(reason: failure) }
      let written = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
      if written != data.count {
        throw FileWriteError(reason: written < 0 ? String(cString: strerror(errno)) : "short write")
      }
    }

    /// Flushes the file and renames it over the path (then flushes the
    /// folder, so that the rename is durable).
    package func commit() throws(FileWriteError) {
      if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
      if close(fd) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
      fd = -1
      if failure == nil && rename(temporary, target) != 0 { failure = String(cString: strerror(errno)) }
      PartialFiles.finished(slot)
      slot = nil
      if let failure {
        unlink(temporary)
        throw FileWriteError(reason: failure)
      }
      let folderFD = open(folder, O_RDONLY | O_DIRECTORY)
      if folderFD >= 0 {
        _ = fsync(folderFD)
        close(folderFD)
      }
    }
  }

  /// `path` with every symbolic link along its last component followed: the
  /// file a write to `path` should replace. A path that does not exist (yet)
  /// is its own target.
  package static func finalTarget(of path: String) throws(FileWriteError) -> String {
    var current = path
    for _ in 0..<40 {
      var info = stat()
      if lstat(current, &info) != 0 {
        if errno == ENOENT { return current }
        throw .system()
      }
      if (info.st_mode & S_IFMT) != S_IFLNK { return current }
      var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      let n = readlink(current, &buffer, buffer.count - 1)
      if n < 0 { throw .system() }
      let destination = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      if destination.hasPrefix("/") {
        current = destination
      } else {
        current = URL(fileURLWithPath: current).deletingLastPathComponent().path + "/" + destination
      }
    }
    throw FileWriteError(reason: "too many levels of symbolic links")
  }

  /// "a folder", "a device", … for a mode that is not a regular file's; nil
  /// for a regular file.
  package static func notARegularFile(_ mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "a folder"
    case S_IFCHR, S_IFBLK: return "a device"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
  }

  /// Removes the temporary files that saves into `folder` left behind when
  /// their process was killed: BLASNet's naming pattern, last modified before
  /// this process started, and written by a process that no longer runs (or
  /// whose process ID has since been reused by a younger process).
  package static func removeStaleTemporaries(in folder: String) {
    let me = getpid()
    guard let started = processStartTime(me),
      let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
    else { return }
    for name in names where name.hasPrefix(".") {
      guard let marker = name.range(of: temporaryMarker, options: .backwards) else { continue }
      let tail = name[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
      guard tail.count == 2, let pid = Int32(tail[0]), UInt32(tail[1]) != nil, pid != me else { continue }
      let path = folder + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
      let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
      guard modified < started else { continue }
      if kill(pid, 0) == 0 || errno == EPERM {
        // That process ID runs: stale only if it was started after the file was written.
        guard let writerStarted = processStartTime(pid), writerStarted > modified else { continue }
      }
      unlink(path)
    }
  }

  /// When process `pid` started, in seconds since 1970 (Linux's /proc), or
  /// nil where that cannot be read.
  static func processStartTime(_ pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.range(of: ")", options: .backwards)
    else { return nil }
    // Fields after the command name start at field 3; the start time is field 22,
    // in clock ticks since boot.
    let fields = stat[close.upperBound...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    // The moment of boot on the wall clock, to the nanosecond (/proc/stat's btime is whole seconds).
    var now = timespec()
    var sinceBoot = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    clock_gettime(CLOCK_BOOTTIME, &sinceBoot)
    let boot = Double(now.tv_sec - sinceBoot.tv_sec) + Double(now.tv_nsec - sinceBoot.tv_nsec) / 1e9
    return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  /// Installs ``PartialFiles``'s handler (which removes the registered
  /// unfinished files, a writer's temporary file among them) for SIGINT and
  /// SIGTERM where they would end the process; returns the signals it took over.
  private static func installSignalHandlers() -> [Int32] {
    var taken: [Int32] = []
    for signal in [SIGINT, SIGTERM] {
      var current = sigaction()
      guard sigaction(signal, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil else { continue }
      _ = Glibc.signal(signal, PartialFiles.removeAndDie)
      taken.append(signal)
    }
    return taken
  }

  private static func removeSignalHandlers(_ signals: [Int32]) {
    for signal in signals { _ = Glibc.signal(signal, SIG_DFL) }
  }
}
