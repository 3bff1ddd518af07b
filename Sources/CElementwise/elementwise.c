#include "elementwise.h"

#include <math.h>

// Every product and sum rounds on its own, as in Swift's scalar code.
#pragma STDC FP_CONTRACT OFF

// The scalar loop: the tail of the vector loops, and every element elsewhere.
#define BLASNET_ADAM_SCALAR(T, SQRT, from)                                    \
  for (long j = (from); j < n; j++) {                                         \
    T gj = g[j];                                                              \
    T vj = beta1 * v[j] + om1 * gj;                                           \
    T sj = beta2 * s[j] + om2 * gj * gj;                                      \
    v[j] = vj;                                                                \
    s[j] = sj;                                                                \
    w[j] = decay * w[j] - alpha * (vj * invC1) / (SQRT(sj * invC2) + epsilon); \
  }

#if defined(__x86_64__)
#include <immintrin.h>

// 4 floats or 2 doubles a step: SSE2, which every x86-64 CPU has. SFX is the
// intrinsics' suffix (ps, pd), V their vector type; each lane does the scalar loop's steps.
#define BLASNET_ADAM_VECTOR(V, SFX, WIDTH)                                                        \
  const V b1 = _mm_set1_##SFX(beta1), b2 = _mm_set1_##SFX(beta2);                                 \
  const V o1 = _mm_set1_##SFX(om1), o2 = _mm_set1_##SFX(om2), a = _mm_set1_##SFX(alpha);          \
  const V c1 = _mm_set1_##SFX(invC1), c2 = _mm_set1_##SFX(invC2);                                 \
  const V e = _mm_set1_##SFX(epsilon), d = _mm_set1_##SFX(decay);                                 \
  long i = 0;                                                                                     \
  for (; i + (WIDTH) <= n; i += (WIDTH)) {                                                        \
    V gi = _mm_loadu_##SFX(g + i);                                                                \
    V vi = _mm_add_##SFX(_mm_mul_##SFX(b1, _mm_loadu_##SFX(v + i)), _mm_mul_##SFX(o1, gi));       \
    V si = _mm_add_##SFX(_mm_mul_##SFX(b2, _mm_loadu_##SFX(s + i)),                               \
                         _mm_mul_##SFX(_mm_mul_##SFX(o2, gi), gi));                               \
    V step = _mm_div_##SFX(_mm_mul_##SFX(a, _mm_mul_##SFX(vi, c1)),                               \
                           _mm_add_##SFX(_mm_sqrt_##SFX(_mm_mul_##SFX(si, c2)), e));              \
    _mm_storeu_##SFX(v + i, vi);                                                                  \
    _mm_storeu_##SFX(s + i, si);                                                                  \
    _mm_storeu_##SFX(w + i, _mm_sub_##SFX(_mm_mul_##SFX(d, _mm_loadu_##SFX(w + i)), step));       \
  }

void blasnet_adam_step_f32(
    long n, const float *g, float *v, float *s, float *w, float beta1, float beta2, float om1, float om2,
    float alpha, float invC1, float invC2, float epsilon, float decay) {
  BLASNET_ADAM_VECTOR(__m128, ps, 4)
  BLASNET_ADAM_SCALAR(float, sqrtf, i)
}

void blasnet_adam_step_f64(
    long n, const double *g, double *v, double *s, double *w, double beta1, double beta2, double om1,
    double om2, double alpha, double invC1, double invC2, double epsilon, double decay) {
  BLASNET_ADAM_VECTOR(__m128d, pd, 2)
  BLASNET_ADAM_SCALAR(double, sqrt, i)
}

#else

void blasnet_adam_step_f32(
    long n, const float *g, float *v, float *s, float *w, float beta1, float beta2, float om1, float om2,
    float alpha, float invC1, float invC2, float epsilon, float decay) {
  BLASNET_ADAM_SCALAR(float, sqrtf, 0)
}

void blasnet_adam_step_f64(
    long n, const double *g, double *v, double *s, double *w, double beta1, double beta2, double om1,
    double om2, double alpha, double invC1, double invC2, double epsilon, double decay) {
  BLASNET_ADAM_SCALAR(double, sqrt, 0)
}

#endif
