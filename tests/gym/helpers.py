"""Shared pieces of the drats.gym / drats.sb3 tests: a recording sampler, an env-side episode
recorder that keeps its own books (from the raw rewards, not from drats's infos), and the four
GridWorld tasks."""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import ArrayLike, NDArray

import drats.gym  # noqa: F401 - registers the drats/ env ids
from drats.gym import TaskSwitchingEnv
from drats.testing import FakeTaskSampler

WALLS = (1, 2, 3, 4)

#: The q the recording sampler moves to after each update, in turn.
Q_CYCLE = (
    np.array([0.1, 0.2, 0.3, 0.4]),
    np.array([0.7, 0.1, 0.1, 0.1]),
    np.array([0.0, 0.5, 0.0, 0.5]),
)


def gridworld_tasks() -> list[Any]:
    """The four GridWorld tasks as zero-argument constructors (picklable)."""
    return [functools.partial(gym.make, "drats/GridWorld-v0", wall=w) for w in WALLS]


class RecordingSampler(FakeTaskSampler):
    """A FakeTaskSampler that also records every ``observe`` batch and moves q through
    :data:`Q_CYCLE` at each update (so the tests can see q reach the sub-envs)."""

    def __init__(self, num_tasks: int = 4, *, seed: int = 0) -> None:
        super().__init__(num_tasks, seed=seed)
        self.batches: list[int] = []

    @property
    def probs(self) -> NDArray[np.float64]:
        if self.updates == 0:
            return np.full(self.num_tasks, 1.0 / self.num_tasks)
        return Q_CYCLE[(self.updates - 1) % len(Q_CYCLE)].copy()

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        super().observe(task_ids, returns, successes)
        self.batches.append(len(np.asarray(task_ids)))

    def update(self) -> NDArray[np.float64]:
        super().update()
        return self.probs


class Recorder(gym.Wrapper[Any, Any, Any, Any]):
    """Keeps its own books of the episodes the wrapped TaskSwitchingEnv plays: the task from
    the reset info, the return summed from the rewards, success from the task env's per-step
    info; ``ended`` lists the finished ones, ``resets`` every task started."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.ended: list[tuple[int, float, bool]] = []
        self.resets: list[int] = []
        self._task, self._return, self._success = -1, 0.0, False

    def reset(self, **kwargs: Any) -> Any:
        obs, info = self.env.reset(**kwargs)
        self._task, self._return, self._success = int(info["task_id"]), 0.0, False
        self.resets.append(self._task)
        return obs, info

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._success = self._success or bool(info.get("success"))
        if terminated or truncated:
            self.ended.append((self._task, self._return, self._success))
        return obs, reward, terminated, truncated, info

    def books(self) -> tuple[list[tuple[int, float, bool]], list[int]]:
        return self.ended, self.resets


def recorded_env(seed: int = 0) -> Recorder:
    return Recorder(TaskSwitchingEnv(gridworld_tasks(), seed=seed))


def by_task(episodes: list[tuple[int, float, bool]]) -> dict[int, list[tuple[float, bool]]]:
    """The episodes' (return, success) per task, sorted."""
    out: dict[int, list[tuple[float, bool]]] = {t: [] for t in range(len(WALLS))}
    for task, ret, ok in episodes:
        out[task].append((ret, ok))
    return {t: sorted(v) for t, v in out.items()}
