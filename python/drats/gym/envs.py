"""drats's numpy suites as single-task Gymnasium envs, ``drats/GridWorld-v0`` (``wall=1..4``)
and ``drats/PointMass-v0`` (``task=0..3``), registered by ``import drats.gym``.

They step with the pools' own rules (:func:`drats.adapters.envs.gridworld.move`,
:func:`drats.adapters.envs.pointmass.move`), so the same actions give the same trajectories as
one slot of :class:`~drats.GridWorldEnvPool` / :class:`~drats.PointMassEnvPool` playing that
task (a PointMass env reset with ``seed=s`` starts like slot 0 of a pool seeded ``s``). The
observations carry no task one-hot: :class:`~drats.gym.TaskSwitchingEnv` appends it. Every
step's ``info["success"]`` says whether the episode has reached its goal so far.

An episode ends (``terminated``) on reaching the goal (PointMass: unless
``terminate_on_success=False``), or is cut (``truncated``, never together with
``terminated``) at the suite's horizon, 15 and 50 steps, as in the pools.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from drats.adapters.envs import gridworld, pointmass
from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_array,
    as_flag,
    as_int_in_range,
    as_seed,
    check_finite,
    check_shape,
)
from drats.domain.errors import InvalidInputError
from drats.domain.rng import CounterRng


class _Episode:
    """Step count and the ended flag shared by both envs."""

    def __init__(self) -> None:
        self.steps = 0
        self.running = False

    def check_running(self, env: str) -> None:
        if not self.running:
            raise InvalidInputError(f"{env}: the episode has ended (or never started); call reset")

    def end(self, terminated: bool, horizon: int) -> tuple[bool, bool]:
        """Count a step; ``(terminated, truncated)`` with the pools' rule: truncated at the
        horizon unless terminated."""
        self.steps += 1
        truncated = not terminated and self.steps >= horizon
        self.running = not (terminated or truncated)
        return terminated, truncated


class GridWorldEnv(gym.Env[np.int64, np.int64]):
    """One GridWorld-4 grid: a 5x5 grid whose wall in the middle column has length ``wall``.

    Observation: ``Discrete(25)``, the agent's cell ``row * 5 + column`` (a
    :class:`~drats.gym.TaskSwitchingEnv` one-hot encodes it, giving the pool's observation).
    Actions: ``Discrete(4)``: 0 up, 1 down, 2 left, 3 right. Reward +1 on reaching the goal
    (top-right; the episode terminates), -0.001 otherwise; truncated after 15 steps. The grid is
    deterministic: ``reset(seed=)`` is accepted and changes nothing.

    Args:
        wall: the wall's length, 1 to 4 (task 0 to 3 of the ``gridworld4`` suite).

    Raises:
        ConfigError: ``wall`` is not an integer in [1, 4].
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention

    def __init__(self, wall: int = 1) -> None:
        lengths = gridworld.WALL_LENGTHS
        self.wall = as_int_in_range(wall, "wall", min(lengths), max(lengths))
        self._task = np.array([lengths.index(self.wall)], np.int64)
        self._cell = np.array([gridworld.START_CELL], np.int64)
        self._episode = _Episode()
        self.observation_space = spaces.Discrete(gridworld.SIZE * gridworld.SIZE)
        self.action_space = spaces.Discrete(gridworld.NUM_ACTIONS)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.int64, dict[str, Any]]:
        super().reset(seed=seed)
        self._cell[0] = gridworld.START_CELL
        self._episode = _Episode()
        self._episode.running = True
        return np.int64(self._cell[0]), {"success": False}

    def step(self, action: np.int64) -> tuple[np.int64, float, bool, bool, dict[str, Any]]:
        act = as_array(action, "action", INTEGER_KINDS, np.int64)
        check_shape(act, (), "action")
        if not 0 <= int(act) < gridworld.NUM_ACTIONS:
            msg = f"action must lie in [0, {gridworld.NUM_ACTIONS}), got {int(act)}"
            raise InvalidInputError(msg)
        self._episode.check_running("GridWorldEnv")
        self._cell, rewards, at_goal = gridworld.move(self._task, self._cell, act.reshape(1))
        success = bool(at_goal[0])
        term, trunc = self._episode.end(success, gridworld.HORIZON)
        return np.int64(self._cell[0]), float(rewards[0]), term, trunc, {"success": success}


class PointMassEnv(gym.Env[NDArray[np.float32], NDArray[np.float32]]):
    """One PointMass-4 task: a point in [-1, 1]^2 moved by ``0.1 * action`` towards task
    ``task``'s goal (task 3 behind a wall).

    Observation: float32 ``[x, y, steps / 50]``. Actions: float32[2] in [-1, 1] (clipped).
    Reward ``-0.1 * distance`` per step plus 10 on the first step within 0.1 of the goal.
    Every episode starts at the centre plus an offset drawn from the env's
    :class:`~drats.domain.rng.CounterRng`: seeded 0 at construction, and anew by
    ``reset(seed=s)``; later resets without a seed continue the stream.

    Args:
        task: the goal, 0 to 3 (task ids of the ``pointmass`` suite).
        terminate_on_success: end the episode (terminated) on its first success step.

    Raises:
        ConfigError: ``task`` not an integer in [0, 3], ``terminate_on_success`` not a bool.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention

    def __init__(self, task: int = 0, terminate_on_success: bool = True) -> None:
        self.task = as_int_in_range(task, "task", 0, len(pointmass.TASK_NAMES) - 1)
        self._terminate = as_flag(terminate_on_success, "terminate_on_success")
        self._tasks = np.array([self.task], np.int64)
        self._rng = CounterRng(0)
        self._pos = np.zeros((1, 2))
        self._succeeded = np.zeros(1, bool)
        self._episode = _Episode()
        low = np.array([-1.0, -1.0, 0.0], np.float32)
        self.observation_space = spaces.Box(low, np.ones(3, np.float32), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (pointmass.ACTION_DIM,), dtype=np.float32)

    def _obs(self) -> NDArray[np.float32]:
        x, y = self._pos[0]
        return np.array([x, y, self._episode.steps / pointmass.HORIZON], np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        if seed is not None:
            self._rng = CounterRng(as_seed(seed))
        super().reset(seed=seed)
        self._pos[0] = pointmass.start_position(self._rng)
        self._succeeded[:] = False
        self._episode = _Episode()
        self._episode.running = True
        return self._obs(), {"success": False}

    def step(
        self, action: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        act = as_array(action, "action", NUMERIC_KINDS, np.float32)
        check_shape(act, (pointmass.ACTION_DIM,), "action")
        check_finite(act, "action")
        self._episode.check_running("PointMassEnv")
        self._pos, rewards, reached = pointmass.move(
            self._pos, self._tasks, act.reshape(1, -1), self._succeeded
        )
        self._succeeded |= reached
        term, trunc = self._episode.end(bool(reached[0]) and self._terminate, pointmass.HORIZON)
        info = {"success": bool(self._succeeded[0])}
        return self._obs(), float(rewards[0]), term, trunc, info


__all__ = ["GridWorldEnv", "PointMassEnv"]
