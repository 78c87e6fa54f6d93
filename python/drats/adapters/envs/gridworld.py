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

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.array_pool import ArrayEnvPool, EntrySpec
from drats.domain.checks import INTEGER_KINDS, as_array, as_flag, as_seed, check_shape
from drats.domain.errors import ConfigError, InvalidInputError

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


class GridWorldEnvPool(ArrayEnvPool):
    """``num_slots`` GridWorld-4 episodes stepped together in numpy; any slot plays any task.

    The grid is deterministic, so ``seed`` only names the pool; ``state_dict`` holds every
    slot's position, step count, task and running return, and ``load_state_dict`` restores the
    episodes in flight exactly (``restores_episodes`` is True). The pool has no worker-process
    backend (see :func:`~drats.adapters.envs.factory.check_backend`).

    Args:
        num_slots: N >= 1 environment slots (at most :data:`~drats.domain.checks.MAX_SLOTS`).
        seed: an integer, kept for the EnvPool interface (the suite has no randomness).
        terminate_on_success: must be True: reaching the goal always ends a GridWorld episode
            (``terminated``), so the other pools' False (play on after the first success) is
            refused with a ConfigError rather than silently ignored.

    After ``close`` every call but ``close`` and ``state_dict`` raises InvalidInputError.
    """

    KIND = "gridworld4"
    TASK_NAMES = tuple(f"wall-{length}" for length in WALL_LENGTHS)
    HORIZON = HORIZON
    discrete = True

    def __init__(self, num_slots: int, *, seed: int = 0, terminate_on_success: bool = True) -> None:
        super().__init__(num_slots)
        as_seed(seed)  # checked, not used
        if not as_flag(terminate_on_success, "terminate_on_success"):
            raise ConfigError(
                "terminate_on_success must be True for gridworld4: reaching the goal always "
                "ends its episode"
            )
        self._walls = _walls()
        self._pos = np.zeros((self._n, 2), dtype=np.int64)

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

    def _start(self, slots: NDArray[np.int64], tasks: NDArray[np.int64]) -> None:
        self._pos[slots] = 0

    def _check_actions(self, actions: ArrayLike) -> NDArray[np.int64]:
        act = as_array(actions, "actions", INTEGER_KINDS, np.int64)
        check_shape(act, (self._n,), "actions", symbols=("num_slots",))
        if np.any((act < 0) | (act >= len(_MOVES))):
            bad = int(act[(act < 0) | (act >= len(_MOVES))][0])
            raise InvalidInputError(f"actions must lie in [0, {len(_MOVES)}), got {bad}")
        return act

    def _move(
        self, actions: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
        target = np.clip(self._pos + _MOVES[actions], 0, SIZE - 1)
        blocked = self._walls[self._tasks, target[:, 0], target[:, 1]]
        self._pos = np.where(blocked[:, None], self._pos, target)
        at_goal = (self._pos[:, 0] == _GOAL[0]) & (self._pos[:, 1] == _GOAL[1])
        rewards = np.where(at_goal, GOAL_REWARD, STEP_REWARD)
        return rewards, at_goal, at_goal

    # ------------------------------------------------------------------------ state

    def _state_arrays(self) -> dict[str, NDArray[Any]]:
        return {"pos": self._pos.copy(), **super()._state_arrays()}

    def _state_spec(self) -> dict[str, EntrySpec]:
        return {"pos": ((self._n, 2), "iu"), **super()._state_spec()}

    def _out_of_range(self, a: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.bool_]]:
        return {"pos": (a["pos"] < 0) | (a["pos"] >= SIZE), **super()._out_of_range(a)}

    def _restore(self, a: Mapping[str, NDArray[Any]]) -> None:
        self._pos = a["pos"].astype(np.int64, copy=True)
        super()._restore(a)
