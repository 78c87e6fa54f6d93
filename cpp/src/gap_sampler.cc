#include "drats/gap_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "drats/errors.h"

namespace drats {
namespace {

std::string Str(int64_t v) { return std::to_string(v); }

}  // namespace

double RangeGap(double best, double worst, double mean) {
  if (!std::isfinite(mean)) return std::numeric_limits<double>::quiet_NaN();
  const double spread = best - worst;
  if (!(spread > kRangeFloor * std::max(std::abs(best), std::abs(worst)))) return 1.0;
  const double gap = (best - mean) / spread;
  if (!std::isfinite(gap)) return std::numeric_limits<double>::quiet_NaN();
  return std::min(1.0, std::max(0.0, gap));
}

double GapSampler::Gap(const GapSamplerState& s, int64_t t) const {
  const int64_t count = s.window_counts[t];
  if (config_.gap == GapKind::kRange) {
    if (count == 0) return 1.0;
    return RangeGap(s.best_returns[t], s.worst_returns[t],
                    s.window_sums[t] / static_cast<double>(count));
  }
  const double mean = count > 0 ? s.window_sums[t] / static_cast<double>(count) : 0.0;
  return (s.targets[t] - mean) / s.targets[t];
}

GapSampler::GapSampler(const GapSamplerConfig& config) : config_(config), rng_(config.seed) {
  const int64_t k = config.num_tasks;
  if (k < 1) throw ConfigError("num_tasks must be >= 1, got " + Str(k));
  CheckStep(config.eta, config.step_size);
  CheckFloor(config.eps, k);
  if (static_cast<int64_t>(config.targets.size()) != k) {
    throw ConfigError("target must have " + Str(k) + " entries, got " +
                      Str(static_cast<int64_t>(config.targets.size())));
  }
  for (double t : config.targets) {
    if (!(std::isfinite(t) && t > 0.0)) {
      throw ConfigError("target must be finite and > 0, got " + std::to_string(t));
    }
  }
  if (config.success_window < 1) {
    throw ConfigError("success_window must be >= 1, got " + Str(config.success_window));
  }
  if (config.success_window > kMaxHistory / k) {  // one success flag per task and slot
    throw ConfigError("num_tasks * success_window must be at most " + Str(kMaxHistory) +
                      ", got " + Str(k) + " * " + Str(config.success_window));
  }
  if (!(config.success_threshold >= 0.0 && config.success_threshold < 1.0)) {
    throw ConfigError("success_threshold must be in [0, 1), got " +
                      std::to_string(config.success_threshold));
  }
  state_.probs.assign(k, 1.0 / static_cast<double>(k));
  state_.gaps.assign(k, 0.0);
  state_.targets = config.targets;
  state_.window_sums.assign(k, 0.0);
  state_.best_returns.assign(k, -std::numeric_limits<double>::infinity());
  state_.worst_returns.assign(k, std::numeric_limits<double>::infinity());
  state_.window_counts.assign(k, 0);
  state_.episodes.assign(k, 0);
  state_.history_len.assign(k, 0);
  state_.history_pos.assign(k, 0);
  state_.history.assign(k * config.success_window, 0);
  state_.solved.assign(k, 0);
  alias_.Build(state_.probs);
}

void GapSampler::Sample(int64_t n, int64_t* out) {
  if (n < 0) throw std::invalid_argument("n must be >= 0, got " + Str(n));
  for (int64_t i = 0; i < n; ++i) out[i] = alias_.Draw(rng_.NextDouble());
}

void GapSampler::Observe(int64_t n, const int64_t* task_ids, const double* returns,
                         const uint8_t* successes) {
  const int64_t k = config_.num_tasks, w = config_.success_window;
  for (int64_t i = 0; i < n; ++i) {
    if (task_ids[i] < 0 || task_ids[i] >= k) {
      throw std::out_of_range("task_ids: task id " + Str(task_ids[i]) + " is outside [0, " +
                              Str(k) + ")");
    }
    if (!std::isfinite(returns[i])) {
      throw std::invalid_argument("returns must be finite, got " + std::to_string(returns[i]) +
                                  " at position " + Str(i));
    }
  }
  // Applied to a copy, committed only if the next Update can weigh every task.
  GapSamplerState s = state_;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = task_ids[i];
    s.window_sums[t] += returns[i];
    s.window_counts[t] += 1;
    s.episodes[t] += 1;
    if (returns[i] > s.best_returns[t]) s.best_returns[t] = returns[i];
    if (config_.gap == GapKind::kRange && returns[i] < s.worst_returns[t]) {
      s.worst_returns[t] = returns[i];
    }
    s.history[t * w + s.history_pos[t]] = successes[i] ? 1 : 0;
    s.history_pos[t] = (s.history_pos[t] + 1) % w;
    if (s.history_len[t] < w) ++s.history_len[t];
    if (!s.solved[t] && s.history_len[t] == w) {
      int64_t hits = 0;
      for (int64_t j = 0; j < w; ++j) hits += s.history[t * w + j];
      if (static_cast<double>(hits) / static_cast<double>(w) > config_.success_threshold) {
        s.solved[t] = 1;
      }
    }
    if (config_.adaptive_target && s.solved[t] && s.best_returns[t] > 0.0) {
      s.targets[t] = s.best_returns[t];
    }
  }
  // The gap of every task observed here, as Update computes it, must be finite and stay
  // finite times the step size (returns near the float64 limit would overflow).
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = task_ids[i];
    const double gap = Gap(s, t);
    if (!(std::isfinite(gap) && std::isfinite(config_.step_size * gap))) {
      throw std::invalid_argument("returns: task " + Str(t) +
                                  "'s window would give a gap that is not finite (its sum, or its "
                                  "ratio to the target or to the return range, overflows "
                                  "float64); nothing was recorded");
    }
  }
  state_ = std::move(s);
}

const std::vector<double>& GapSampler::Update() {
  const int64_t k = config_.num_tasks;
  GapSamplerState& s = state_;
  for (int64_t t = 0; t < k; ++t) s.gaps[t] = Gap(s, t);
  // Step size 0 is the Uniform baseline: q stays exactly as it is (the step would only
  // renormalise it, which drifts by an ulp).
  if (config_.step_size > 0.0) {
    s.probs = MirrorAscentStep(s.probs, s.gaps, config_.eta, config_.step_size, config_.eps);
  }
  s.window_sums.assign(k, 0.0);
  s.window_counts.assign(k, 0);
  alias_.Build(s.probs);
  return s.probs;
}

GapSamplerState GapSampler::GetState() const {
  GapSamplerState out = state_;
  out.rng_key = rng_.key();
  out.rng_counter = rng_.counter();
  return out;
}

void GapSampler::SetState(const GapSamplerState& s) {
  const int64_t k = config_.num_tasks, w = config_.success_window;
  auto check = [](size_t got, int64_t want, const char* name) {
    if (static_cast<int64_t>(got) != want) {
      throw std::invalid_argument(std::string(name) + " must hold " + Str(want) + " values, got " +
                                  Str(static_cast<int64_t>(got)));
    }
  };
  for (const auto* v :
       {&s.probs, &s.gaps, &s.targets, &s.window_sums, &s.best_returns, &s.worst_returns}) {
    check(v->size(), k, "float state");
  }
  for (const auto* v : {&s.window_counts, &s.episodes, &s.history_len, &s.history_pos}) {
    check(v->size(), k, "integer state");
  }
  check(s.history.size(), k * w, "history");
  check(s.solved.size(), k, "solved");
  double sum = 0.0;
  for (int64_t t = 0; t < k; ++t) {
    if (!(std::isfinite(s.probs[t]) && s.probs[t] >= 0.0)) {
      throw std::invalid_argument("probs must be finite and >= 0");
    }
    sum += s.probs[t];
    if (!(std::isfinite(s.targets[t]) && s.targets[t] > 0.0)) {
      throw std::invalid_argument("targets must be finite and > 0");
    }
    if (!std::isfinite(s.window_sums[t]) || !std::isfinite(s.gaps[t])) {
      throw std::invalid_argument("window_sums and gaps must be finite");
    }
    if (std::isnan(s.best_returns[t]) ||
        s.best_returns[t] == std::numeric_limits<double>::infinity()) {
      throw std::invalid_argument("best_returns must be finite or -inf");
    }
    if (std::isnan(s.worst_returns[t]) ||
        s.worst_returns[t] == -std::numeric_limits<double>::infinity()) {
      throw std::invalid_argument("worst_returns must be finite or +inf");
    }
    if (s.window_counts[t] < 0 || s.episodes[t] < s.window_counts[t] || s.history_len[t] < 0 ||
        s.history_len[t] > w || s.history_pos[t] < 0 || s.history_pos[t] >= w) {
      throw std::invalid_argument("episode counters or history positions out of range");
    }
  }
  if (std::abs(sum - 1.0) > 1e-6) throw std::invalid_argument("probs must sum to 1");
  state_ = s;
  alias_.Build(state_.probs);
  rng_.SetState(s.rng_key, s.rng_counter);
}

}  // namespace drats
