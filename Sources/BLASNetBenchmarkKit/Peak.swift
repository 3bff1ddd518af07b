import CPeakProbe
import Dispatch
import LinearAlgebra

/// This machine's single-precision FMA throughput, measured: every thread
/// runs chains of independent fused multiply-adds as wide as the CPU has
/// (AVX-512, else AVX2), all at once.
public struct PeakProbe: Codable, Sendable {
  /// `AVX-512` or `AVX2`.
  public var instructions: String
  public var threads: Int
  /// The best of a few runs, all threads together.
  public var gflops: Double

  /// Runs the probe on `threads` threads for about 0.1 s a run, three runs;
  /// nil on a CPU with neither AVX-512 nor AVX2 with FMA.
  public static func measure(threads: Int) -> PeakProbe? {
    let cpu = BLAS.CPUFeatures.current
    let (name, flopsPerRound, probe): (String, Double, @Sendable (Int) -> Float)
    if cpu.avx512 {
      (name, flopsPerRound, probe) = ("AVX-512", 384, { blasnet_fma_probe_avx512($0, 0.9999999, 1e-7) })
    } else if cpu.avx2 && cpu.fma {
      (name, flopsPerRound, probe) = ("AVX2", 192, { blasnet_fma_probe_avx2($0, 0.9999999, 1e-7) })
    } else {
      return nil
    }
    let rounds = 20_000_000
    let clock = ContinuousClock()
    var best = 0.0
    for _ in 0..<3 {
      let elapsed = seconds(
        clock.measure {
          DispatchQueue.concurrentPerform(iterations: threads) { _ in opaqueUse(probe(rounds)) }
        })
      best = Swift.max(best, Double(threads) * Double(rounds) * flopsPerRound / elapsed / 1e9)
    }
    return PeakProbe(instructions: name, threads: threads, gflops: best)
  }
}
