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

from drats import _core
from drats.adapters.envs.array_pool import NO_EPISODES, ArrayEnvPool, EntrySpec
from drats.domain.checks import INTEGER_KINDS, as_array, as_flag, as_seed, check_shape
from drats.domain.errors import ConfigError, InvalidInputError
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


def _transitions() -> NDArray[np.int64]:
    """int64[K, SIZE * SIZE, 4]: the cell each action leads to from each cell of each task
    (a move into the wall or off the grid stays put)."""
    walls = _walls()
    k, cells = len(WALL_LENGTHS), SIZE * SIZE
    rows, cols = np.divmod(np.arange(cells), SIZE)
    target = np.clip(np.stack([rows, cols], 1)[:, None, :] + _MOVES[None], 0, SIZE - 1)
    blocked = walls[:, target[..., 0], target[..., 1]]  # [K, cells, 4]
    moved = target[..., 0] * SIZE + target[..., 1]
    out: NDArray[np.int64] = np.where(blocked, np.arange(cells)[None, :, None], moved[None])
    assert out.shape == (k, cells, 4)
    return out


def _observations() -> NDArray[np.float32]:
    """float32[K, SIZE * SIZE, obs_dim]: the observation of every cell of every task."""
    k, cells = len(WALL_LENGTHS), SIZE * SIZE
    obs = np.zeros((k, cells, cells + k), dtype=np.float32)
    obs[:, np.arange(cells), np.arange(cells)] = 1.0
    obs[np.arange(k), :, cells + np.arange(k)] = 1.0
    return obs


#: the transition and observation tables (the grids are deterministic and tiny)
_NEXT = _transitions()
_OBS = _observations()
_GOAL_CELL = _GOAL[0] * SIZE + _GOAL[1]
#: the cell every episode starts in (top-left)
START_CELL = 0
#: the number of actions (up, down, left, right)
NUM_ACTIONS = len(_MOVES)


def move(
    tasks: NDArray[np.int64], cells: NDArray[np.int64], actions: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
    """One step of GridWorld-4 episodes (the rules of every GridWorld in drats): the cells
    (``row * SIZE + column``) that checked ``actions`` in [0, 4) lead to from ``cells`` in
    ``tasks``, the rewards, and whether each reached the goal (which ends its episode and is
    its success)."""
    new: NDArray[np.int64] = _NEXT[tasks, cells, actions]
    at_goal = new == _GOAL_CELL
    rewards: NDArray[np.float64] = np.where(at_goal, GOAL_REWARD, STEP_REWARD)
    return new, rewards, at_goal


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
        self._cell = np.zeros(self._n, dtype=np.int64)  # row * SIZE + column

    @property
    def obs_dim(self) -> int:
        return SIZE * SIZE + self.num_tasks

    @property
    def action_dim(self) -> int:
        return NUM_ACTIONS

    # ------------------------------------------------------------------------ episodes

    def _observe(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        out: NDArray[np.float32] = _OBS[self._tasks[slots], self._cell[slots]]
        return out

    def _observe_all(self) -> NDArray[np.float32]:
        out: NDArray[np.float32] = _OBS[self._tasks, self._cell]
        return out

    def _start(self, slots: NDArray[np.int64], tasks: NDArray[np.int64]) -> None:
        self._cell[slots] = START_CELL

    def _check_actions(self, actions: ArrayLike) -> NDArray[np.int64]:
        act = as_array(actions, "actions", INTEGER_KINDS, np.int64)
        check_shape(act, (self._n,), "actions", symbols=("num_slots",))
        if (act.view(np.uint64) >= len(_MOVES)).any():  # a negative action is huge as uint64
            bad = int(act[(act < 0) | (act >= len(_MOVES))][0])
            raise InvalidInputError(f"actions must lie in [0, {len(_MOVES)}), got {bad}")
        return act

    def _move(
        self, actions: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
        self._cell, rewards, at_goal = move(self._tasks, self._cell, actions)
        return rewards, at_goal, at_goal

    def step(self, actions: ArrayLike) -> PoolStep:
        """:meth:`ArrayEnvPool.step` fused into one call into the C++ core
        (``drats._core.gridworld_step``, the same table lookups and bookkeeping): on 4 slots
        the generic step's dozen numpy calls cost ten times its arithmetic. The generic step
        with :meth:`_move` stays as its numpy twin (``tests/envs/test_gridworld.py``)."""
        self._check_open()
        act = as_array(actions, "actions", INTEGER_KINDS, np.int64)
        check_shape(act, (self._n,), "actions", symbols=("num_slots",))
        obs, rewards, terminated, truncated, ended = _core.gridworld_step(
            _NEXT, _OBS, _GOAL_CELL, HORIZON, GOAL_REWARD, STEP_REWARD,
            self._cell, self._tasks, self._steps, self._returns, self._live, act,
        )  # fmt: skip
        episodes = (
            EpisodeStats(
                task_ids=self._tasks[ended],
                returns=self._returns[ended],
                lengths=self._steps[ended],
                successes=terminated[ended],
            )
            if ended.size
            else NO_EPISODES
        )
        return PoolStep(
            obs=obs,
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            task_ids=self._tasks.copy(),
            episodes=episodes,
        )

    # ------------------------------------------------------------------------ state

    def _state_arrays(self) -> dict[str, NDArray[Any]]:
        pos = np.stack(np.divmod(self._cell, SIZE), axis=1).astype(np.int64)
        return {"pos": pos, **super()._state_arrays()}

    def _state_spec(self) -> dict[str, EntrySpec]:
        return {"pos": ((self._n, 2), "iu"), **super()._state_spec()}

    def _out_of_range(self, a: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.bool_]]:
        return {"pos": (a["pos"] < 0) | (a["pos"] >= SIZE), **super()._out_of_range(a)}

    def _restore(self, a: Mapping[str, NDArray[Any]]) -> None:
        pos = a["pos"].astype(np.int64)
        self._cell = pos[:, 0] * SIZE + pos[:, 1]
        super()._restore(a)
