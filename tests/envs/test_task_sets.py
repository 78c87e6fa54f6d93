"""Task sets a user brings: discrete tasks with different action counts (the union action
space, the mask table, refusal of another task's actions on both backends), which tasks report
success, and the targets a Gymnasium task carries."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from drats.adapters.envs.gym_tasks import GymEnvPool  # noqa: E402
from drats.adapters.envs.layouts import PoolLayout, action_mask  # noqa: E402
from drats.domain.errors import ConfigError, InvalidInputError  # noqa: E402
from drats.domain.ports import (  # noqa: E402
    action_counts_of,
    reports_success_of,
    task_targets_of,
)
from drats.testing import check_env_pool  # noqa: E402

spaces = gym.spaces
BOX = spaces.Box(-1.0, 1.0, (2,), np.float32)


class _Recorder(gym.Env):  # type: ignore[misc]
    """Discrete(2) actions shifted to start at 5; remembers every action it is given and
    reports success (``info["success"]``) on every step."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2, start=5)
    received: ClassVar[list[int]] = []

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action: Any) -> Any:
        _Recorder.received.append(int(action))
        return np.zeros(1, np.float32), 1.0, False, False, {"success": False}


gym.register("drats-test/Recorder-v0", entry_point=_Recorder, max_episode_steps=7)


def test_the_layout_of_different_action_counts() -> None:
    layout = PoolLayout(
        ["a", "b", "c"],
        [(BOX, spaces.Discrete(2)), (BOX, spaces.Discrete(5, start=-2)), (BOX, spaces.Discrete(3))],
    )
    assert layout.discrete
    assert layout.action_dim == 5
    assert layout.action_counts is not None
    assert layout.action_counts.tolist() == [2, 5, 3]
    assert layout.action_mask is not None
    assert layout.action_mask.astype(int).tolist() == [
        [1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
    ]
    assert layout.env_action(np.int64(4), 1) == 2  # shifted by the space's start
    layout.check_task_actions(np.array([1, 4, 2]), np.array([0, 1, 2]))
    with pytest.raises(InvalidInputError, match=r"actions\[1\] = 3 .* task 2 \('c'"):
        layout.check_task_actions(np.array([1, 3]), np.array([1, 2]))


def test_continuous_layouts_have_no_action_counts() -> None:
    layout = PoolLayout(["a"], [(BOX, BOX)])
    assert layout.action_counts is None
    assert layout.action_mask is None


@pytest.mark.parametrize(
    ("counts", "dim"),
    [([0, 2], 2), ([3], 2), ([], 2), ([[1, 2]], 2), ([1.0, 2.0], 2), ("ab", 2)],
)
def test_bad_action_counts_are_config_errors(counts: Any, dim: int) -> None:
    with pytest.raises(ConfigError, match="action_counts"):
        action_mask(counts, dim)


def test_discrete_and_continuous_tasks_cannot_share_a_set() -> None:
    with pytest.raises(ConfigError, match="cannot share one task set"):
        PoolLayout(["a", "b"], [(BOX, BOX), (BOX, spaces.Discrete(2))])


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_a_pool_refuses_another_tasks_action_before_anything_moves(backend: str) -> None:
    pool = GymEnvPool(["CartPole-v1", "Acrobot-v1"], 3, seed=1, backend=backend)
    try:
        assert pool.action_dim == 3
        assert action_counts_of(pool) is not None
        assert pool.action_counts.tolist() == [2, 3]  # type: ignore[union-attr]
        pool.reset([1, 0, 1])
        steps = pool.state_dict()["slot_steps"].copy()
        with pytest.raises(InvalidInputError, match=r"actions\[1\] = 2 .*'CartPole-v1'"):
            pool.step(np.array([2, 2, 0]))
        np.testing.assert_array_equal(pool.state_dict()["slot_steps"], steps)
        out = pool.step(np.array([2, 1, 0]))  # the same slots, valid actions: accepted
        assert out.rewards.tolist() == [-1.0, 1.0, -1.0]
    finally:
        pool.close()


def test_mixed_action_counts_pass_the_pool_contract() -> None:
    check_env_pool(
        lambda n, *, seed: GymEnvPool(["CartPole-v1", "Acrobot-v1"], n, seed=seed),
        max_steps=600,
    )


def test_only_valid_actions_reach_the_env_shifted_by_its_start() -> None:
    pool = GymEnvPool(["drats-test/Recorder-v0", "Acrobot-v1"], 2, seed=0)
    _Recorder.received.clear()  # the success probe stepped a throwaway instance once
    pool.reset([0, 1])
    pool.step(np.array([1, 2]))
    with pytest.raises(InvalidInputError):
        pool.step(np.array([2, 0]))
    pool.step(np.array([0, 0]))
    assert _Recorder.received == [6, 5]
    pool.close()


def test_which_tasks_report_success_and_their_targets() -> None:
    pool = GymEnvPool(["CartPole-v1", "Acrobot-v1", "drats-test/Recorder-v0"], 3)
    assert reports_success_of(pool).tolist() == [False, False, True]
    targets = task_targets_of(pool)
    assert targets is not None
    np.testing.assert_array_equal(targets, [475.0, -100.0, np.nan])
    pool.close()
    continuous = GymEnvPool(["Pendulum-v1", "MountainCarContinuous-v0"], 2, backend="process")
    assert action_counts_of(continuous) is None
    assert continuous.reports_success.tolist() == [False, False]
    np.testing.assert_array_equal(continuous.task_targets, [np.nan, 90.0])  # type: ignore[arg-type]
    continuous.close()


def test_pools_without_the_optional_members_keep_their_meaning() -> None:
    from drats.adapters.envs.gridworld import GridWorldEnvPool

    pool = GridWorldEnvPool(2, seed=0)
    assert action_counts_of(pool) is None
    assert reports_success_of(pool).tolist() == [True] * 4
    assert task_targets_of(pool) is None


class _Odd:
    """A pool whose optional members do not fit it."""

    num_tasks, action_dim, discrete = 2, 3, True
    action_counts = np.array([2, 4])
    reports_success = np.array([1, 0])
    task_targets = np.array([1.0, np.inf])


@pytest.mark.parametrize(
    "read", [action_counts_of, reports_success_of, task_targets_of], ids=lambda f: f.__name__
)
def test_malformed_optional_members_are_config_errors(read: Any) -> None:
    with pytest.raises(ConfigError, match="the pool's"):
        read(_Odd())
