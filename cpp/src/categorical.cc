#include "drats/categorical.h"

#include <cmath>
#include <limits>

namespace drats {

void CategoricalDraw(const float* logits, int64_t n, int64_t k, const double* u,
                     const bool* valid, int64_t* actions, float* log_probs) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits + i * k;
    const bool* ok = valid == nullptr ? nullptr : valid + i * k;
    auto logit = [&](int64_t j) { return ok == nullptr || ok[j] ? row[j] : kNegInf; };
    float top = kNegInf;
    int64_t best = 0;
    int64_t last = k - 1;
    bool seen = false;
    for (int64_t j = 0; j < k; ++j) {
      if (ok != nullptr && !ok[j]) continue;
      const float v = row[j];
      if (!seen || v > top || (std::isnan(v) && !std::isnan(top))) {
        top = v;
        best = j;
      }
      seen = true;
      last = j;
    }
    // Running CDF of exp(z) in float32, as numpy's cumsum adds it.
    float total = 0.0f;
    int64_t count = 0;
    const double target = u == nullptr ? 0.0 : u[i];
    // First pass: the total (needed before the comparisons, which use u * total).
    for (int64_t j = 0; j < k; ++j) total += std::exp(logit(j) - top);
    int64_t action = best;
    if (u != nullptr) {
      const double x = target * static_cast<double>(total);
      float cdf = 0.0f;
      for (int64_t j = 0; j < k; ++j) {
        cdf += std::exp(logit(j) - top);
        count += x >= static_cast<double>(cdf) ? 1 : 0;
      }
      action = count < last ? count : last;
    }
    actions[i] = action;
    log_probs[i] = (logit(action) - top) - std::log(total);
  }
}

}  // namespace drats
