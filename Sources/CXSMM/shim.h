// libxsmm (Debian: libxsmm-dev, static libraries only) for the XSMM trait:
// its just-in-time small-matrix kernels. libxsmm's kernels are C functions
// with a variadic tail, which Swift cannot call through a pointer, so the
// calls go through the two inline functions below. libxsmm's own BLAS
// fallback (sgemm_, dgemm_) binds to the BLAS the package links (OpenBLAS
// or BLIS); BLASNet never asks libxsmm for it.
#ifndef BLASNET_CXSMM_SHIM_H
#define BLASNET_CXSMM_SHIM_H

#include <libxsmm.h>

// The kernel libxsmm made for one shape (never NULL here) on column-major
// A, B and C with the leading dimensions it was made for.
static inline void blasnet_xsmm_call_f32(const void *kernel, const float *a, const float *b, float *c) {
  ((libxsmm_smmfunction)kernel)(a, b, c);
}

static inline void blasnet_xsmm_call_f64(const void *kernel, const double *a, const double *b, double *c) {
  ((libxsmm_dmmfunction)kernel)(a, b, c);
}

// The kernel for C (m×n, ldc) = op(A)·op(B) (+ C when accumulate), or NULL when
// libxsmm cannot make one (a transposed A in 1.17, a shape above its limits).
static inline const void *blasnet_xsmm_kernel_f32(int m, int n, int k, int lda, int ldb, int ldc, int transA,
                                                  int transB, int accumulate) {
  const float alpha = 1, beta = accumulate ? 1 : 0;
  const int flags = (transA ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (transB ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                    (accumulate ? 0 : LIBXSMM_GEMM_FLAG_BETA_0);
  return (const void *)libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
}

static inline const void *blasnet_xsmm_kernel_f64(int m, int n, int k, int lda, int ldb, int ldc, int transA,
                                                  int transB, int accumulate) {
  const double alpha = 1, beta = accumulate ? 1 : 0;
  const int flags = (transA ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (transB ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                    (accumulate ? 0 : LIBXSMM_GEMM_FLAG_BETA_0);
  return (const void *)libxsmm_dmmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
}

#endif
