"""drats/GridWorld-v0 and drats/PointMass-v0 step like the pools: the same trajectories for the
same actions (and, through a TaskSwitchingEnv, the pools' very observations)."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest

import drats.gym  # noqa: F401 - registers the env ids
from drats.adapters.envs.gridworld import GridWorldEnvPool
from drats.adapters.envs.pointmass import GOALS, PointMassEnvPool
from drats.gym import TaskSwitchingEnv


@pytest.mark.parametrize("wall", [1, 2, 3, 4])
def test_gridworld_matches_the_pool(wall: int) -> None:
    task = wall - 1
    pool = GridWorldEnvPool(1)
    env = gym.make("drats/GridWorld-v0", wall=wall)
    switching = TaskSwitchingEnv(
        [functools.partial(gym.make, "drats/GridWorld-v0", wall=w) for w in (1, 2, 3, 4)]
    )
    rng = np.random.default_rng(wall)
    path = [1] * wall + [3] * 4 + [0] * wall  # down below the wall, across, back up
    episodes = successes = 0
    while episodes < 40:
        want = pool.reset([task])[0]
        cell, _ = env.reset()
        obs, _ = switching.reset(options={"task": task})
        np.testing.assert_array_equal(obs, want)
        assert want[cell] == 1.0
        done, step = False, 0
        while not done:
            # the shortest path, with a random move now and then (some episodes fail)
            action = path[step % len(path)] if rng.random() < 0.9 else int(rng.integers(4))
            step += 1
            out = pool.step([action])
            cell, reward, terminated, truncated, info = env.step(action)
            obs, reward2, *_, info2 = switching.step(action)
            np.testing.assert_array_equal(obs, out.obs[0])
            assert out.obs[0, cell] == 1.0
            assert out.obs[0, :25].sum() == 1.0
            assert np.float32(reward) == out.rewards[0]
            assert reward2 == reward
            assert (terminated, truncated) == (out.terminated[0], out.truncated[0])
            assert info["success"] == terminated
            done = terminated or truncated
        assert info["success"] == bool(out.episodes.successes[0]) == info2["success"]
        assert info2["episode_return"] == out.episodes.returns[0]
        assert info2["episode_length"] == out.episodes.lengths[0]
        episodes, successes = episodes + 1, successes + int(info["success"])
    assert 0 < successes < episodes


@pytest.mark.parametrize("task", [0, 1, 2, 3])
@pytest.mark.parametrize("terminate", [True, False])
def test_pointmass_matches_the_pool(task: int, terminate: bool) -> None:
    seed = 17 + task
    pool = PointMassEnvPool(1, seed=seed, terminate_on_success=terminate)
    env = gym.make("drats/PointMass-v0", task=task, terminate_on_success=terminate)
    rng = np.random.default_rng(task)
    successes = 0
    for episode in range(12):
        want = pool.reset([task])[0]
        obs, _ = env.reset(seed=seed if episode == 0 else None)
        np.testing.assert_array_equal(obs, want[:3])
        done = False
        while not done:
            # towards the goal with noise (half the time), else anywhere, some out of [-1, 1]
            toward = 10.0 * (GOALS[task] - obs[:2]) if rng.random() < 0.5 else 0.0
            action = (toward + rng.uniform(-1.5, 1.5, 2)).astype(np.float32)
            out = pool.step(action[None])
            obs, reward, terminated, truncated, info = env.step(action)
            np.testing.assert_array_equal(obs, out.obs[0, :3])
            assert np.float32(reward) == out.rewards[0]
            assert (terminated, truncated) == (out.terminated[0], out.truncated[0])
            done = terminated or truncated
        assert info["success"] == bool(out.episodes.successes[0])
        successes += int(info["success"])
    if task < 3:
        assert successes > 0


def test_pointmass_seeds_like_the_pools_slots() -> None:
    a = gym.make("drats/PointMass-v0", task=0)
    b = gym.make("drats/PointMass-v0", task=0)
    first = a.reset(seed=5)[0]
    np.testing.assert_array_equal(first, b.reset(seed=5)[0])
    assert not np.array_equal(a.reset()[0], first)  # later resets continue the stream
    assert not np.array_equal(b.reset(seed=6)[0], first)
