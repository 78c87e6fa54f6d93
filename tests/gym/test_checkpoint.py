"""The sampler's and each sub-env's state are enough to resume task sampling exactly: a run
restored from a checkpoint (through an ``.npz`` file) draws the same tasks, and its sampler
ends in the same state, as the run it was saved from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import drats
from drats.gym import TaskSamplingVectorWrapper, TaskSwitchingEnv
from tests.gym.helpers import gridworld_tasks


def wrapped_env() -> gym.Env:
    """A TaskSwitchingEnv under Gymnasium wrappers, as training code often has them."""
    env = gym.wrappers.RecordEpisodeStatistics(TaskSwitchingEnv(gridworld_tasks()))
    return gym.wrappers.TimeLimit(env, max_episode_steps=1_000)


def make(kind: str) -> TaskSamplingVectorWrapper:
    fns = [lambda: TaskSwitchingEnv(gridworld_tasks()) for _ in range(2)]
    if kind == "wrapped":
        fns = [wrapped_env for _ in range(2)]
    if kind in ("sync", "wrapped"):
        envs: Any = gym.vector.SyncVectorEnv(fns)
    else:
        envs = gym.vector.AsyncVectorEnv(fns, context="forkserver")
    sampler = drats.DratsSampler(4, eta=16.0, step_size=3.2, eps=0.01, target=1.0, seed=0)
    return TaskSamplingVectorWrapper(envs, sampler, window_steps=48)


def play(envs: TaskSamplingVectorWrapper, steps: int, seed: int) -> list[list[int]]:
    """Mostly down / right / up actions (some episodes succeed, so q moves); the tasks played
    at every step."""
    rng = np.random.default_rng(seed)
    tasks = []
    for _ in range(steps):
        action = rng.choice(4, size=envs.num_envs, p=[0.3, 0.3, 0.05, 0.35])
        *_, infos = envs.step(action)
        tasks.append(infos["task_id"].tolist())
    return tasks


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", ["sync", "async", "wrapped"])
def test_resume_task_sampling_exactly(kind: str, tmp_path: Path) -> None:
    first = make(kind)
    first.reset(seed=3)
    play(first, 400, seed=0)
    saved = first.state_dict()
    np.savez(tmp_path / "ckpt.npz", **saved)
    first.reset()  # as a restored run must: episodes in flight are not part of the state
    want = play(first, 600, seed=1)
    want_state = first.state_dict()
    assert first.windows_closed > 20
    assert not np.allclose(first.sampler.probs, 0.25)
    first.close()

    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as data:
        loaded = {key: data[key] for key in data.files}
    second = make(kind)
    second.load_state_dict(loaded)
    assert same(second.state_dict(), saved)
    second.reset()
    assert play(second, 600, seed=1) == want
    assert same(second.state_dict(), want_state)
    second.close()
