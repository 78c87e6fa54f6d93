// Gap-weighted task sampling (DRATS): per-task window statistics of finished training
// episodes, normalised return gaps, one mirror-ascent step per window, alias-table draws.
//
// Observe(): for each episode in order: window sum += return, window count += 1, best return
// = max(best, return) (and, for kRange, worst return = min(worst, return)), the success flag
// enters the task's ring of the last `success_window` flags; once that ring is full and its
// mean exceeds `success_threshold` the task is solved for good, and from then on (if
// adaptive_target) its target is the best return seen, as long as that is > 0. A batch after which an observed task's gap (below) or step_size * gap would
// not be finite is refused whole, so Update never meets a gap it cannot weigh.
// Update(): the gap of every task (GapKind below); q = MirrorAscentStep(q, gap, eta, step_size,
// eps); the window is reset and the alias table rebuilt. step_size = 0 leaves q untouched, so it
// stays exactly uniform (the Uniform baseline).
//   kTarget (the paper's): gap_i = (target_i - mean_i) / target_i, mean_i = 0 for a task without
//     episodes in the window.
//   kRange (any reward scale): gap_i = (best_i - mean_i) / (best_i - worst_i) clamped to [0, 1],
//     with best_i / worst_i the highest / lowest training return ever observed on task i (the
//     target is the running best); gap_i = 1 for a task without episodes in the window, and for
//     one whose spread best_i - worst_i is at most kRangeFloor * max(|best_i|, |worst_i|) (no
//     spread seen yet: as far from its best as can be told). Targets are not used.
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

// Which gap Update() weighs (see above).
enum class GapKind { kTarget, kRange };

// The relative spread at or below which a task's returns count as all alike (kRange).
inline constexpr double kRangeFloor = 1e-9;

// The kRange gap of a task with episodes in the window, from its best and worst returns and
// its window mean: NaN when the mean or the ratio is not finite (a sum or a difference
// overflowed, which Observe refuses), else in [0, 1].
double RangeGap(double best, double worst, double mean);

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
  GapKind gap = GapKind::kTarget;
};

struct GapSamplerState {
  std::vector<double> probs, gaps, targets, window_sums, best_returns;
  std::vector<double> worst_returns;  // kRange only (+inf elsewhere): lowest return per task
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
  double Gap(const GapSamplerState& s, int64_t t) const;  // task t's gap of window s

  GapSamplerConfig config_;
  GapSamplerState state_;  // rng_key/rng_counter are filled in by GetState() only
  AliasTable alias_;
  CounterRng rng_;
};

}  // namespace drats

#endif  // DRATS_GAP_SAMPLER_H_
