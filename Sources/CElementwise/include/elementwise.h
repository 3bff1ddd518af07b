// Elementwise loops that Swift's SIMD types do not compile to vector
// instructions (their square root runs lane by lane). Each computes what its
// portable scalar loop computes, bit for bit: the same operations in the same
// order, no fused multiply-adds, and a square root and a division that round
// correctly in scalar and in vector form alike.
#ifndef BLASNET_ELEMENTWISE_H
#define BLASNET_ELEMENTWISE_H

// One Adam step over n parameters, in place:
//   v = beta1·v + om1·g;  s = beta2·s + om2·g·g;
//   w = decay·w − alpha·(v·invC1) / (sqrt(s·invC2) + epsilon)
// (om1 = 1 − beta1 and om2 = 1 − beta2, rounded by the caller; invC1 and
// invC2 the bias corrections' reciprocals). The arrays must not overlap.
void blasnet_adam_step_f32(
    long n, const float *g, float *v, float *s, float *w, float beta1, float beta2, float om1, float om2,
    float alpha, float invC1, float invC2, float epsilon, float decay);
void blasnet_adam_step_f64(
    long n, const double *g, double *v, double *s, double *w, double beta1, double beta2, double om1,
    double om2, double alpha, double invC1, double invC2, double epsilon, double decay);

#endif
