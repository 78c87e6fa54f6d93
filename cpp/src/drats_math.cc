#include "drats/drats_math.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "drats/errors.h"

namespace drats {
namespace {

void CheckVector(const std::vector<double>& v, const char* name) {
  if (v.empty()) throw std::invalid_argument(std::string(name) + " must be non-empty");
  for (double x : v) {
    if (!std::isfinite(x)) throw std::invalid_argument(std::string(name) + " must be finite");
  }
}

}  // namespace

void CheckFloor(double eps, int64_t k) {
  if (!std::isfinite(eps) || eps < 0.0 || eps * static_cast<double>(k) > 1.0 + kSimplexTol) {
    throw ConfigError(
        "eps must satisfy 0 <= eps <= 1/K = " + std::to_string(1.0 / static_cast<double>(k)) +
        ", got " + std::to_string(eps));
  }
}

void CheckStep(double eta, double step_size) {
  if (!std::isfinite(eta) || eta <= 0.0) {
    throw ConfigError("eta must be finite and > 0, got " + std::to_string(eta));
  }
  if (!std::isfinite(step_size) || step_size < 0.0) {
    throw ConfigError("step_size must be finite and >= 0, got " + std::to_string(step_size));
  }
  if (step_size / eta > 1.0) {
    throw ConfigError("step_size / eta must be <= 1, got " + std::to_string(step_size) + "/" +
                      std::to_string(eta));
  }
}

std::vector<double> ProjectFloor(const std::vector<double>& z, double eps) {
  CheckVector(z, "z");
  for (double x : z) {
    if (x < 0.0) throw std::invalid_argument("z must be >= 0");
  }
  const auto k = static_cast<int64_t>(z.size());
  CheckFloor(eps, k);
  std::vector<char> clamped(k, 0);
  int64_t num_clamped = 0;
  std::vector<double> q(k);
  while (true) {
    const double mass = 1.0 - eps * static_cast<double>(num_clamped);
    // All clamped, or negative mass: only when eps * K is 1 up to rounding.
    if (mass < 0.0 || num_clamped == k) return std::vector<double>(k, 1.0 / static_cast<double>(k));
    double total = 0.0;
    for (int64_t i = 0; i < k; ++i) {
      if (!clamped[i]) total += z[i];
    }
    const double free_count = static_cast<double>(k - num_clamped);
    for (int64_t i = 0; i < k; ++i) {
      if (clamped[i]) {
        q[i] = eps;
      } else {
        q[i] = total > 0.0 ? mass * z[i] / total : mass / free_count;
      }
    }
    bool changed = false;
    for (int64_t i = 0; i < k; ++i) {
      if (!clamped[i] && q[i] < eps) {
        clamped[i] = 1;
        ++num_clamped;
        changed = true;
      }
    }
    if (!changed) return q;
  }
}

std::vector<double> MirrorAscentStep(const std::vector<double>& q, const std::vector<double>& gaps,
                                     double eta, double step_size, double eps) {
  CheckVector(q, "q");
  double sum = 0.0;
  for (double x : q) {
    if (x < 0.0) throw std::invalid_argument("q must be a probability vector (>= 0)");
    sum += x;
  }
  if (std::abs(sum - 1.0) > 1e-6) {
    throw std::invalid_argument("q must be a probability vector (sums to 1)");
  }
  CheckVector(gaps, "gaps");
  if (gaps.size() != q.size()) {
    throw std::invalid_argument("gaps must have " + std::to_string(q.size()) + " entries, got " +
                                std::to_string(gaps.size()));
  }
  CheckStep(eta, step_size);
  const auto k = static_cast<int64_t>(q.size());
  CheckFloor(eps, k);
  const double alpha = step_size / eta;
  const double log_p0 = std::log(1.0 / static_cast<double>(k));
  std::vector<double> logits(k);
  for (int64_t i = 0; i < k; ++i) {
    double l = alpha * log_p0 + step_size * gaps[i];
    // alpha == 1 drops the log q term entirely (avoids 0 * log 0 = NaN).
    if (alpha < 1.0) l += (1.0 - alpha) * std::log(q[i]);
    logits[i] = l;
  }
  const double top = *std::max_element(logits.begin(), logits.end());
  double total = 0.0;
  for (double& l : logits) {
    l = std::exp(l - top);
    total += l;
  }
  for (double& l : logits) l /= total;
  return ProjectFloor(logits, eps);
}

void AliasTable::Build(const std::vector<double>& q) {
  const auto k = static_cast<int64_t>(q.size());
  std::vector<double> scaled(k);
  for (int64_t i = 0; i < k; ++i) scaled[i] = q[i] * static_cast<double>(k);
  prob.assign(k, 1.0);
  alias.resize(k);
  std::iota(alias.begin(), alias.end(), 0);
  std::vector<int64_t> small, large;
  for (int64_t i = 0; i < k; ++i) (scaled[i] < 1.0 ? small : large).push_back(i);
  while (!small.empty() && !large.empty()) {
    const int64_t s = small.back();
    small.pop_back();
    const int64_t g = large.back();
    large.pop_back();
    prob[s] = scaled[s];
    alias[s] = g;
    scaled[g] = (scaled[g] + scaled[s]) - 1.0;
    (scaled[g] < 1.0 ? small : large).push_back(g);
  }
}

}  // namespace drats
