"""Through the vector wrapper, inside AsyncVectorEnv workers: task draws follow the sampler's q
(chi-square) and, once a window closes, its new q; and every drats sampler drives the wrapper."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

import drats
from drats.gym import TaskSamplingVectorWrapper, TaskSwitchingEnv
from drats.testing import FakeTaskSampler
from tests.gym.helpers import gridworld_tasks

#: A chi-square test at this level: a correct sampler fails it with probability 0.001 for a
#: random seed; with the fixed seeds below the outcome is fixed.
LEVEL = 1e-3
FIRST, SECOND = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.5, 0.0, 0.1, 0.4])


class TwoPhaseSampler(FakeTaskSampler):
    """q is :data:`FIRST` until the first update, :data:`SECOND` after it."""

    @property
    def probs(self) -> NDArray[np.float64]:
        return (FIRST if self.updates == 0 else SECOND).copy()

    def update(self) -> NDArray[np.float64]:
        super().update()
        return self.probs


def reset_counts(envs: TaskSamplingVectorWrapper, resets: int) -> NDArray[np.int64]:
    """Tasks drawn in ``resets`` full resets of every sub-env."""
    counts = np.zeros(4, np.int64)
    for _ in range(resets):
        _, infos = envs.reset()
        np.add.at(counts, infos["task_id"], 1)
    return counts


def test_task_frequencies_in_the_workers_follow_q_then_the_new_q() -> None:
    fns = [lambda: TaskSwitchingEnv(gridworld_tasks()) for _ in range(2)]
    sampler = TwoPhaseSampler(4)
    envs = TaskSamplingVectorWrapper(
        gym.vector.AsyncVectorEnv(fns, context="forkserver"), sampler, window_steps=2
    )
    try:
        envs.reset(seed=21)
        counts = reset_counts(envs, 1_500)
        assert stats.chisquare(counts, FIRST * counts.sum()).pvalue > LEVEL
        assert stats.chisquare(counts, np.full(4, counts.sum() / 4)).pvalue < 1e-12  # power
        envs.step(np.array([0, 0]))  # two env steps: the window closes, SECOND goes out
        assert sampler.updates == 1
        counts = reset_counts(envs, 1_500)
        assert counts[1] == 0
        keep = [0, 2, 3]
        assert stats.chisquare(counts[keep], SECOND[keep] * counts.sum()).pvalue > LEVEL
    finally:
        envs.close()


SAMPLERS: dict[str, Any] = {
    "drats": lambda: drats.DratsSampler(4, eta=16.0, step_size=3.2, target=1.0, seed=0),
    "uniform": lambda: drats.UniformSampler(4, target=1.0, seed=0),
    "numpy-drats": lambda: drats.NumpyDratsSampler(4, target=1.0, seed=0),
    "numpy-uniform": lambda: drats.NumpyUniformSampler(4, target=1.0, seed=0),
    "hedge": lambda: drats.HedgeSampler(4, target=1.0, seed=0),
    "lp": lambda: drats.LearningProgressSampler(4, seed=0),
    "smt": lambda: drats.SmtSampler(4, thresholds=0.5, budget_episodes=20, seed=0),
    "fake": lambda: FakeTaskSampler(4, seed=0),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_drives_the_wrapper(name: str) -> None:
    sampler = SAMPLERS[name]()
    fns = [lambda: TaskSwitchingEnv(gridworld_tasks()) for _ in range(3)]
    envs = TaskSamplingVectorWrapper(gym.vector.SyncVectorEnv(fns), sampler, window_steps=30)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    ended = windows = 0
    for _ in range(600):
        action = rng.choice(4, size=3, p=[0.3, 0.3, 0.05, 0.35])
        *_, terminated, truncated, _ = envs.step(action)
        ended += int(np.sum(terminated | truncated))
        if envs.windows_closed > windows:  # q went out: every sub-env holds the update's q
            windows = envs.windows_closed
            q = sampler.probs
            np.testing.assert_array_equal(np.stack(envs.unwrapped.get_attr("probs")), [q] * 3)
    assert envs.episodes_observed == ended > 50
    assert windows > 30
    envs.close()
