// Matrix products whose every element is summed in one fixed order:
// C[i,j] = fma(A[i,k-1], B[k-1,j], ... fma(A[i,0], B[0,j], +0)), each term
// a fused multiply-add, the sum in ascending k. An element's value
// then depends on its row of A and its column of B alone: not on how many
// columns the call has (a batch of one or of 100,000), not on the threads,
// and not on whether the AVX-512, the AVX2 or the portable code ran (a fused
// multiply-add rounds once in each of them). BLAS gives none of these.
//
// All matrices are column-major with explicit leading dimensions, as in
// BLAS: A is m × k (lda ≥ m), B is k × n (ldb ≥ k), C is m × n (ldc ≥ m).
#ifndef BLASNET_ORDERED_PRODUCTS_H
#define BLASNET_ORDERED_PRODUCTS_H

// The code paths, by the instructions they use.
enum blasnet_ordered_variant {
  BLASNET_ORDERED_PORTABLE = 0,  // C's fmaf/fma, any CPU
  BLASNET_ORDERED_AVX2 = 1,      // 256-bit vectors, AVX2 + FMA
  BLASNET_ORDERED_AVX512 = 2,    // 512-bit vectors, AVX-512F
};

// The fastest variant this CPU runs (checked once).
int blasnet_ordered_best_variant(void);

// Whether this CPU can run `variant`.
int blasnet_ordered_supports(int variant);

// C = A·B with `variant`, or with the best this CPU has when it lacks
// `variant`'s instructions. k = 0 gives zeros.
void blasnet_ordered_sgemm(
    int variant, long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc);
void blasnet_ordered_dgemm(
    int variant, long m, long n, long k, const double *a, long lda, const double *b, long ldb, double *c, long ldc);

#endif
