// A floating-point throughput probe for blasnet-bench: chains of independent
// single-precision fused multiply-adds, as wide as the CPU allows, so that the
// benchmark can say what share of this machine's peak a network reaches.
#ifndef BLASNET_PEAK_PROBE_H
#define BLASNET_PEAK_PROBE_H

// Runs `iterations` rounds of 12 independent FMA chains of 16 floats
// (AVX-512: one zmm register each), a = a · multiplier + addend, and returns
// a value that depends on all of them. The caller passes the constants, so
// the compiler cannot fold the chains away. 384 flops per round.
float blasnet_fma_probe_avx512(long iterations, float multiplier, float addend);

// The same with 8-float chains (AVX2 + FMA: one ymm register each), 12
// chains: 192 flops per round.
float blasnet_fma_probe_avx2(long iterations, float multiplier, float addend);

#endif
