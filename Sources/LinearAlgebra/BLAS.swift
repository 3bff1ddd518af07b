import COpenBLAS
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The BLAS library the package was built with, whichever it is: its name,
/// version, kernels and threads, and whether its kernels use what the CPU can
/// do.
public enum BLAS {
  /// The backend's name: `OpenBLAS`.
  public static var name: String { "OpenBLAS" }

  /// The backend's version, e.g. `0.3.21` (from OpenBLAS's build configuration).
  public static var version: String {
    let words = OpenBLAS.configuration.split(separator: " ")
    return words.count > 1 && words[0] == "OpenBLAS" ? String(words[1]) : "unknown"
  }

  /// The kernel family chosen for this CPU, e.g. `Haswell`, `SkylakeX`,
  /// `Zen`, or the generic `Prescott`.
  public static var kernel: String { OpenBLAS.coreName }

  /// The number of threads one BLAS call uses.
  ///
  /// It is process-wide state: set it once, before work starts, not from
  /// concurrent tasks. While
  /// ``Matrix/gemmSplittingColumns(alpha:_:_:transposeA:transposeB:beta:into:)``
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
    public static let current = CPUFeatures(
      cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
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
  public static var kernelsMatchCPU: Bool { suggestedCoreType(kernel: kernel, cpu: .current) == nil }

  /// The environment variable that marks a process as restarted by
  /// ``restartWithMatchingKernelsIfNeeded(announce:)``, so it restarts once at most.
  public static let restartMarker = "BLASNET_KERNELS_RESTARTED"

  /// For tests: pretend OpenBLAS chose this kernel (e.g. `Prescott`) when
  /// deciding whether to restart.
  public static let simulatedKernelVariable = "BLASNET_SIMULATE_KERNEL"

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
  public static func restartWithMatchingKernelsIfNeeded(announce: (String) -> Void) {
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
