"""PointMass-4: a cheap continuous multi-task suite, as a vectorised numpy EnvPool.

A point moves in the square [-1, 1]^2 with velocity-free kinematics: ``pos += 0.1 * action``,
the action a float32 pair clipped to [-1, 1] and the new position clipped to the square. Every
episode starts at the centre plus a uniform offset in [-0.05, 0.05]^2 drawn from the slot's own
:class:`~drats.domain.rng.CounterRng` (``seed + slot``). The four tasks differ only in the goal,
harder as the index grows:

====  ==============  =========================================================
task  goal            difficulty
====  ==============  =========================================================
0     (0.3, 0.0)      east, 0.3 away: 3 straight steps
1     (0.0, 0.6)      north, 0.6 away: 6 straight steps
2     (-0.9, 0.0)     west, 0.9 away: 9 straight steps
3     (0.0, -0.7)     south, behind the wall y = -0.35, -0.25 <= x <= 0.25
====  ==============  =========================================================

On task 3 a move whose segment crosses the wall is rejected (the point stays where it was), so
the goal is reached by going round one end of the wall, e.g. via (0.35, -0.4): about 11 steps.
A point on the line y = -0.35 counts as below it. The other tasks have no wall.

Reward: ``-0.1 * distance to the goal`` after the move on every step, plus 10 on the first step
that ends within 0.1 of the goal (success). By default that step ends the episode
(``terminated``); with ``terminate_on_success=False`` the episode runs on, the bonus is not paid
again and success is still reported. An episode is cut (``truncated``) after 50 steps, so
returns lie in about [-11, 10]. A random policy solves tasks 0-2 now and then and task 3
almost never, while a straight-line controller solves tasks 0-2 and a two-leg path task 3.

Observation (float32[7]): ``[x, y, steps / 50]`` followed by the task one-hot (4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.array_pool import ArrayEnvPool, EntrySpec
from drats.domain.checks import NUMERIC_KINDS, as_array, as_flag, as_seed, check_finite, check_shape
from drats.domain.rng import CounterRng

HORIZON = 50
STEP_SIZE = 0.1
START_NOISE = 0.05
GOAL_RADIUS = 0.1
GOAL_BONUS = 10.0
DISTANCE_SCALE = 0.1
#: float64[K, 2]: the goal of each task.
GOALS = np.array([[0.3, 0.0], [0.0, 0.6], [-0.9, 0.0], [0.0, -0.7]], dtype=np.float64)
#: bool[K]: which tasks have the wall.
HAS_WALL = np.array([False, False, False, True])
WALL_Y = -0.35
WALL_HALF_WIDTH = 0.25
TASK_NAMES = ("east-0.3", "north-0.6", "west-0.9", "south-0.7-wall")
ACTION_DIM = 2


def crosses_wall(start: NDArray[np.float64], end: NDArray[np.float64]) -> NDArray[np.bool_]:
    """bool[N]: whether the segment from ``start[i]`` to ``end[i]`` (float64[N, 2]) crosses the
    wall segment y = WALL_Y, |x| <= WALL_HALF_WIDTH (a point on the line counts as below it)."""
    above_start = start[:, 1] > WALL_Y
    above_end = end[:, 1] > WALL_Y
    switch = above_start != above_end
    dy = np.where(switch, end[:, 1] - start[:, 1], 1.0)  # nonzero wherever the side switches
    t = (WALL_Y - start[:, 1]) / dy
    x = start[:, 0] + t * (end[:, 0] - start[:, 0])
    crossing: NDArray[np.bool_] = switch & (np.abs(x) <= WALL_HALF_WIDTH)
    return crossing


def start_position(rng: CounterRng) -> NDArray[np.float64]:
    """float64[2]: an episode's start, the centre plus a uniform offset drawn from ``rng``."""
    out: NDArray[np.float64] = START_NOISE * (2.0 * rng.uniform(2) - 1.0)
    return out


def move(
    pos: NDArray[np.float64],
    tasks: NDArray[np.int64],
    actions: NDArray[np.float32],
    succeeded: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float32], NDArray[np.bool_]]:
    """One step of PointMass-4 episodes (the rules of every PointMass in drats): from
    float64[N, 2] positions in ``tasks`` with float32[N, 2] actions (clipped to [-1, 1] here),
    the new positions, the float32 rewards and which episodes reach the goal for the first time
    (``succeeded``: bool[N], whether each had already; the bonus is paid once)."""
    step = STEP_SIZE * np.clip(actions, -1.0, 1.0).astype(np.float64)
    target = np.clip(pos + step, -1.0, 1.0)
    blocked = HAS_WALL[tasks] & crosses_wall(pos, target)
    new: NDArray[np.float64] = np.where(blocked[:, None], pos, target)
    distance = np.linalg.norm(new - GOALS[tasks], axis=1)
    reached = (distance < GOAL_RADIUS) & ~succeeded
    rewards = (-DISTANCE_SCALE * distance + GOAL_BONUS * reached).astype(np.float32)
    return new, rewards, reached


class PointMassEnvPool(ArrayEnvPool):
    """``num_slots`` PointMass-4 episodes stepped together in numpy; any slot plays any task.

    ``state_dict`` holds every slot's position, task, step count, running return, live and
    success flags and RNG state, so ``load_state_dict`` restores the episodes in flight exactly
    (``restores_episodes`` is True) and the next resets draw the same start offsets. The pool
    has no worker-process backend (see :func:`~drats.adapters.envs.factory.check_backend`).

    Args:
        num_slots: N >= 1 environment slots (at most :data:`~drats.domain.checks.MAX_SLOTS`).
        seed: slot i draws its start offsets from ``CounterRng(seed + i)``.
        terminate_on_success: end an episode (terminated=True) on its first success step
            (True or False).

    After ``close`` every call but ``close`` and ``state_dict`` raises InvalidInputError.
    """

    KIND = "pointmass"
    TASK_NAMES = TASK_NAMES
    HORIZON = HORIZON
    discrete = False

    def __init__(self, num_slots: int, *, seed: int = 0, terminate_on_success: bool = True) -> None:
        super().__init__(num_slots)
        base = as_seed(seed)
        self._terminate = as_flag(terminate_on_success, "terminate_on_success")
        n = self._n
        self._rngs = [CounterRng(base + i) for i in range(n)]
        self._pos = np.zeros((n, 2), dtype=np.float64)
        self._succeeded = np.zeros(n, dtype=bool)

    @property
    def obs_dim(self) -> int:
        return 3 + self.num_tasks

    @property
    def action_dim(self) -> int:
        return ACTION_DIM

    # ------------------------------------------------------------------------ episodes

    def _observe(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        obs = np.zeros((slots.size, self.obs_dim), dtype=np.float32)
        obs[:, :2] = self._pos[slots]
        obs[:, 2] = self._steps[slots] / HORIZON
        obs[np.arange(slots.size), 3 + self._tasks[slots]] = 1.0
        return obs

    def _start(self, slots: NDArray[np.int64], tasks: NDArray[np.int64]) -> None:
        for slot in slots.tolist():
            self._pos[slot] = start_position(self._rngs[slot])
        self._succeeded[slots] = False

    def _check_actions(self, actions: ArrayLike) -> NDArray[np.float32]:
        act = as_array(actions, "actions", NUMERIC_KINDS, np.float32)
        check_shape(act, (self._n, ACTION_DIM), "actions", symbols=("num_slots",))
        check_finite(act, "actions")
        return act

    def _move(
        self, actions: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.bool_]]:
        self._pos, rewards, reached = move(self._pos, self._tasks, actions, self._succeeded)
        self._succeeded |= reached
        terminated = reached if self._terminate else np.zeros(self._n, dtype=bool)
        return rewards, terminated, self._succeeded

    # ------------------------------------------------------------------------ state

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "terminate_on_success": self._terminate}

    def _state_arrays(self) -> dict[str, NDArray[Any]]:
        return {
            "pos": self._pos.copy(),
            **super()._state_arrays(),
            "succeeded": self._succeeded.copy(),
            "rng": np.stack([rng.get_state() for rng in self._rngs]),
        }

    def _state_spec(self) -> dict[str, EntrySpec]:
        n = self._n
        return {
            "pos": ((n, 2), "f"),
            **super()._state_spec(),
            "succeeded": ((n,), "b"),
            "rng": ((n, 2), "u"),
        }

    def _out_of_range(self, a: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.bool_]]:
        return {"pos": ~(np.abs(a["pos"]) <= 1.0), **super()._out_of_range(a)}  # NaN fails too

    def _restore(self, a: Mapping[str, NDArray[Any]]) -> None:
        self._pos = a["pos"].astype(np.float64, copy=True)
        super()._restore(a)
        self._succeeded = a["succeeded"].astype(bool, copy=True)
        for generator, row in zip(self._rngs, a["rng"].astype(np.uint64, copy=True), strict=True):
            generator.set_state(row)
