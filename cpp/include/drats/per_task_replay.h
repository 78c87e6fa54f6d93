// Per-task prioritized replay: one FIFO ring of `capacity_per_task` transitions per task and
// one sum tree of priorities ** alpha per task (a SumForest).
//
// Storage: one transition is one packed float32 row [obs | action | reward | next_obs |
// terminated] (2 * obs_dim + action_dim + 2 floats), rows of task t at [t * capacity, (t+1) *
// capacity). A random batch then costs one contiguous row read per transition instead of five
// scattered ones; that gather dominates Sample() at replay sizes beyond the caches.
//
// Replay index of slot s of task t: t * capacity_per_task + s.
//
// Sampling (Schaul et al. 2016, proportional, stratified): within task t the priority mass is
// cut into counts[t] equal segments and one uniform draw is made in each; tasks are visited in
// increasing id and draw their uniforms from the one stream in that order. The weight of row i
// of task t is (n_t * P(i|t)) ** -beta with P(i|t) = leaf_i / total_t and n_t the task's size,
// divided by the largest weight in the batch. New transitions get max_raw_priority_t ** alpha,
// max_raw_priority_t starting at 1 and growing with every priority update.
//
// Errors: every method validates all of its input before it changes anything, and throws
// std::invalid_argument (bad value or size) or std::out_of_range (bad task id or index); a
// throwing call leaves the replay unchanged. Nothing is checked with assert.
// Thread safety: none; the Python binding serialises calls with a mutex.
#ifndef DRATS_PER_TASK_REPLAY_H_
#define DRATS_PER_TASK_REPLAY_H_

#include <cstdint>
#include <vector>

#include "drats/huge_page_allocator.h"
#include "drats/rng.h"
#include "drats/sum_forest.h"

namespace drats {

struct ReplayConfig {
  int64_t num_tasks = 1;
  int64_t capacity_per_task = 1;
  int64_t obs_dim = 1;
  int64_t action_dim = 1;
  double alpha = 0.6;
  uint64_t seed = 0;
};

// Destination arrays of Sample(), each holding total(counts) rows (obs/next_obs: obs_dim
// floats a row, actions: action_dim floats a row).
struct SampleOutput {
  float* obs;
  float* actions;
  float* rewards;
  float* next_obs;
  float* terminated;
  int64_t* task_ids;
  int64_t* indices;
  float* weights;
};

// Everything a replay holds, field by field (row-major, num_tasks * capacity rows).
struct ReplayState {
  std::vector<float> obs, actions, rewards, next_obs, terminated;
  std::vector<double> priorities;  // leaves: raw priority ** alpha, 0 for empty slots
  std::vector<int64_t> positions, sizes;
  std::vector<double> max_priority;
  uint64_t rng_key = 0, rng_counter = 0;
};

class PerTaskReplay {
 public:
  // The most float32 values a replay may hold: num_tasks * capacity_per_task * row_width
  // (the Python adapters' MAX_REPLAY_VALUES).
  static constexpr int64_t kMaxValues = int64_t{1} << 40;
  // The most draws one Sample may ask for (the Python adapters' MAX_DRAWS).
  static constexpr int64_t kMaxDraws = (int64_t{1} << 31) - 1;

  // Throws std::invalid_argument unless every size is >= 1, the replay holds at most
  // kMaxValues values and alpha is finite and >= 0.
  explicit PerTaskReplay(const ReplayConfig& config);

  const ReplayConfig& config() const { return config_; }
  int64_t row_width() const { return row_width_; }
  int64_t size(int64_t task) const;  // throws std::out_of_range
  const std::vector<int64_t>& sizes() const { return sizes_; }
  int64_t total_size() const;

  // Appends n transitions (n >= 0), overwriting the oldest of a full task. task_ids[n];
  // obs/next_obs[n * obs_dim]; actions[n * action_dim]; rewards[n]; terminated[n] in {0, 1}.
  // Checked: task ids in range; every float finite; terminated 0 or 1. O(n * row_width).
  void Add(int64_t n, const int64_t* task_ids, const float* obs, const float* actions,
           const float* rewards, const float* next_obs, const float* terminated);

  // Checks counts[num_tasks] (all >= 0, then a sum of at most kMaxDraws, then none asked of
  // an empty task) and returns their sum.
  int64_t CheckCounts(const int64_t* counts) const;
  // Draws counts[t] rows from each task t into `out` (see the header comment).
  // Checked: counts as in CheckCounts; 0 <= beta <= 1. O(B log_8 capacity + B row_width):
  // one level-major search over all B draws, then a row gather that prefetches ahead.
  void Sample(const int64_t* counts, double beta, const SampleOutput& out);

  // Sets raw priorities (finite, > 0) of n replay indices (each must hold a transition);
  // the leaf becomes priority ** alpha (at least DBL_MIN). A repeated index keeps the last.
  void UpdatePriorities(int64_t n, const int64_t* indices, const double* priorities);

  ReplayState GetState() const;
  // Checked: every array size, positions/sizes consistent with a FIFO ring, leaves > 0 exactly
  // on filled slots, finite values. Builds the new contents aside, so a failure loses nothing.
  void SetState(const ReplayState& state);

 private:
  static const ReplayConfig& Validated(const ReplayConfig& config);  // throws ConfigError
  void CheckTask(int64_t task, const char* what) const;
  double Leaf(double raw_priority) const;
  // Leaf(max_priority_[task]), the leaf of a new transition, recomputed only when the max
  // changed (a pow for every added row was ~0.4 us of a ~2 us add of one vector step).
  double MaxLeaf(int64_t task);
  void LeavesInPlace(double* raw, int64_t n) const;  // raw -> max(raw ** alpha, DBL_MIN)

  ReplayConfig config_;
  int64_t row_width_;
  HugeVector<float> rows_;
  SumForest forest_;
  std::vector<int64_t> positions_, sizes_;
  std::vector<double> max_priority_;
  std::vector<double> max_leaf_, max_leaf_source_;  // MaxLeaf's cache and the max it is of
  CounterRng rng_;
  // Per-call buffers, kept to avoid reallocating on every call.
  std::vector<double> scratch_u_;
  std::vector<int64_t> scratch_slots_, scratch_tasks_, scratch_offsets_;
  std::vector<int64_t> scratch_runs_;  // UpdatePriorities: where each task's run starts, then n
};

}  // namespace drats

#endif  // DRATS_PER_TASK_REPLAY_H_
