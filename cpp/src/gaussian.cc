#include "drats/gaussian.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace drats {

namespace {

// double -> float as numpy's astype does it (IEEE rounding), without the undefined C++ cast
// of a value beyond float's range: up to half a unit past the largest float rounds to it
// (that unit is 2^104), further to an infinity.
float ToFloat(double x) {
  constexpr double kMax = std::numeric_limits<float>::max();
  constexpr double kHalfUnit = 10141204801825835211973625643008.0;  // 2^103
  if (x > kMax || x < -kMax) {
    const float big = std::abs(x) < kMax + kHalfUnit ? std::numeric_limits<float>::max()
                                                       : std::numeric_limits<float>::infinity();
    return x > 0 ? big : -big;
  }
  return static_cast<float>(x);
}

}  // namespace

void GaussianDraw(const float* out, int64_t n, int64_t a, double log_std_min, double log_std_max,
                  const double* u, float* raw, float* actions, float* log_probs) {
  const double two_pi = 2.0 * 3.14159265358979323846;
  const double half_log_2pi = 0.5 * std::log(two_pi);
  // As numpy's clip takes Python floats for a float32 array: rounded to float32, beyond its
  // range an infinity (a plain cast would be undefined there).
  const float lo = ToFloat(log_std_min);
  const float hi = ToFloat(log_std_max);
  const int64_t m = n * a;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = out + i * 2 * a;
    double total = 0.0;
    for (int64_t j = 0; j < a; ++j) {
      const double mean = row[j];
      // numpy's clip: NaN stays NaN, as std::clamp would not promise.
      const float s = row[a + j];
      const double log_std = std::isnan(s) ? s : std::min(std::max(s, lo), hi);
      double sample = mean;
      if (u != nullptr) {
        const int64_t k = i * a + j;
        const double z = std::sqrt(-2.0 * std::log1p(-u[k])) * std::cos(two_pi * u[m + k]);
        sample = mean + z * std::exp(log_std);
      }
      const double e = (sample - mean) * std::exp(-log_std);
      total += -0.5 * e * e - log_std - half_log_2pi;
      const float r = ToFloat(sample);
      raw[i * a + j] = r;
      actions[i * a + j] = std::isnan(r) ? r : std::min(std::max(r, -1.0f), 1.0f);
    }
    log_probs[i] = ToFloat(total);
  }
}

}  // namespace drats
