import COpenBLAS

/// The OpenBLAS library the package is linked against, and its threads.
///
/// OpenBLAS starts as many threads as the machine has cores (or as the
/// environment variable `OPENBLAS_NUM_THREADS` says). Setting ``threadCount``
/// changes it for the whole process from then on; it is global state, so set it
/// once, before work starts, not from concurrent tasks.
public enum OpenBLAS {
  /// The number of threads OpenBLAS uses for one call.
  public static var threadCount: Int {
    get { Int(openblas_get_num_threads()) }
    set {
      if newValue < 1 { shapeFailure("OpenBLAS.threadCount: must be at least 1, got \(newValue)") }
      openblas_set_num_threads(Int32(clamping: newValue))
    }
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
