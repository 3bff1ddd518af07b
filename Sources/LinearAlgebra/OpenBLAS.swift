import COpenBLAS
import Synchronization

/// The OpenBLAS library the package is linked against: what only OpenBLAS
/// has. ``BLAS`` has what every backend has (name, version, kernel, threads).
public enum OpenBLAS {
  /// The number of threads OpenBLAS uses for one call.
  @available(*, deprecated, renamed: "BLAS.threadCount")
  public static var threadCount: Int {
    get { BLAS.threadCount }
    set { BLAS.threadCount = newValue }
  }

  /// The number of processors OpenBLAS sees.
  public static var processorCount: Int { Int(openblas_get_num_procs()) }

  /// The build configuration, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64`.
  public static var configuration: String {
    guard let p = openblas_get_config() else { return "unknown" }
    return String(cString: p)
  }

  /// The kernel family chosen for this CPU, e.g. `Zen` or `Haswell`.
  public static var coreName: String {
    guard let p = openblas_get_corename() else { return "unknown" }
    return String(cString: p)
  }
}

/// Stretches of time in which OpenBLAS must run single-threaded, possibly
/// overlapping (concurrent callers of `gemmSplittingColumns`). The first to
/// enter sets OpenBLAS to one thread and remembers the configured count; the
/// last to leave restores it. A count set meanwhile is remembered and applied
/// when the last one leaves. Without this, two overlapping callers could
/// restore each other's "1" and leave the process single-threaded for good.
@usableFromInline
enum _SingleThreadedSections {
  struct State {
    var depth = 0
    var configured: Int32 = 0
  }

  static let state = Mutex(State())

  @usableFromInline
  static func enter() {
    state.withLock { s in
      if s.depth == 0 {
        s.configured = openblas_get_num_threads()
        openblas_set_num_threads(1)
      }
      s.depth += 1
    }
  }

  @usableFromInline
  static func leave() {
    state.withLock { s in
      s.depth -= 1
      if s.depth == 0 { openblas_set_num_threads(s.configured) }
    }
  }

  static var configuredThreadCount: Int {
    state.withLock { s in Int(s.depth > 0 ? s.configured : openblas_get_num_threads()) }
  }

  static func setThreadCount(_ n: Int32) {
    state.withLock { s in
      if s.depth > 0 { s.configured = n } else { openblas_set_num_threads(n) }
    }
  }
}
