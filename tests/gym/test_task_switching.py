"""TaskSwitchingEnv: task draws follow q, the padding / one-hot rule of the gym: suite, the
episode infos, bad input refused without a state change, and state round trips."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

from drats.adapters.envs.gym_tasks import GymEnvPool
from drats.adapters.envs.layouts import action_mask
from drats.domain.errors import ConfigError, InvalidInputError
from drats.gym import TaskSwitchingEnv
from tests.gym.helpers import gridworld_tasks

#: A chi-square test at this level: a correct sampler fails it with probability 0.001 for a
#: random seed; with the fixed seeds below the outcome is fixed.
LEVEL = 1e-3


def task_counts(env: TaskSwitchingEnv, resets: int) -> np.ndarray:
    counts = np.zeros(env.num_tasks, np.int64)
    for _ in range(resets):
        _, info = env.reset()
        counts[info["task_id"]] += 1
    return counts


def test_task_frequencies_follow_q_and_its_replacement() -> None:
    env = TaskSwitchingEnv(gridworld_tasks(), seed=11)
    q = np.array([0.1, 0.2, 0.3, 0.4])
    env.set_task_probs(q)
    counts = task_counts(env, 8_000)
    assert stats.chisquare(counts, q * counts.sum()).pvalue > LEVEL
    # The test has power: the same counts are far from uniform.
    assert stats.chisquare(counts, np.full(4, counts.sum() / 4)).pvalue < 1e-12
    new = np.array([0.6, 0.0, 0.4, 0.0])
    env.set_task_probs(new)
    counts = task_counts(env, 4_000)
    assert counts[1] == counts[3] == 0
    assert stats.chisquare(counts[[0, 2]], new[[0, 2]] * counts.sum()).pvalue > LEVEL
    np.testing.assert_array_equal(env.probs, new)
    env.close()


def test_seeds_fix_the_task_stream() -> None:
    a, b, c = (TaskSwitchingEnv(gridworld_tasks(), seed=s) for s in (3, 3, 4))
    first = [a.reset()[1]["task_id"] for _ in range(50)]
    assert first == [b.reset()[1]["task_id"] for _ in range(50)]
    assert first != [c.reset()[1]["task_id"] for _ in range(50)]
    # reset(seed=s) restarts the stream at s, whatever came before
    assert [c.reset(seed=3)[1]["task_id"]] + [c.reset()[1]["task_id"] for _ in range(49)] == first


def test_a_named_task_is_played_and_the_stream_moves_on_alike() -> None:
    a, b = TaskSwitchingEnv(gridworld_tasks()), TaskSwitchingEnv(gridworld_tasks())
    obs, info = a.reset(options={"task": 2})
    assert info["task_id"] == 2 == a.task
    assert obs[25 + 2] == 1.0
    b.reset()
    assert a.reset()[1]["task_id"] == b.reset()[1]["task_id"]


def test_observations_actions_and_episode_infos() -> None:
    env = TaskSwitchingEnv(gridworld_tasks())
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (29,), np.float32)
    assert env.action_space == gym.spaces.Discrete(4)
    obs, info = env.reset(options={"task": 0})
    assert obs.dtype == np.float32
    assert obs[0] == 1.0
    assert obs[25] == 1.0
    assert obs.sum() == 2
    total, steps = 0.0, 0
    for action in [1, 3, 3, 3, 3, 0]:  # down, right x4, up: round the wall of length 1
        obs, reward, terminated, truncated, info = env.step(np.int64(action))
        total, steps = total + reward, steps + 1
        assert info["task_id"] == 0
        assert ("episode_return" in info) == terminated
    assert terminated
    assert not truncated
    assert obs[4] == 1.0
    assert info["episode_return"] == total
    assert info["episode_length"] == steps == 6
    assert info["success"] is True
    with pytest.raises(InvalidInputError, match="call reset"):
        env.step(0)
    no_hot = TaskSwitchingEnv(gridworld_tasks(), one_hot=False)
    assert no_hot.observation_space.shape == (25,)
    assert no_hot.reset(options={"task": 3})[0].shape == (25,)


def test_padding_and_seeding_match_the_gym_suite_pool() -> None:
    """Pendulum (3-d obs, actions in [-2, 2]) and MountainCarContinuous (2-d obs, actions in
    [-1, 1]): the same padded observations, one-hot, rescaled actions and rewards as one slot
    of GymEnvPool with the same seed (both seed each episode's env reset alike)."""
    ids = ["Pendulum-v1", "MountainCarContinuous-v0"]
    env = TaskSwitchingEnv(ids, seed=5)
    assert env.observation_space.shape == (3 + 2,)
    assert env.action_space.shape == (1,)
    np.testing.assert_array_equal(env.observation_space.low[3:], [0.0, 0.0])
    np.testing.assert_array_equal(env.observation_space.high[3:], [1.0, 1.0])
    pool = GymEnvPool(ids, 1, seed=5)
    rng = np.random.default_rng(0)
    for task in (0, 1, 1, 0):
        obs, _ = env.reset(options={"task": task})
        np.testing.assert_array_equal(obs, pool.reset([task])[0])
        for _ in range(30):
            action = rng.uniform(-1.5, 1.5, 1).astype(np.float32)
            obs, reward, *_ = env.step(action)
            out = pool.step(action[None])
            np.testing.assert_array_equal(obs, out.obs[0])
            assert np.float32(reward) == out.rewards[0]
            assert env.observation_space.contains(obs)
    pool.close()
    env.close()


def test_state_round_trip_resumes_the_stream() -> None:
    env = TaskSwitchingEnv(gridworld_tasks(), seed=9)
    env.set_task_probs([0.4, 0.3, 0.2, 0.1])
    for _ in range(7):
        env.reset()
    state = env.state_dict()
    want = [env.reset()[1]["task_id"] for _ in range(40)]
    other = TaskSwitchingEnv(gridworld_tasks(), seed=123)
    other.load_state_dict(state)
    assert other.task == state["task"]
    np.testing.assert_array_equal(other.probs, [0.4, 0.3, 0.2, 0.1])
    with pytest.raises(InvalidInputError, match="call reset"):  # no episode in flight
        other.step(0)
    assert [other.reset()[1]["task_id"] for _ in range(40)] == want


def test_task_envs_are_built_lazily_when_their_spaces_are_given() -> None:
    built: list[int] = []

    def maker(wall: int) -> gym.Env:
        built.append(wall)
        return gym.make("drats/GridWorld-v0", wall=wall)

    spaces = [(gym.spaces.Discrete(25), gym.spaces.Discrete(4))] * 4
    tasks = [lambda w=w: maker(w) for w in (1, 2, 3, 4)]
    env = TaskSwitchingEnv(tasks, spaces=spaces)
    assert built == []
    env.reset(options={"task": 2})
    env.reset(options={"task": 2})
    assert built == [3]
    TaskSwitchingEnv(tasks)
    assert built == [3, 1, 2, 3, 4]  # without spaces: each built once, at construction
    wrong = TaskSwitchingEnv(tasks, spaces=[(gym.spaces.Discrete(24), gym.spaces.Discrete(4))] * 4)
    with pytest.raises(ConfigError, match=r"spaces\[1\]"):
        wrong.reset(options={"task": 1})


def test_tasks_with_different_action_counts_share_the_pools_mask() -> None:
    env = TaskSwitchingEnv(["CartPole-v1", "Acrobot-v1"], seed=3)
    pool = GymEnvPool(["CartPole-v1", "Acrobot-v1"], 2, seed=3)
    try:
        assert env.action_space == gym.spaces.Discrete(3)
        pool_mask = action_mask(pool.action_counts, pool.action_dim)  # type: ignore[arg-type]
        assert np.array_equal(env.layout.action_mask, pool_mask)  # type: ignore[arg-type]
        expected = {0: [True, True, False], 1: [True, True, True]}
        for task in (0, 1, 0):
            _, info = env.reset(options={"task": task})
            assert info["action_mask"].tolist() == expected[task]
            assert env.action_masks().tolist() == expected[task]
            _, _, _, _, info = env.step(1)
            assert info["action_mask"].tolist() == expected[task]
    finally:
        env.close()
        pool.close()
    same = TaskSwitchingEnv(gridworld_tasks())  # every task takes every action: no info key
    _, info = same.reset()
    assert "action_mask" not in info
    assert same.action_masks().all()
