#include "peak_probe.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Twelve accumulators: enough to cover an FMA latency of 4 cycles on two
// ports (8 in flight) with room to spare. The target attributes enable the
// instructions for these functions only; the caller checks the CPU first.
__attribute__((target("avx512f"))) float blasnet_fma_probe_avx512(long iterations, float multiplier, float addend) {
  __m512 a[12];
  for (int k = 0; k < 12; k++) a[k] = _mm512_set1_ps(1.0f + 0.001f * (float)k);
  const __m512 b = _mm512_set1_ps(multiplier);
  const __m512 c = _mm512_set1_ps(addend);
  for (long i = 0; i < iterations; i++) {
    for (int k = 0; k < 12; k++) a[k] = _mm512_fmadd_ps(a[k], b, c);
  }
  __m512 s = a[0];
  for (int k = 1; k < 12; k++) s = _mm512_add_ps(s, a[k]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) float blasnet_fma_probe_avx2(long iterations, float multiplier, float addend) {
  __m256 a[12];
  for (int k = 0; k < 12; k++) a[k] = _mm256_set1_ps(1.0f + 0.001f * (float)k);
  const __m256 b = _mm256_set1_ps(multiplier);
  const __m256 c = _mm256_set1_ps(addend);
  for (long i = 0; i < iterations; i++) {
    for (int k = 0; k < 12; k++) a[k] = _mm256_fmadd_ps(a[k], b, c);
  }
  __m256 s = a[0];
  for (int k = 1; k < 12; k++) s = _mm256_add_ps(s, a[k]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#else
float blasnet_fma_probe_avx512(long iterations, float multiplier, float addend) { (void)iterations; return 0; }
float blasnet_fma_probe_avx2(long iterations, float multiplier, float addend) { (void)iterations; return 0; }
#endif
