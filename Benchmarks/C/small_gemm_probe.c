// A probe for issue 25 (small products): times libxsmm's JIT kernels against
// OpenBLAS's cblas_sgemm on the products of one full-batch training step of the
// wdbc network [30, 16, 8, 1] (455 examples), column-major as BLASNet stores
// them, and checks that both give the same C. Not part of the build: Debian 12
// ships libxsmm 1.17 as static libraries only (libxsmm-dev).
//
//   apt-get install libxsmm-dev libopenblas-dev
//   gcc -O2 Benchmarks/C/small_gemm_probe.c -o /tmp/probe \
//     -I/usr/include/x86_64-linux-gnu/openblas-pthread -lxsmm -lopenblas -lpthread -ldl -lrt -lm
//   OPENBLAS_NUM_THREADS=1 /tmp/probe
//
// A kernel libxsmm refuses (it returns NULL: 1.17 has no A-transposed kernels)
// prints "refused".
#include <libxsmm.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static void bench(int m, int n, int k, int transA, int transB, const char* name) {
  float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n), *d = malloc(sizeof(float) * m * n);
  for (int i = 0; i < m * k; i++) a[i] = (float)((i * 7) % 13) / 13 - 0.5f;
  for (int i = 0; i < k * n; i++) b[i] = (float)((i * 5) % 11) / 11 - 0.5f;
  int lda = transA ? k : m, ldb = transB ? n : k, ldc = m;
  float alpha = 1, beta = 0;
  int flags = (transA ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (transB ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) | LIBXSMM_GEMM_FLAG_BETA_0;
  libxsmm_smmfunction f = libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
  int reps = 20000;
  double t0 = now();
  for (int r = 0; r < reps; r++)
    cblas_sgemm(CblasColMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
  double tb = (now() - t0) / reps;
  double tx = -1, err = 0;
  if (f) {
    t0 = now();
    for (int r = 0; r < reps; r++) f(a, b, d);
    tx = (now() - t0) / reps;
    for (int i = 0; i < m * n; i++) { double e = c[i] - d[i]; if (e < 0) e = -e; if (e > err) err = e; }
  }
  if (f)
    printf("%-24s m=%4d n=%4d k=%4d  BLAS %7.2f us  libxsmm %7.2f us  BLAS/libxsmm %.2f  max |diff| %.2g\n", name, m, n,
           k, tb * 1e6, tx * 1e6, tb / tx, err);
  else
    printf("%-24s m=%4d n=%4d k=%4d  BLAS %7.2f us  libxsmm refused\n", name, m, n, k, tb * 1e6);
  free(a); free(b); free(c); free(d);
}
int main(void) {
  libxsmm_init();
  printf("OpenBLAS core %s, threads %d\n", openblas_get_corename(), openblas_get_num_threads());
  bench(16, 455, 30, 0, 0, "wdbc fwd W1*X");
  bench(8, 455, 16, 0, 0, "wdbc fwd W2*A1");
  bench(1, 455, 8, 0, 0, "wdbc fwd W3*A2");
  bench(16, 30, 455, 0, 1, "wdbc dW1 = dZ1*X^T");
  bench(8, 16, 455, 0, 1, "wdbc dW2 = dZ2*A1^T");
  bench(16, 455, 8, 1, 0, "wdbc dA1 = W2^T*dZ2");
  bench(16, 64, 30, 0, 0, "batch 64 fwd");
  libxsmm_finalize();
  return 0;
}
