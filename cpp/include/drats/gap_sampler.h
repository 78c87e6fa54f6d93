// Gap-weighted task sampling (DRATS): per-task window statistics of finished training
// episodes, normalised return gaps, one mirror-ascent step per window, alias-table draws.
//
// Observe(): for each episode in order: window sum += return, window count += 1, best return
// = max(best, return), the success flag enters the task's ring of the last `success_window`
// flags; once that ring is full and its mean exceeds `success_threshold` the task is solved
// for good, and from then on (if adaptive_target) its target is the best return seen, as long
// as that is > 0. A batch after which an observed task's gap (below) or step_size * gap would
// not be finite is refused whole, so Update never meets a gap it cannot weigh.
// Update(): gap_i = (target_i - mean_i) / target_i with mean_i = 0 for a task without episodes
// in the window; q = MirrorAscentStep(q, gap, eta, step_size, eps); the window is reset and the
// alias table rebuilt. step_size = 0 leaves q untouched, so it stays exactly uniform (the
// Uniform baseline).
// Sample(): n draws from one CounterRng stream through the alias table, O(1) each.
//
// Errors: std::invalid_argument for bad settings or values, std::out_of_range for unknown task
// ids; everything is checked before anything changes. Thread safety: none; the binding
// serialises calls.
#ifndef DRATS_GAP_SAMPLER_H_
#define DRATS_GAP_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "drats/drats_math.h"
#include "drats/rng.h"

namespace drats {

struct GapSamplerConfig {
  int64_t num_tasks = 1;
  double eta = 8.0;
  double step_size = 0.5;
  double eps = 0.0;
  std::vector<double> targets;  // num_tasks entries, finite and > 0
  bool adaptive_target = true;
  int64_t success_window = 50;
  double success_threshold = 0.5;  // in [0, 1)
  uint64_t seed = 0;
};

struct GapSamplerState {
  std::vector<double> probs, gaps, targets, window_sums, best_returns;
  std::vector<int64_t> window_counts, episodes, history_len, history_pos;
  std::vector<uint8_t> history;  // num_tasks * success_window flags
  std::vector<uint8_t> solved;
  uint64_t rng_key = 0, rng_counter = 0;
};

class GapSampler {
 public:
  // The most success flags kept (num_tasks * success_window), as the Python adapters check.
  static constexpr int64_t kMaxHistory = (int64_t{1} << 31) - 1;

  explicit GapSampler(const GapSamplerConfig& config);  // throws std::invalid_argument

  const GapSamplerConfig& config() const { return config_; }
  const std::vector<double>& probs() const { return state_.probs; }
  const std::vector<double>& gaps() const { return state_.gaps; }
  const std::vector<double>& targets() const { return state_.targets; }

  void Sample(int64_t n, int64_t* out);
  void Observe(int64_t n, const int64_t* task_ids, const double* returns, const uint8_t* successes);
  const std::vector<double>& Update();

  GapSamplerState GetState() const;
  void SetState(const GapSamplerState& state);  // checked; a failure changes nothing

 private:
  GapSamplerConfig config_;
  GapSamplerState state_;  // rng_key/rng_counter are filled in by GetState() only
  AliasTable alias_;
  CounterRng rng_;
};

}  // namespace drats

#endif  // DRATS_GAP_SAMPLER_H_
