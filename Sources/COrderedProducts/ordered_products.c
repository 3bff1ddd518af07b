#include "ordered_products.h"

#include <math.h>

// Every path below computes each element of C as one chain of fused
// multiply-adds in ascending k, starting from +0: the vector code holds one
// element per lane and the portable code one per step, so they agree bit for
// bit. Only the order of the loops around that chain differs.

// The portable product, one column of C at a time: the column starts at zero
// and each k adds A's column k times one element of B to it.
#define BLASNET_PORTABLE_PRODUCT(T, FMA)                                   \
  for (long j = 0; j < n; j++) {                                           \
    T *restrict cj = c + j * ldc;                                          \
    const T *restrict bj = b + j * ldb;                                    \
    for (long i = 0; i < m; i++) cj[i] = 0;                                \
    for (long p = 0; p < k; p++) {                                         \
      const T x = bj[p];                                                   \
      const T *restrict ap = a + p * lda;                                  \
      for (long i = 0; i < m; i++) cj[i] = FMA(ap[i], x, cj[i]);           \
    }                                                                      \
  }

static void s_portable(long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  BLASNET_PORTABLE_PRODUCT(float, fmaf)
}

static void d_portable(
    long m, long n, long k, const double *a, long lda, const double *b, long ldb, double *c, long ldc) {
  BLASNET_PORTABLE_PRODUCT(double, fma)
}

#if defined(__x86_64__)
#include <immintrin.h>

// Double precision: the portable loops compiled for the wider instruction
// sets, where the compiler turns the inner loop into vector FMAs (each lane
// still one element's chain).
__attribute__((target("avx2,fma"))) static void d_avx2(
    long m, long n, long k, const double *a, long lda, const double *b, long ldb, double *c, long ldc) {
  BLASNET_PORTABLE_PRODUCT(double, fma)
}

__attribute__((target("avx512f"))) static void d_avx512(
    long m, long n, long k, const double *a, long lda, const double *b, long ldb, double *c, long ldc) {
  BLASNET_PORTABLE_PRODUCT(double, fma)
}

// Single precision, AVX2: a tile of C is `nv` vectors of 8 rows (1, 2 or 4)
// by `nc` columns, at most 8 accumulators; A's column k is loaded once per
// tile and step, B's element broadcast. `full` tiles load and store whole
// vectors, the others mask the rows past `rows`. Callers pass constants for
// nv, nc and full where they can, so the accumulators stay in registers.
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

AVX2_INLINE __m256i s_avx2_mask(long rows) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rows < 8 ? rows : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2_INLINE void s_avx2_tile(
    int nv, long nc, int full, long rows, long k, const float *a, long lda, const float *b, long ldb, float *c,
    long ldc) {
  __m256i mask[4];
  for (int v = 0; v < nv; v++) mask[v] = s_avx2_mask(rows - 8 * v);
  __m256 acc[8][4];
  for (long j = 0; j < nc; j++)
    for (int v = 0; v < nv; v++) acc[j][v] = _mm256_setzero_ps();
  for (long p = 0; p < k; p++) {
    const float *ap = a + p * lda;
    __m256 w[4];
    for (int v = 0; v < nv; v++) w[v] = full ? _mm256_loadu_ps(ap + 8 * v) : _mm256_maskload_ps(ap + 8 * v, mask[v]);
    for (long j = 0; j < nc; j++) {
      const __m256 x = _mm256_broadcast_ss(b + j * ldb + p);
      for (int v = 0; v < nv; v++) acc[j][v] = _mm256_fmadd_ps(w[v], x, acc[j][v]);
    }
  }
  for (long j = 0; j < nc; j++)
    for (int v = 0; v < nv; v++) {
      if (full) {
        _mm256_storeu_ps(c + j * ldc + 8 * v, acc[j][v]);
      } else {
        _mm256_maskstore_ps(c + j * ldc + 8 * v, mask[v], acc[j][v]);
      }
    }
}

// One tile at (i0, j0) of the tiling with `nv` vectors of rows and 8 / nv columns.
AVX2_INLINE void s_avx2_at(
    int nv, long i0, long j0, long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c,
    long ldc) {
  const long height = 8 * nv, width = 8 / nv;
  const long rows = m - i0 < height ? m - i0 : height, nc = n - j0 < width ? n - j0 : width;
  const float *ai = a + i0, *bj = b + j0 * ldb;
  float *cij = c + i0 + j0 * ldc;
  if (nc == width && rows == height) {
    s_avx2_tile(nv, width, 1, rows, k, ai, lda, bj, ldb, cij, ldc);
  } else if (nc == width) {
    s_avx2_tile(nv, width, 0, rows, k, ai, lda, bj, ldb, cij, ldc);
  } else {
    s_avx2_tile(nv, nc, 0, rows, k, ai, lda, bj, ldb, cij, ldc);
  }
}

// The whole product in tiles of `nv` vectors: row panels outside when A is
// the larger operand (a wide layer's weights then leave the cache once per
// call, not once per column tile), column panels outside otherwise.
AVX2_INLINE void s_avx2_tiles(
    int nv, long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  const long height = 8 * nv, width = 8 / nv;
  if (m > n) {
    for (long i0 = 0; i0 < m; i0 += height)
      for (long j0 = 0; j0 < n; j0 += width) s_avx2_at(nv, i0, j0, m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    for (long j0 = 0; j0 < n; j0 += width)
      for (long i0 = 0; i0 < m; i0 += height) s_avx2_at(nv, i0, j0, m, n, k, a, lda, b, ldb, c, ldc);
  }
}

// The tile's shape by the operands': one vector of rows for short A (8
// columns per tile), four for few columns (independent chains when one
// example is predicted), two otherwise.
__attribute__((target("avx2,fma"))) static void s_avx2(
    long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  if (m <= 8) {
    s_avx2_tiles(1, m, n, k, a, lda, b, ldb, c, ldc);
  } else if (n <= 2) {
    s_avx2_tiles(4, m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    s_avx2_tiles(2, m, n, k, a, lda, b, ldb, c, ldc);
  }
}

// Single precision, AVX-512: the same tiling with 16-row vectors and up to
// 16 accumulators of the 32 registers (16 / nv columns); masks for short tiles.
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

AVX512_INLINE __mmask16 s_avx512_mask(long rows) {
  return rows >= 16 ? (__mmask16)0xFFFF : rows <= 0 ? (__mmask16)0 : (__mmask16)((1u << rows) - 1);
}

AVX512_INLINE void s_avx512_tile(
    int nv, long nc, long rows, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  __mmask16 mask[4];
  for (int v = 0; v < nv; v++) mask[v] = s_avx512_mask(rows - 16 * v);
  __m512 acc[16][4];
  for (long j = 0; j < nc; j++)
    for (int v = 0; v < nv; v++) acc[j][v] = _mm512_setzero_ps();
  for (long p = 0; p < k; p++) {
    const float *ap = a + p * lda;
    __m512 w[4];
    for (int v = 0; v < nv; v++) w[v] = _mm512_maskz_loadu_ps(mask[v], ap + 16 * v);
    for (long j = 0; j < nc; j++) {
      const __m512 x = _mm512_set1_ps(b[j * ldb + p]);
      for (int v = 0; v < nv; v++) acc[j][v] = _mm512_fmadd_ps(w[v], x, acc[j][v]);
    }
  }
  for (long j = 0; j < nc; j++)
    for (int v = 0; v < nv; v++) _mm512_mask_storeu_ps(c + j * ldc + 16 * v, mask[v], acc[j][v]);
}

AVX512_INLINE void s_avx512_at(
    int nv, long i0, long j0, long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c,
    long ldc) {
  const long height = 16 * nv, width = 16 / nv;
  const long rows = m - i0 < height ? m - i0 : height, nc = n - j0 < width ? n - j0 : width;
  if (nc == width) {
    s_avx512_tile(nv, width, rows, k, a + i0, lda, b + j0 * ldb, ldb, c + i0 + j0 * ldc, ldc);
  } else {
    s_avx512_tile(nv, nc, rows, k, a + i0, lda, b + j0 * ldb, ldb, c + i0 + j0 * ldc, ldc);
  }
}

AVX512_INLINE void s_avx512_tiles(
    int nv, long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  const long height = 16 * nv, width = 16 / nv;
  if (m > n) {
    for (long i0 = 0; i0 < m; i0 += height)
      for (long j0 = 0; j0 < n; j0 += width) s_avx512_at(nv, i0, j0, m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    for (long j0 = 0; j0 < n; j0 += width)
      for (long i0 = 0; i0 < m; i0 += height) s_avx512_at(nv, i0, j0, m, n, k, a, lda, b, ldb, c, ldc);
  }
}

__attribute__((target("avx512f"))) static void s_avx512(
    long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  if (m <= 16) {
    s_avx512_tiles(1, m, n, k, a, lda, b, ldb, c, ldc);
  } else if (n <= 4) {
    s_avx512_tiles(4, m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    s_avx512_tiles(2, m, n, k, a, lda, b, ldb, c, ldc);
  }
}
#endif

// The CPU's variants, read once: AVX-512F machines have AVX2 and FMA too.
static int best_variant(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return BLASNET_ORDERED_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BLASNET_ORDERED_AVX2;
#endif
  return BLASNET_ORDERED_PORTABLE;
}

int blasnet_ordered_best_variant(void) {
  static int best = -1;
  int known = __atomic_load_n(&best, __ATOMIC_RELAXED);
  if (known < 0) {
    known = best_variant();
    __atomic_store_n(&best, known, __ATOMIC_RELAXED);
  }
  return known;
}

int blasnet_ordered_supports(int variant) { return variant >= 0 && variant <= blasnet_ordered_best_variant(); }

void blasnet_ordered_sgemm(
    int variant, long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
  if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
  if (variant > blasnet_ordered_best_variant()) variant = blasnet_ordered_best_variant();
  if (variant == BLASNET_ORDERED_AVX512) {
    s_avx512(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  if (variant == BLASNET_ORDERED_AVX2) {
    s_avx2(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
#endif
  s_portable(m, n, k, a, lda, b, ldb, c, ldc);
}

void blasnet_ordered_dgemm(
    int variant, long m, long n, long k, const double *a, long lda, const double *b, long ldb, double *c, long ldc) {
  if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
  if (variant > blasnet_ordered_best_variant()) variant = blasnet_ordered_best_variant();
  if (variant == BLASNET_ORDERED_AVX512) {
    d_avx512(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  if (variant == BLASNET_ORDERED_AVX2) {
    d_avx2(m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
#endif
  d_portable(m, n, k, a, lda, b, ldb, c, ldc);
}
