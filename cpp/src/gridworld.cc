#include "drats/gridworld.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace drats {

int64_t GridWorldStep(const GridTables& t, GridSlots& s, const int64_t* actions,
                      GridStepOut& out) {
  // Every check before any change: a refused step leaves every slot as it was.
  for (int64_t i = 0; i < s.n; ++i) {
    if (actions[i] < 0 || actions[i] >= t.num_actions) {
      throw std::invalid_argument("actions must lie in [0, " + std::to_string(t.num_actions) +
                                  "), got " + std::to_string(actions[i]));
    }
  }
  std::string stale;
  for (int64_t i = 0; i < s.n; ++i) {
    if (!s.live[i]) stale += (stale.empty() ? "" : ", ") + std::to_string(i);
    if (s.task[i] < 0 || s.task[i] >= t.num_tasks || s.cell[i] < 0 ||
        s.cell[i] >= t.num_cells) {
      throw std::logic_error("gridworld slot " + std::to_string(i) + " holds task " +
                             std::to_string(s.task[i]) + ", cell " + std::to_string(s.cell[i]));
    }
  }
  if (!stale.empty()) {
    throw std::invalid_argument("slots [" + stale +
                                "] have ended their episodes; call reset_slots before stepping");
  }
  int64_t ended = 0;
  for (int64_t i = 0; i < s.n; ++i) {
    const int64_t row = s.task[i] * t.num_cells;
    const int64_t cell = t.next[(row + s.cell[i]) * t.num_actions + actions[i]];
    s.cell[i] = cell;
    const bool at_goal = cell == t.goal_cell;
    const double reward = at_goal ? t.goal_reward : t.step_reward;
    s.returns[i] += reward;
    s.steps[i] += 1;
    const bool truncated = !at_goal && s.steps[i] >= t.horizon;
    out.rewards[i] = static_cast<float>(reward);
    out.terminated[i] = at_goal;
    out.truncated[i] = truncated;
    std::memcpy(out.obs + i * t.obs_dim, t.obs + (row + cell) * t.obs_dim,
                sizeof(float) * static_cast<size_t>(t.obs_dim));
    if (at_goal || truncated) {
      s.live[i] = false;
      out.ended[ended++] = i;
    }
  }
  return ended;
}

}  // namespace drats
