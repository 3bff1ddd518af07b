import Foundation

#if BLIS && !OpenBLAS
  import CBLIS
#else
  import COpenBLAS
#endif

#if canImport(Glibc)
  import Glibc
#endif

/// The BLAS library the package was built with, whichever it is: its name,
/// version, kernels and threads, and whether its kernels use what the CPU can
/// do.
public enum BLAS {
  /// The backend's name: `OpenBLAS`, or `BLIS` in a build with the BLIS trait.
  public static var name: String { _Backend.name }

  /// The backend's version, e.g. `0.3.21` (OpenBLAS) or `0.9.0` (BLIS).
  public static var version: String { _Backend.version }

  /// The kernels chosen for this CPU: OpenBLAS's core (`Haswell`,
  /// `SkylakeX`, `Zen`, or the generic `Prescott`) or BLIS's configuration
  /// (`skx`, `zen3`, `haswell`, `generic`).
  public static var kernel: String { _Backend.kernel }

  /// The number of threads one BLAS call uses.
  ///
  /// It is process-wide state: set it once, before work starts, not from
  /// concurrent tasks. While
  /// ``gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)``
  /// runs its single-threaded parts, this still reports (and a new value
  /// still sets) the count that applies once they are done. Traps for a
  /// value below 1.
  public static var threadCount: Int {
    get { _SingleThreadedSections.configuredThreadCount }
    set {
      if newValue < 1 { shapeFailure("BLAS.threadCount: must be at least 1, got \(newValue)") }
      _SingleThreadedSections.setThreadCount(Int32(clamping: newValue))
    }
  }

  /// Runs `body` with every BLAS call single-threaded, for code that spreads
  /// its own work over the cores (one BLAS call per worker): BLAS threads
  /// would only fight the workers. Nests and overlaps safely with other such
  /// sections; ``threadCount`` keeps reporting the configured count, which
  /// applies again when the last section ends.
  public static func singleThreaded<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    _SingleThreadedSections.enter()
    defer { _SingleThreadedSections.leave() }
    return try body()
  }

  /// The backend's own description of its build: OpenBLAS's configuration
  /// string (`OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell
  /// MAX_THREADS=64`), or `BLIS 0.9.0 (OpenMP), configuration zen3`.
  public static var configuration: String {
    #if BLIS && !OpenBLAS
      "BLIS \(version) (OpenMP), configuration \(kernel)"
    #else
      OpenBLAS.configuration
    #endif
  }

  /// The file of the shared library that the process's `cblas_sgemm` comes
  /// from, e.g. `/lib/x86_64-linux-gnu/libblis.so.4`: which BLAS really runs
  /// the products (LAPACKE loads OpenBLAS's LAPACK even in a BLIS build, and
  /// both export `cblas_*`). "unknown" when the dynamic linker cannot say.
  public static var productLibrary: String {
    // A null handle is glibc's RTLD_DEFAULT: the symbol the process binds to.
    guard let symbol = dlsym(nil, "cblas_sgemm"), let maps = readProcFile("/proc/self/maps") else {
      return "unknown"
    }
    let address = UInt(bitPattern: symbol)
    // Lines read `start-end perms offset device inode path`, addresses in hex.
    for line in maps.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      let range = fields.first?.split(separator: "-") ?? []
      guard fields.count >= 6, range.count == 2, let start = UInt(range[0], radix: 16),
        let end = UInt(range[1], radix: 16)
      else { continue }
      if start <= address && address < end { return String(fields[5]) }
    }
    return "unknown"
  }

  /// The whole text of a file under /proc, whose size stat reports as 0.
  static func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
      if n <= 0 { break }
      bytes += chunk[..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// `OpenBLAS 0.3.21, kernel Haswell, 2 threads`.
  public static var summary: String {
    "\(name) \(version), kernel \(kernel), \(threadCount) thread\(threadCount == 1 ? "" : "s")"
  }

  // MARK: - Kernels and the CPU

  /// What the CPU can do, as far as BLAS kernels care.
  public struct CPUFeatures: Equatable, Sendable {
    public var modelName: String
    public var avx2: Bool
    public var fma: Bool
    /// AVX-512 Foundation with the BW, DQ and VL extensions (what OpenBLAS's
    /// SkylakeX kernels use).
    public var avx512: Bool

    public init(modelName: String, avx2: Bool, fma: Bool, avx512: Bool) {
      self.modelName = modelName
      self.avx2 = avx2
      self.fma = fma
      self.avx512 = avx512
    }

    /// From the text of `/proc/cpuinfo` (its first processor's `model name`
    /// and `flags`).
    public init(cpuinfo text: String) {
      func field(_ key: String) -> String? {
        for line in text.split(separator: "\n") {
          let parts = line.split(separator: ":", maxSplits: 1)
          if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key {
            return parts[1].trimmingCharacters(in: .whitespaces)
          }
        }
        return nil
      }
      let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
      self.init(
        modelName: field("model name") ?? "unknown", avx2: flags.contains("avx2"), fma: flags.contains("fma"),
        avx512: ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains))
    }

    /// This machine's CPU (Linux: `/proc/cpuinfo`; no features elsewhere).
    public static let current = CPUFeatures(cpuinfo: readProcFile("/proc/cpuinfo") ?? "")
  }

  /// OpenBLAS's kernel families that use AVX-512 and that use AVX2 with FMA
  /// (OpenBLAS 0.3.21's names).
  static let avx512Kernels: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]
  static let avx2Kernels: Set<String> = avx512Kernels.union(["Haswell", "Zen"])

  /// The `OPENBLAS_CORETYPE` that would use what `cpu` can do when OpenBLAS
  /// chose `kernel`: nil when `kernel` already does (or the CPU has neither
  /// AVX2 with FMA nor AVX-512), `SkylakeX` for an AVX-512 CPU, `Haswell` for
  /// an AVX2 + FMA one.
  public static func suggestedCoreType(kernel: String, cpu: CPUFeatures) -> String? {
    if cpu.avx512 && !avx512Kernels.contains(kernel) { return "SkylakeX" }
    if cpu.avx2 && cpu.fma && !avx2Kernels.contains(kernel) { return "Haswell" }
    return nil
  }

  /// Whether the kernels in use use the widest vector instructions the CPU
  /// has (AVX-512, else AVX2 with FMA). OpenBLAS 0.3.21 does not know some
  /// newer CPUs (Intel family 6 model 207, for one) and then runs its generic
  /// `Prescott` kernels, several times slower.
  ///
  /// With the BLIS trait: whether BLIS chose a configuration for this CPU's
  /// vector instructions rather than its generic one.
  public static var kernelsMatchCPU: Bool {
    #if BLIS && !OpenBLAS
      let cpu = CPUFeatures.current
      if cpu.avx512 { return ["skx", "knl", "zen4"].contains(kernel) }
      if cpu.avx2 && cpu.fma { return ["haswell", "zen", "zen2", "zen3", "zen4", "skx", "knl"].contains(kernel) }
      return true
    #else
      return suggestedCoreType(kernel: kernel, cpu: .current) == nil
    #endif
  }

  /// The environment variable that marks a process as restarted by
  /// ``restartWithMatchingKernelsIfNeeded(announce:)``, so it restarts once at most.
  package static let restartMarker = "BLASNET_KERNELS_RESTARTED"

  /// For tests: pretend OpenBLAS chose this kernel (e.g. `Prescott`) when
  /// deciding whether to restart.
  package static let simulatedKernelVariable = "BLASNET_SIMULATE_KERNEL"

  /// Restarts the running executable with `OPENBLAS_CORETYPE` set when
  /// OpenBLAS chose kernels that do not use the CPU's AVX2 or AVX-512, after
  /// passing one line to `announce`. Call it first thing in `main`: OpenBLAS
  /// reads the variable only when the library loads, so a process cannot
  /// change its own kernels. It returns (and does nothing) when the kernels
  /// match, when `OPENBLAS_CORETYPE` is already set (the user's choice is
  /// kept), when the process was already restarted once, or when the
  /// restart fails. The same arguments and environment are passed on; the
  /// executable is `/proc/self/exe`.
  ///
  /// A consumer executable can call it the same way, or check
  /// ``kernelsMatchCPU`` and tell its users to set `OPENBLAS_CORETYPE`
  /// (``suggestedCoreType(kernel:cpu:)`` says to what).
  /// With the BLIS trait it does nothing: BLIS chooses its configuration
  /// from the CPU's features, not from a list of models.
  public static func restartWithMatchingKernelsIfNeeded(announce: (String) -> Void) {
    #if !BLIS || OpenBLAS
      restartWithCoreType(announce: announce)
    #endif
  }

  static func restartWithCoreType(announce: (String) -> Void) {
    let environment = ProcessInfo.processInfo.environment
    if environment["OPENBLAS_CORETYPE"] != nil || environment[restartMarker] != nil { return }
    let chosen = environment[simulatedKernelVariable] ?? kernel
    let cpu = CPUFeatures.current
    guard let coreType = suggestedCoreType(kernel: chosen, cpu: cpu) else { return }
    let has = cpu.avx512 ? "AVX-512" : "AVX2 and FMA"
    announce(
      "OpenBLAS chose its \(chosen) kernels, which do not use this CPU's \(has); restarting with OPENBLAS_CORETYPE=\(coreType) (set OPENBLAS_CORETYPE yourself to choose)"
    )
    setenv("OPENBLAS_CORETYPE", coreType, 1)
    setenv(restartMarker, "1", 1)
    fflush(nil)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
    // Still here: the restart failed; carry on with the kernels we have.
    unsetenv("OPENBLAS_CORETYPE")
  }
}
