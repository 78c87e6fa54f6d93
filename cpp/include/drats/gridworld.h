// One step of N GridWorld episodes through precomputed tables: the arithmetic of
// drats.adapters.envs.gridworld (its numpy twin: ArrayEnvPool.step with GridWorldEnvPool's
// move), fused into one call because on a few slots the numpy version's dozen calls cost far
// more than the table lookups they do.
//
// Tables (row-major): next[K][C][A] is the cell action a leads to from cell c of task k;
// obs[K][C][D] the observation of cell c of task k. Per slot i, with a = actions[i]:
//   cell[i] = next[task[i]][cell[i]][a];  at_goal = cell[i] == goal_cell
//   reward = at_goal ? goal_reward : step_reward   (returns[i] += reward in double)
//   steps[i] += 1;  terminated = at_goal;  truncated = !at_goal && steps[i] >= horizon
//   a slot that terminated or was truncated is no longer live and is listed in `ended`
// and obs_out[i] = obs[task[i]][cell[i]], rewards_out[i] = float(reward).
// Throws std::invalid_argument (nothing changed) if an action is outside [0, A) or a slot is
// not live, and std::logic_error if a task or cell is outside its table (corrupt state).
// Returns the number of ended slots (written to ended[0..]). Thread safe for distinct state.
#ifndef DRATS_GRIDWORLD_H_
#define DRATS_GRIDWORLD_H_

#include <cstdint>

namespace drats {

struct GridTables {
  const int64_t* next;  // [K][C][A]
  const float* obs;     // [K][C][D]
  int64_t num_tasks;    // K
  int64_t num_cells;    // C
  int64_t num_actions;  // A
  int64_t obs_dim;      // D
  int64_t goal_cell;
  int64_t horizon;
  double goal_reward;
  double step_reward;
};

struct GridSlots {
  int64_t n;
  int64_t* cell;
  const int64_t* task;
  int64_t* steps;
  double* returns;
  bool* live;
};

struct GridStepOut {
  float* obs;         // [n][D]
  float* rewards;     // [n]
  bool* terminated;   // [n]
  bool* truncated;    // [n]
  int64_t* ended;     // [n], the first (return value) entries filled
};

int64_t GridWorldStep(const GridTables& tables, GridSlots& slots, const int64_t* actions,
                      GridStepOut& out);

}  // namespace drats

#endif  // DRATS_GRIDWORLD_H_
