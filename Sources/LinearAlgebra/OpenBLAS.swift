import Foundation
import Synchronization

#if BLIS && !OpenBLAS
  import CBLIS
#else
  import COpenBLAS
#endif

#if !BLIS || OpenBLAS
  /// The OpenBLAS library the package is linked against: what only OpenBLAS
  /// has. ``BLAS`` has what every backend has (name, version, kernel, threads).
  public enum OpenBLAS {
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
#endif

/// Stretches of time in which the BLAS must run single-threaded, possibly
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
        s.configured = _Backend.threads
        _Backend.setThreads(1)
      }
      s.depth += 1
    }
  }

  @usableFromInline
  static func leave() {
    state.withLock { s in
      s.depth -= 1
      if s.depth == 0 { _Backend.setThreads(s.configured) }
    }
  }

  static var configuredThreadCount: Int {
    state.withLock { s in Int(s.depth > 0 ? s.configured : _Backend.threads) }
  }

  static func setThreadCount(_ n: Int32) {
    state.withLock { s in
      if s.depth > 0 { s.configured = n } else { _Backend.setThreads(n) }
    }
  }
}

/// The calls that differ between the backends.
@usableFromInline
enum _Backend {
  #if BLIS && !OpenBLAS
    static let name = "BLIS"
    static var version: String { String(cString: bli_info_get_version_str()) }
    /// BLIS's configuration for this CPU (`skx`, `zen3`, `haswell`, `generic`).
    static var kernel: String { String(cString: bli_arch_string(bli_arch_query_id())) }
    static var threads: Int32 {
      _ = ready
      return Int32(clamping: bli_thread_get_num_threads())
    }
    static func setThreads(_ n: Int32) {
      _ = ready
      bli_thread_set_num_threads(Int(n))
    }
    /// BLIS runs one thread unless told otherwise; like OpenBLAS, use every
    /// core unless BLIS_NUM_THREADS or OMP_NUM_THREADS says how many.
    @usableFromInline
    static let ready: Bool = {
      let environment = ProcessInfo.processInfo.environment
      if environment["BLIS_NUM_THREADS"] == nil && environment["OMP_NUM_THREADS"] == nil {
        bli_thread_set_num_threads(ProcessInfo.processInfo.activeProcessorCount)
      }
      return true
    }()
  #else
    static let name = "OpenBLAS"
    static var version: String {
      let words = OpenBLAS.configuration.split(separator: " ")
      return words.count > 1 && words[0] == "OpenBLAS" ? String(words[1]) : "unknown"
    }
    static var kernel: String { OpenBLAS.coreName }
    static var threads: Int32 { openblas_get_num_threads() }
    static func setThreads(_ n: Int32) { openblas_set_num_threads(n) }
  #endif
}
