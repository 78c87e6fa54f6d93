// One draw per row of a categorical distribution given by float32 logits, by inverting the
// CDF with one uniform per row: the arithmetic of drats.adapters.learners.numpy_forward's
// numpy twin (categorical_numpy), step for step in the same precisions, so the two agree
// except where a uniform lands within float32 rounding of a CDF boundary.
//
// Per row i of logits[n, k] (valid[i, j] false masks action j out: probability 0, never drawn;
// a null `valid` means every action is valid):
//   z = logits - max over valid j of logits            (float32)
//   cdf[j] = sum_{j' <= j} exp(z[j'])                  (float32, masked entries add 0)
//   action = min(#{j : u[i] * cdf[k-1] >= cdf[j]}, last valid j)    (the product in double)
//   log_prob = z[action] - log(cdf[k-1])               (float32)
// With a null `u` the action is the first j with the largest valid z (the greedy action).
// Preconditions (caller's, checked by the binding): n >= 0, k >= 1, every row has a valid
// action, u[i] in [0, 1). Non-finite logits give some action in [0, k), never a bad index.
// Thread safe.
#ifndef DRATS_CATEGORICAL_H_
#define DRATS_CATEGORICAL_H_

#include <cstdint>

namespace drats {

void CategoricalDraw(const float* logits, int64_t n, int64_t k, const double* u,
                     const bool* valid, int64_t* actions, float* log_probs);

}  // namespace drats

#endif  // DRATS_CATEGORICAL_H_
