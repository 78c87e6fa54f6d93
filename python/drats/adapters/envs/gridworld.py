"""GridWorld-4: the DRATS authors' didactic multi-task suite, as a vectorised numpy EnvPool.

Four 5x5 grids. Every episode starts in the top-left cell and the goal is the top-right cell;
a vertical wall in the middle column, starting at the top row, has length 1, 2, 3 or 4 (task 0
to task 3, harder as it grows: with length 4 the only way round is through the bottom row).
Actions are 0=up, 1=down, 2=left, 3=right; moving into the wall or off the grid leaves the agent
where it is. Reaching the goal gives +1 and ends the episode (``terminated``); every other step
gives -0.001; an episode is cut (``truncated``) after 15 steps. Success = reaching the goal.
The observation is the one-hot of the agent's cell (25) followed by the task one-hot (4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import (
    INTEGER_KINDS,
    as_array,
    as_flag,
    as_reset_args,
    as_seed,
    as_slot_count,
    check_shape,
)
from drats.domain.errors import CheckpointError, ConfigError, InvalidInputError
from drats.domain.ports import EnvPool, StateDict
from drats.domain.state_tree import as_state_arrays, check_state_config
from drats.domain.types import EpisodeStats, PoolStep

SIZE = 5
WALL_COLUMN = 2
WALL_LENGTHS = (1, 2, 3, 4)
HORIZON = 15
GOAL_REWARD = 1.0
STEP_REWARD = -0.001
# (row, column) moves for up, down, left, right.
_MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)
_GOAL = (0, SIZE - 1)


def _walls() -> NDArray[np.bool_]:
    """bool[K, SIZE, SIZE]: True where task k has a wall cell."""
    walls = np.zeros((len(WALL_LENGTHS), SIZE, SIZE), dtype=bool)
    for k, length in enumerate(WALL_LENGTHS):
        walls[k, :length, WALL_COLUMN] = True
    return walls


class GridWorldEnvPool(EnvPool):
    """``num_slots`` GridWorld-4 episodes stepped together in numpy; any slot plays any task.

    The grid is deterministic, so ``seed`` only names the pool; ``state_dict`` holds every
    slot's position, step count, task and running return, and ``load_state_dict`` restores the
    episodes in flight exactly (``restores_episodes`` is True).

    Args:
        num_slots: N >= 1 environment slots (at most :data:`~drats.domain.checks.MAX_SLOTS`).
        seed: an integer, kept for the EnvPool interface (the suite has no randomness).
        terminate_on_success: must be True: reaching the goal always ends a GridWorld episode
            (``terminated``), so the other pools' False (play on after the first success) is
            refused with a ConfigError rather than silently ignored.

    After ``close`` every call but ``close`` and ``state_dict`` raises InvalidInputError.
    """

    restores_episodes = True
    discrete = True

    def __init__(self, num_slots: int, *, seed: int = 0, terminate_on_success: bool = True) -> None:
        self._n = as_slot_count(num_slots)
        as_seed(seed)  # checked, not used
        if not as_flag(terminate_on_success, "terminate_on_success"):
            raise ConfigError(
                "terminate_on_success must be True for gridworld4: reaching the goal always "
                "ends its episode"
            )
        self._closed = False
        self._walls = _walls()
        n = self._n
        self._pos = np.zeros((n, 2), dtype=np.int64)
        self._tasks = np.zeros(n, dtype=np.int64)
        self._steps = np.zeros(n, dtype=np.int64)
        self._returns = np.zeros(n, dtype=np.float64)
        self._live = np.zeros(n, dtype=bool)

    # ------------------------------------------------------------------------ description

    @property
    def num_slots(self) -> int:
        return self._n

    @property
    def num_tasks(self) -> int:
        return len(WALL_LENGTHS)

    @property
    def task_names(self) -> Sequence[str]:
        return [f"wall-{length}" for length in WALL_LENGTHS]

    @property
    def obs_dim(self) -> int:
        return SIZE * SIZE + self.num_tasks

    @property
    def action_dim(self) -> int:
        return len(_MOVES)

    # ------------------------------------------------------------------------ episodes

    def _observe(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        obs = np.zeros((slots.size, self.obs_dim), dtype=np.float32)
        rows = np.arange(slots.size)
        obs[rows, self._pos[slots, 0] * SIZE + self._pos[slots, 1]] = 1.0
        obs[rows, SIZE * SIZE + self._tasks[slots]] = 1.0
        return obs

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        return self.reset_slots(np.arange(self._n), task_ids)

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidInputError(f"{type(self).__name__} is closed")

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        self._check_open()
        where, ids = as_reset_args(slots, task_ids, self._n, self.num_tasks)
        self._pos[where] = 0
        self._tasks[where] = ids
        self._steps[where] = 0
        self._returns[where] = 0.0
        self._live[where] = True
        return self._observe(where)

    def step(self, actions: ArrayLike) -> PoolStep:
        self._check_open()
        act = as_array(actions, "actions", INTEGER_KINDS, np.int64)
        check_shape(act, (self._n,), "actions", symbols=("num_slots",))
        if np.any((act < 0) | (act >= len(_MOVES))):
            bad = int(act[(act < 0) | (act >= len(_MOVES))][0])
            raise InvalidInputError(f"actions must lie in [0, {len(_MOVES)}), got {bad}")
        if not self._live.all():
            stale = np.flatnonzero(~self._live).tolist()
            raise InvalidInputError(
                f"slots {stale} have ended their episodes; call reset_slots before stepping"
            )
        target = np.clip(self._pos + _MOVES[act], 0, SIZE - 1)
        blocked = self._walls[self._tasks, target[:, 0], target[:, 1]]
        self._pos = np.where(blocked[:, None], self._pos, target)
        self._steps += 1
        at_goal = (self._pos[:, 0] == _GOAL[0]) & (self._pos[:, 1] == _GOAL[1])
        rewards = np.where(at_goal, GOAL_REWARD, STEP_REWARD)
        self._returns += rewards
        truncated = ~at_goal & (self._steps >= HORIZON)
        ended = np.flatnonzero(at_goal | truncated)
        episodes = EpisodeStats(
            task_ids=self._tasks[ended].copy(),
            returns=self._returns[ended].copy(),
            lengths=self._steps[ended].copy(),
            successes=at_goal[ended].copy(),
        )
        self._live[ended] = False
        return PoolStep(
            obs=self._observe(np.arange(self._n)),
            rewards=rewards.astype(np.float32),
            terminated=at_goal,
            truncated=truncated,
            task_ids=self._tasks.copy(),
            episodes=episodes,
        )

    def close(self) -> None:
        """Nothing to release; later calls (but ``close`` and ``state_dict``) raise
        InvalidInputError, as with the other pools. Safe to call twice."""
        self._closed = True

    # ------------------------------------------------------------------------ state

    def state_dict(self) -> StateDict:
        return {
            "kind": "gridworld4",
            "num_slots": self._n,
            "pos": self._pos.copy(),
            "tasks": self._tasks.copy(),
            "steps": self._steps.copy(),
            "returns": self._returns.copy(),
            "live": self._live.copy(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._check_open()
        check_state_config(state, {"kind": "gridworld4", "num_slots": self._n})
        n = self._n
        a = as_state_arrays(
            state,
            {
                "pos": ((n, 2), "iu"),
                "tasks": ((n,), "iu"),
                "steps": ((n,), "iu"),
                "returns": ((n,), "f"),
                "live": ((n,), "b"),
            },
        )
        checks = {
            "pos": (a["pos"] < 0) | (a["pos"] >= SIZE),
            "tasks": (a["tasks"] < 0) | (a["tasks"] >= self.num_tasks),
            "steps": (a["steps"] < 0) | (a["steps"] > HORIZON),
            "returns": ~np.isfinite(a["returns"]),
        }
        for key, bad in checks.items():
            if np.any(bad):
                raise CheckpointError(f"state dict {key!r} is out of range: {a[key]}")
        self._pos = a["pos"].astype(np.int64, copy=True)
        self._tasks = a["tasks"].astype(np.int64, copy=True)
        self._steps = a["steps"].astype(np.int64, copy=True)
        self._returns = a["returns"].astype(np.float64, copy=True)
        self._live = a["live"].astype(bool, copy=True)


def make_gridworld4(num_slots: int = 4, *, seed: int = 0, **options: Any) -> GridWorldEnvPool:
    """Registry entry: build a GridWorld-4 pool (``options`` may hold terminate_on_success)."""
    unknown = set(options) - {"terminate_on_success"}
    if unknown:
        raise ConfigError(f"gridworld4 takes no option(s) {sorted(unknown)}")
    return GridWorldEnvPool(num_slots, seed=seed, **options)
