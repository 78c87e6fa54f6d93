"""The fakes subclass their ports, pass the checkers they can, and refuse bad settings, calls and
saved states with typed errors that leave them unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import EnvPool, Policy, ReplayBuffer, TaskSampler
from drats.domain.types import Batch
from drats.testing import (
    FakeEnvPool,
    FakePolicy,
    FakeReplayBuffer,
    FakeTaskSampler,
    check_env_pool,
)
from drats.testing.assertions import same_state


@pytest.mark.parametrize(
    ("fake", "port"),
    [
        (FakeTaskSampler, TaskSampler),
        (FakeReplayBuffer, ReplayBuffer),
        (FakeEnvPool, EnvPool),
        (FakePolicy, Policy),
    ],
)
def test_each_fake_subclasses_its_port(fake: type, port: type) -> None:
    assert port in fake.__mro__


@pytest.mark.parametrize("num_tasks", [1, 3])
def test_fake_env_pool_honours_the_contract(num_tasks: int) -> None:
    check_env_pool(lambda n, *, seed: FakeEnvPool(n, num_tasks=num_tasks, seed=seed))


# ------------------------------------------------------------------------------ replay


def filled_replay() -> FakeReplayBuffer:
    buf = FakeReplayBuffer(2, 3, 2, 1, seed=4)
    ids = np.array([0, 0, 0, 0, 1])
    buf.add(ids, np.ones((5, 2)), np.ones((5, 1)), np.arange(5.0), np.ones((5, 2)), np.zeros(5))
    return buf


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 4, 3, 2, 0.6), "alpha: FakeReplayBuffer is uniform"),
        ((2, 4, 3, 2, "0"), "alpha must be"),
        ((0, 4, 3, 2, 0.0), "num_tasks must be an integer >= 1"),
        ((2, 4, (), 2, 0.0), "obs_shape must have at least one dimension"),
        ((3, 2**63, 2, 1, 0.0), r"num_tasks \* capacity_per_task \* row size"),
    ],
)
def test_fake_replay_refuses_bad_settings(args: tuple[Any, ...], message: str) -> None:
    *sizes, alpha = args
    with pytest.raises(ConfigError, match=message):
        FakeReplayBuffer(*sizes, alpha=alpha)


def test_fake_replay_refuses_more_draws_than_one_call_allows() -> None:
    buf = filled_replay()
    before = buf.state_dict()
    with pytest.raises(InvalidInputError, match="counts total must be at most"):
        buf.sample(np.array([2**40, 0]))
    assert same_state(before, buf.state_dict())


def _bad_positions(s: dict[str, Any]) -> None:
    s["positions"][1] = 0  # task 1 holds one transition, so its next slot is 1


def _position_beyond(s: dict[str, Any]) -> None:
    s["positions"][0] = 3


def _priority_on_empty(s: dict[str, Any]) -> None:
    s["priorities"][1, 2] = 1.0


def _no_priority_on_filled(s: dict[str, Any]) -> None:
    s["priorities"][0, 0] = 0.0


def _terminated_two(s: dict[str, Any]) -> None:
    s["terminated"][0, 0] = 2.0


def _float32_overflow(s: dict[str, Any]) -> None:
    s["rewards"] = s["rewards"].astype(np.float64)
    s["rewards"][0, 0] = 1e39


def _max_priority_zero(s: dict[str, Any]) -> None:
    s["max_priority"][0] = 0.0


def _other_obs_shape(s: dict[str, Any]) -> None:
    s["obs_shape"] = np.array([3])


def _float_sizes(s: dict[str, Any]) -> None:
    s["sizes"] = s["sizes"].astype(float)


def _huge_unsigned_size(s: dict[str, Any]) -> None:
    s["sizes"] = np.array([2**64 - 1, 1], dtype=np.uint64)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_bad_positions, "'positions' must equal 'sizes'"),
        (_position_beyond, "'positions' must equal 'sizes'"),
        (_priority_on_empty, "'priorities' must be > 0 on filled slots"),
        (_no_priority_on_filled, "'priorities' must be > 0 on filled slots"),
        (_terminated_two, "'terminated' must be 0 or 1"),
        (_float32_overflow, "'rewards' must be finite"),
        (_max_priority_zero, "'max_priority' must be finite and > 0"),
        (_other_obs_shape, "'obs_shape'"),
        (_float_sizes, "'sizes' must be an array"),
        (_huge_unsigned_size, "'sizes' entries must be in"),
    ],
)
def test_fake_replay_refuses_broken_states_unchanged(
    corrupt: Callable[[dict[str, Any]], None], message: str
) -> None:
    buf = filled_replay()
    before = buf.state_dict()
    state = buf.state_dict()
    corrupt(state)
    with pytest.raises(CheckpointError, match=message):
        buf.load_state_dict(state)
    assert same_state(before, buf.state_dict())


def test_a_loaded_fake_replay_shares_no_memory_with_the_state() -> None:
    buf = filled_replay()
    state = buf.state_dict()
    twin = FakeReplayBuffer(2, 3, 2, 1)
    twin.load_state_dict(state)
    for value in state.values():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim > 1:
            value[...] = 0.5
    assert same_state(buf.state_dict(), twin.state_dict())


# ------------------------------------------------------------------------ sampler, pool


@pytest.mark.parametrize(
    ("entry", "value", "message"),
    [
        ("next", 3, "'next' entries must be in"),
        ("next", -1, "'next' entries must be in"),
        ("updates", -2, "'updates' entries must be"),
        ("next", "1", "'next' must be an array"),
        ("updates", np.zeros(2, dtype=np.int64), "'updates' must be an array"),
    ],
)
def test_fake_sampler_refuses_broken_states_unchanged(
    entry: str, value: object, message: str
) -> None:
    sampler = FakeTaskSampler(3, seed=1)
    sampler.sample(2)
    before = sampler.state_dict()
    with pytest.raises(CheckpointError, match=message):
        sampler.load_state_dict({**before, entry: value})
    assert sampler.state_dict() == before


@pytest.mark.parametrize(
    ("entry", "value", "message"),
    [
        ("tasks", np.array([0, 3]), "'tasks' entries must be in"),
        ("steps", np.array([0, -1]), "'steps' entries must be"),
        ("start", np.array([0.0, np.nan]), "'start' must be finite"),
        ("returns", np.array([np.inf, 0.0]), "'returns' must be finite"),
        ("live", np.array([1, 1]), "'live' must be an array"),
    ],
)
def test_fake_pool_refuses_broken_states_unchanged(entry: str, value: object, message: str) -> None:
    pool = FakeEnvPool(2, num_tasks=3, seed=1)
    pool.reset(np.array([1, 2]))
    before = pool.state_dict()
    with pytest.raises(CheckpointError, match=message):
        pool.load_state_dict({**before, entry: value})
    assert same_state(before, pool.state_dict())
    assert pool.step(np.zeros((2, 2))).obs.shape == (2, 5)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FakeEnvPool(0), "num_slots must be an integer >= 1"),
        (lambda: FakeEnvPool(2**16 + 1), "num_slots must be at most 65536"),
        (lambda: FakeEnvPool(2, num_tasks=2**20 + 1), "num_tasks must be at most 1048576"),
        (lambda: FakePolicy(2, discrete=1), "discrete must be True or False"),
        (lambda: FakePolicy(0), "action_dim must be an integer >= 1"),
    ],
)
def test_fakes_refuse_bad_settings(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()


# ----------------------------------------------------------------------------- policy


def test_fake_policy_refuses_bad_calls_and_keeps_its_stream() -> None:
    policy = FakePolicy(2, seed=3)
    twin = FakePolicy(2, seed=3)
    obs, ids = np.zeros((3, 4), np.float32), np.array([0, 1, 2])
    nan = obs.copy()
    nan[1, 1] = np.nan
    cases: list[tuple[type[Exception], Callable[[], object], str]] = [
        (InvalidInputError, lambda: policy.act(nan, ids), "obs must be finite"),
        (InvalidInputError, lambda: policy.act(obs[:2], ids), r"obs must have shape \(n, 4\)"),
        (InvalidInputError, lambda: policy.act(obs[0], ids), r"obs must have shape \(n, 1\)"),
        (InvalidDtypeError, lambda: policy.act(obs, ids * 1.0), "task_ids has dtype float64"),
        (UnknownTaskError, lambda: policy.act(obs, np.array([0, -1, 2])), "task id -1"),
        (InvalidInputError, lambda: policy.learn({"obs": obs}), "data must be a Batch"),
    ]
    for kind, call, message in cases:
        with pytest.raises(kind, match=message):
            call()
    assert policy.learned == []
    assert np.array_equal(policy.act(obs, ids).actions, twin.act(obs, ids).actions)


def test_fake_policy_reports_td_errors_for_a_batch() -> None:
    policy = FakePolicy(2)
    rewards = np.array([0.5, -2.0], np.float32)
    obs = np.zeros((2, 3), np.float32)
    policy.learn(
        Batch(
            obs=obs,
            actions=np.zeros((2, 2), np.float32),
            rewards=rewards,
            next_obs=obs,
            terminated=np.zeros(2, np.float32),
            task_ids=np.zeros(2, np.int64),
            indices=np.arange(2),
            weights=np.ones(2, np.float32),
        )
    )
    assert policy.learned == [2]
    assert np.array_equal(policy.last_td_errors, [1.5, 3.0])


def test_fake_policy_refuses_broken_states_unchanged() -> None:
    policy = FakePolicy(2, seed=3)
    before = policy.state_dict()
    for broken in (
        {**before, "learned": -1},
        {**before, "learned": "many"},
        {k: v for k, v in before.items() if k != "learned"},
        {**before, "kind": "other"},
    ):
        with pytest.raises(CheckpointError):
            policy.load_state_dict(broken)
        assert same_state(before, policy.state_dict())
