// One draw per row of a diagonal Gaussian policy given by float32 network outputs, from
// uniforms by Box-Muller: the arithmetic of drats.adapters.learners.numpy_forward's numpy twin
// (gaussian_numpy), step for step in the same precisions.
//
// Row i of out[n, 2a] holds a means, then a log standard deviations. With m = n * a and
// u[2m] (the first m uniforms give the radii, the last m the angles), for j < a:
//   log_std = clip(out[i, a + j], float(lo), float(hi))            (float32, then double)
//   z = sqrt(-2 log1p(-u[i a + j])) * cos(2 pi u[m + i a + j])     (double)
//   sample = mean + z * exp(log_std)                                (double)
//   raw[i, j] = float(sample); actions[i, j] = clip(raw[i, j], -1, 1)
//   log_probs[i] = float(sum over j in order of -0.5 e^2 - log_std - log(2 pi) / 2),
//                  e = (sample - mean) * exp(-log_std)
// With a null `u` the sample is the mean (the greedy action).
// Preconditions (caller's, checked by the binding): n >= 0, a >= 1, u[k] in [0, 1).
// Thread safe.
#ifndef DRATS_GAUSSIAN_H_
#define DRATS_GAUSSIAN_H_

#include <cstdint>

namespace drats {

void GaussianDraw(const float* out, int64_t n, int64_t a, double log_std_min, double log_std_max,
                  const double* u, float* raw, float* actions, float* log_probs);

}  // namespace drats

#endif  // DRATS_GAUSSIAN_H_
