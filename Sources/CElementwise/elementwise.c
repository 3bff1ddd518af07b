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

// 4 floats or 2 doubles a step: SSE2, which every x86-64 CPU has.
void blasnet_adam_step_f32(
    long n, const float *g, float *v, float *s, float *w, float beta1, float beta2, float om1, float om2,
    float alpha, float invC1, float invC2, float epsilon, float decay) {
  const __m128 b1 = _mm_set1_ps(beta1), b2 = _mm_set1_ps(beta2), o1 = _mm_set1_ps(om1), o2 = _mm_set1_ps(om2);
  const __m128 a = _mm_set1_ps(alpha), c1 = _mm_set1_ps(invC1), c2 = _mm_set1_ps(invC2);
  const __m128 e = _mm_set1_ps(epsilon), d = _mm_set1_ps(decay);
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128 gi = _mm_loadu_ps(g + i);
    __m128 vi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(v + i)), _mm_mul_ps(o1, gi));
    __m128 si = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(s + i)), _mm_mul_ps(_mm_mul_ps(o2, gi), gi));
    __m128 step = _mm_div_ps(_mm_mul_ps(a, _mm_mul_ps(vi, c1)), _mm_add_ps(_mm_sqrt_ps(_mm_mul_ps(si, c2)), e));
    _mm_storeu_ps(v + i, vi);
    _mm_storeu_ps(s + i, si);
    _mm_storeu_ps(w + i, _mm_sub_ps(_mm_mul_ps(d, _mm_loadu_ps(w + i)), step));
  }
  BLASNET_ADAM_SCALAR(float, sqrtf, i)
}

void blasnet_adam_step_f64(
    long n, const double *g, double *v, double *s, double *w, double beta1, double beta2, double om1,
    double om2, double alpha, double invC1, double invC2, double epsilon, double decay) {
  const __m128d b1 = _mm_set1_pd(beta1), b2 = _mm_set1_pd(beta2), o1 = _mm_set1_pd(om1), o2 = _mm_set1_pd(om2);
  const __m128d a = _mm_set1_pd(alpha), c1 = _mm_set1_pd(invC1), c2 = _mm_set1_pd(invC2);
  const __m128d e = _mm_set1_pd(epsilon), d = _mm_set1_pd(decay);
  long i = 0;
  for (; i + 2 <= n; i += 2) {
    __m128d gi = _mm_loadu_pd(g + i);
    __m128d vi = _mm_add_pd(_mm_mul_pd(b1, _mm_loadu_pd(v + i)), _mm_mul_pd(o1, gi));
    __m128d si = _mm_add_pd(_mm_mul_pd(b2, _mm_loadu_pd(s + i)), _mm_mul_pd(_mm_mul_pd(o2, gi), gi));
    __m128d step = _mm_div_pd(_mm_mul_pd(a, _mm_mul_pd(vi, c1)), _mm_add_pd(_mm_sqrt_pd(_mm_mul_pd(si, c2)), e));
    _mm_storeu_pd(v + i, vi);
    _mm_storeu_pd(s + i, si);
    _mm_storeu_pd(w + i, _mm_sub_pd(_mm_mul_pd(d, _mm_loadu_pd(w + i)), step));
  }
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
