import Foundation
import LinearAlgebra
import Testing

/// Issue 11: the backend-neutral BLAS API and the check that the kernels use the CPU.
@Suite struct BLASTests {
  let zen3 = """
    processor\t: 0
    vendor_id\t: AuthenticAMD
    model name\t: AMD EPYC 7B13
    flags\t\t: fpu sse2 avx fma avx2 bmi2
    """
  let emeraldRapids = """
    model name\t: Intel(R) Xeon(R) Processor
    flags\t\t: fpu sse2 avx fma avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16
    """

  @Test func cpuFeaturesComeFromCpuinfo() {
    let amd = BLAS.CPUFeatures(cpuinfo: zen3)
    #expect(amd == BLAS.CPUFeatures(modelName: "AMD EPYC 7B13", avx2: true, fma: true, avx512: false))
    let intel = BLAS.CPUFeatures(cpuinfo: emeraldRapids)
    #expect(intel.avx512 && intel.avx2 && intel.modelName == "Intel(R) Xeon(R) Processor")
    // AVX-512 F alone (no BW/DQ/VL) is not what the SkylakeX kernels need.
    #expect(!BLAS.CPUFeatures(cpuinfo: "flags : avx2 fma avx512f").avx512)
    #expect(
      BLAS.CPUFeatures(cpuinfo: "") == BLAS.CPUFeatures(modelName: "unknown", avx2: false, fma: false, avx512: false))
  }

  @Test func theSuggestedCoreTypeUsesTheWidestVectors() {
    let amd = BLAS.CPUFeatures(cpuinfo: zen3)
    let intel = BLAS.CPUFeatures(cpuinfo: emeraldRapids)
    // The case seen: OpenBLAS 0.3.21 on Intel family 6 model 207 runs Prescott.
    #expect(BLAS.suggestedCoreType(kernel: "Prescott", cpu: intel) == "SkylakeX")
    #expect(BLAS.suggestedCoreType(kernel: "Haswell", cpu: intel) == "SkylakeX")
    #expect(BLAS.suggestedCoreType(kernel: "SkylakeX", cpu: intel) == nil)
    #expect(BLAS.suggestedCoreType(kernel: "SapphireRapids", cpu: intel) == nil)
    #expect(BLAS.suggestedCoreType(kernel: "Prescott", cpu: amd) == "Haswell")
    #expect(BLAS.suggestedCoreType(kernel: "Zen", cpu: amd) == nil)
    #expect(BLAS.suggestedCoreType(kernel: "Haswell", cpu: amd) == nil)
    // A CPU without AVX2: nothing better to suggest.
    let old = BLAS.CPUFeatures(modelName: "old", avx2: false, fma: false, avx512: false)
    #expect(BLAS.suggestedCoreType(kernel: "Prescott", cpu: old) == nil)
  }

  @Test func theBackendDescribesItselfAndRunsTheProducts() {
    #if BLIS && !OpenBLAS
      let (name, library) = ("BLIS", "libblis")
      #expect(BLAS.configuration == "BLIS \(BLAS.version) (OpenMP), configuration \(BLAS.kernel)")
    #else
      let (name, library) = ("OpenBLAS", "openblas")
      #expect(BLAS.configuration.hasPrefix("OpenBLAS \(BLAS.version) "))
    #endif
    #expect(BLAS.name == name)
    // The products really run in the backend's library, not in another BLAS loaded beside it.
    #expect(BLAS.productLibrary.contains(library), "\(BLAS.productLibrary)")
    #expect(BLAS.version.split(separator: ".").count == 3, "\(BLAS.version)")
    #expect(!BLAS.kernel.isEmpty)
    blasThreadCountLock.withLock {
      let threads = BLAS.threadCount == 1 ? "1 thread" : "\(BLAS.threadCount) threads"
      #expect(BLAS.summary == "\(name) \(BLAS.version), kernel \(BLAS.kernel), \(threads)")
    }
    #if !BLIS || OpenBLAS
      #expect(BLAS.kernelsMatchCPU == (BLAS.suggestedCoreType(kernel: BLAS.kernel, cpu: .current) == nil))
    #endif
  }
}
