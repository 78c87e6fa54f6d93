"""Bad input to drats.gym: typed drats errors naming the argument, and no state changed."""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import drats
from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.gym import TaskSamplingVectorWrapper, TaskSwitchingEnv
from tests.gym.helpers import RecordingSampler, gridworld_tasks


def fresh() -> TaskSwitchingEnv:
    env = TaskSwitchingEnv(gridworld_tasks(), seed=1)
    env.set_task_probs([0.1, 0.2, 0.3, 0.4])
    return env


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("task", "error"),
    [
        (4, UnknownTaskError),
        (-1, UnknownTaskError),
        (True, InvalidDtypeError),
        ("1", InvalidDtypeError),
    ],
)
def test_unknown_task_in_reset_options(task: Any, error: type[Exception]) -> None:
    env = fresh()
    env.reset()
    before = env.state_dict()
    with pytest.raises(error, match=r'options\["task"\]'):
        env.reset(options={"task": task})
    assert same_state(env.state_dict(), before)
    twin = fresh()
    twin.reset()
    assert env.reset()[1]["task_id"] == twin.reset()[1]["task_id"]  # the stream did not move


@pytest.mark.parametrize(
    ("q", "error", "match"),
    [
        ([0.5, 0.5], InvalidInputError, "shape"),
        ([0.2, 0.2, 0.2, 0.2, 0.2], InvalidInputError, "shape"),
        ([[0.25] * 4], InvalidInputError, "shape"),
        ([0.3, 0.3, 0.3, 0.3], InvalidInputError, "sum to 1"),
        ([0.5, 0.5, 0.5, -0.5], InvalidInputError, ">= 0"),
        ([0.5, 0.5, np.nan, 0.0], InvalidInputError, "finite"),
        ([0.25, 0.25, 0.25, np.inf], InvalidInputError, "finite"),
        (["a", "b", "c", "d"], InvalidDtypeError, "q"),
    ],
)
def test_bad_task_probs(q: Any, error: type[Exception], match: str) -> None:
    env = fresh()
    before = env.state_dict()
    with pytest.raises(error, match=match) as info:
        env.set_task_probs(q)
    assert str(info.value).startswith("q ")
    assert same_state(env.state_dict(), before)


def test_a_sum_within_the_tolerance_is_accepted() -> None:
    env = fresh()
    env.set_task_probs([0.25, 0.25, 0.25, 0.25 + 5e-7])
    assert env.probs[3] == 0.25 + 5e-7


def test_spaces_that_cannot_be_padded_together() -> None:
    mixed = [
        functools.partial(gym.make, "drats/GridWorld-v0", wall=1),
        functools.partial(gym.make, "drats/PointMass-v0", task=0),
    ]
    with pytest.raises(ConfigError, match=r"task_envs: .* got a mix"):
        TaskSwitchingEnv(mixed)


def test_another_tasks_action_is_refused_before_the_task_env_moves() -> None:
    env = TaskSwitchingEnv(["CartPole-v1", "Acrobot-v1"], seed=0)  # 2 and 3 actions
    env.reset(options={"task": 0})
    before = env.state_dict()
    with pytest.raises(InvalidInputError, match=r"not an action of task 0 .*\[0, 2\)"):
        env.step(2)
    after = env.state_dict()
    assert all(np.array_equal(after[key], before[key]) for key in before)
    _, _, _, _, info = env.step(1)  # the episode goes on
    assert info["task_id"] == 0
    with pytest.raises(InvalidInputError, match="discrete actions only"):
        TaskSwitchingEnv(["Pendulum-v1"]).action_masks()
    with pytest.raises(InvalidInputError, match="call reset"):
        TaskSwitchingEnv(["CartPole-v1"]).action_masks()


@pytest.mark.parametrize(
    "task_envs",
    [[], "drats/GridWorld-v0", ["drats/GridWorld-v0", 3], None],
)
def test_bad_task_envs(task_envs: Any) -> None:
    with pytest.raises(ConfigError, match="task_envs"):
        TaskSwitchingEnv(task_envs)


def test_unknown_env_id_and_bad_settings() -> None:
    with pytest.raises(ConfigError, match="NoSuchEnv"):
        TaskSwitchingEnv(["drats/NoSuchEnv-v0"])
    with pytest.raises(ConfigError, match="seed"):
        TaskSwitchingEnv(gridworld_tasks(), seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="one_hot"):
        TaskSwitchingEnv(gridworld_tasks(), one_hot=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="spaces"):
        TaskSwitchingEnv(
            gridworld_tasks(), spaces=[(gym.spaces.Discrete(25), gym.spaces.Discrete(4))]
        )
    with pytest.raises(ConfigError, match="wall"):
        gym.make("drats/GridWorld-v0", wall=5)
    with pytest.raises(ConfigError, match="task"):
        gym.make("drats/PointMass-v0", task=4)


def test_bad_actions() -> None:
    env = fresh()
    with pytest.raises(InvalidInputError, match="call reset"):
        env.step(0)
    env.reset()
    before = env.state_dict()
    with pytest.raises(InvalidInputError, match="outside"):
        env.step(4)
    with pytest.raises(InvalidInputError, match="shape"):
        env.step(np.array([0, 1]))
    with pytest.raises(InvalidDtypeError):
        env.step(1.0)
    assert same_state(env.state_dict(), before)
    point = TaskSwitchingEnv(
        [functools.partial(gym.make, "drats/PointMass-v0", task=t) for t in range(2)]
    )
    point.reset()
    with pytest.raises(InvalidInputError, match="finite"):
        point.step(np.array([np.nan, 0.0], np.float32))
    with pytest.raises(InvalidInputError, match="shape"):
        point.step(np.zeros(3, np.float32))


def test_bad_env_states() -> None:
    env = fresh()
    env.reset()
    before = env.state_dict()
    bad_probs = {**before, "probs": np.array([0.5, 0.5, 0.5, 0.5])}
    bad_task = {**before, "task": 4}
    bad_rng = {**before, "rng": np.zeros(3, np.uint64)}
    other = {**before, "num_tasks": 3}
    for state, match in [
        (bad_probs, "probs"),
        (bad_task, "task"),
        (bad_rng, "rng"),
        (other, "num_tasks"),
    ]:
        with pytest.raises(CheckpointError, match=match):
            env.load_state_dict(state)
        assert same_state(env.state_dict(), before)
    missing = dict(before)
    del missing["rng"]
    with pytest.raises(CheckpointError, match="rng"):
        env.load_state_dict(missing)


def sync_envs(n: int = 2) -> Any:
    return gym.vector.SyncVectorEnv([lambda: TaskSwitchingEnv(gridworld_tasks()) for _ in range(n)])


def test_bad_wrapper_arguments() -> None:
    with pytest.raises(ConfigError, match="sampler has num_tasks = 3"):
        TaskSamplingVectorWrapper(sync_envs(), RecordingSampler(3), window_steps=8)
    with pytest.raises(ConfigError, match="sampler must be a drats TaskSampler"):
        TaskSamplingVectorWrapper(sync_envs(), object(), window_steps=8)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="window_steps"):
        TaskSamplingVectorWrapper(sync_envs(), RecordingSampler(4), window_steps=0)
    with pytest.raises(ConfigError, match="envs"):
        TaskSamplingVectorWrapper(
            gym.make("drats/GridWorld-v0"), RecordingSampler(4), window_steps=8
        )  # type: ignore[arg-type]
    plain = gym.vector.SyncVectorEnv([lambda: gym.make("drats/GridWorld-v0")])
    with pytest.raises(ConfigError, match="TaskSwitchingEnv"):
        TaskSamplingVectorWrapper(plain, RecordingSampler(4), window_steps=8)
    envs = sync_envs()
    envs.call("set_task_probs", np.array([0.0, 0.0, 0.0, 1.0]))
    with pytest.raises(ConfigError):  # nothing is sent to the sub-envs on a refusal
        TaskSamplingVectorWrapper(envs, RecordingSampler(3), window_steps=8)
    np.testing.assert_array_equal(envs.get_attr("probs"), [[0.0, 0.0, 0.0, 1.0]] * 2)


def test_bad_wrapper_states_change_nothing() -> None:
    sampler = drats.NumpyDratsSampler(4, seed=0)
    envs = TaskSamplingVectorWrapper(sync_envs(), sampler, window_steps=16)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(100):
        envs.step(rng.integers(0, 4, 2))
    before = envs.state_dict()
    bad_env = {**before, "env.1.probs": np.array([1.0, 1.0, 0.0, 0.0])}
    bad_sampler = {**before, "sampler.num_tasks": 5}
    bad_counter = {**before, "window_env_steps": 16}
    stray = {**before, "env.7.probs": np.full(4, 0.25)}
    for state, match in [
        (bad_env, "sub-env 1.*probs"),
        (bad_sampler, "num_tasks"),
        (bad_counter, "window_env_steps"),
        (stray, "env.7"),
        ({**before, "num_envs": 3}, "num_envs"),
    ]:
        with pytest.raises(CheckpointError, match=match):
            envs.load_state_dict(state)
        assert same_state(envs.state_dict(), before)
    envs.close()
