"""PointMass-4: dynamics, the wall, rewards, the EnvPool contract and state round trips."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from drats.adapters.envs.pointmass import (
    DISTANCE_SCALE,
    GOAL_BONUS,
    GOALS,
    HORIZON,
    WALL_Y,
    PointMassEnvPool,
)
from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.types import PoolStep
from drats.testing import check_env_pool

#: A way round the east end of task 3's wall, just below the wall line.
WAYPOINT = np.array([0.7, -0.4])


def toward(pos: NDArray[np.float32], target: NDArray[np.float64]) -> NDArray[np.float32]:
    """The straight-line controller: the action that moves ``pos`` (float32[N, 2]) along the
    straight line to ``target`` (float64[N, 2] or [2]) as fast as the unit action box allows."""
    wanted = (target - pos) / 0.1
    scale = np.maximum(np.abs(wanted).max(axis=1, keepdims=True), 1.0)
    action: NDArray[np.float32] = (wanted / scale).astype(np.float32)
    return action


def run_episode(pool: PointMassEnvPool, task: int, legs: list[NDArray[np.float64]]) -> PoolStep:
    """Play one episode in slot 0 of a 1-slot pool, visiting ``legs`` in turn; return the
    final step."""
    obs = pool.reset([task])
    leg = 0
    for _ in range(HORIZON):
        if leg < len(legs) - 1 and np.linalg.norm(obs[0, :2] - legs[leg]) < 0.02:
            leg += 1
        out = pool.step(toward(obs[:, :2], legs[leg]))
        obs = out.obs
        if out.terminated[0] or out.truncated[0]:
            return out
    raise AssertionError("the episode did not end within the horizon")


def npz_round_trip(state: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def test_contract() -> None:
    check_env_pool(lambda n, *, seed: PointMassEnvPool(n, seed=seed))
    check_env_pool(lambda n, *, seed: PointMassEnvPool(n, seed=seed, terminate_on_success=False))


def test_description_and_first_observation() -> None:
    pool = PointMassEnvPool(4, seed=3)
    assert (pool.num_slots, pool.num_tasks, pool.obs_dim, pool.action_dim) == (4, 4, 7, 2)
    assert not pool.discrete
    assert pool.restores_episodes
    obs = pool.reset([0, 1, 2, 3])
    assert obs.dtype == np.float32
    assert np.all(np.abs(obs[:, :2]) <= 0.05)  # near the centre
    assert np.all(obs[:, 2] == 0.0)  # steps / horizon
    assert np.array_equal(obs[:, 3:], np.eye(4, dtype=np.float32))


@pytest.mark.parametrize("task", range(3))
def test_straight_line_solves_the_open_tasks(task: int) -> None:
    out = run_episode(PointMassEnvPool(1, seed=task), task, [GOALS[task]])
    assert out.terminated[0]
    assert not out.truncated[0]
    assert out.episodes.successes.tolist() == [True]
    assert out.episodes.lengths[0] <= 10
    assert np.linalg.norm(out.obs[0, :2] - GOALS[task]) < 0.1
    assert out.rewards[0] > GOAL_BONUS - 0.1 * DISTANCE_SCALE  # the bonus step


def test_two_legs_solve_the_wall_task_and_one_leg_does_not() -> None:
    pool = PointMassEnvPool(1, seed=7)
    out = run_episode(pool, 3, [WAYPOINT, GOALS[3]])
    assert out.terminated[0]
    assert out.episodes.successes.tolist() == [True]
    assert out.episodes.lengths[0] <= 20
    assert 0.0 < out.episodes.returns[0] < GOAL_BONUS
    out = run_episode(pool, 3, [GOALS[3]])  # straight south: stuck on the wall
    assert out.truncated[0]
    assert not out.terminated[0]
    assert out.episodes.successes.tolist() == [False]
    assert out.obs[0, 1] > WALL_Y
    assert out.obs[0, 1] == pytest.approx(WALL_Y, abs=0.1)


def test_the_wall_only_blocks_task_3_and_only_its_span() -> None:
    pool = PointMassEnvPool(3, seed=0)
    obs = pool.reset([0, 3, 3])
    above = np.array([[0.0, -0.3], [0.0, -0.3], [0.6, -0.3]])
    pool.load_state_dict({**pool.state_dict(), "pos": above})
    out = pool.step(np.array([[0.0, -1.0]] * 3, dtype=np.float32))
    assert obs.shape == (3, 7)
    assert out.obs[:, 1] == pytest.approx([-0.4, -0.3, -0.4])  # blocked in slot 1 only
    out = pool.step(np.array([[0.0, 1.0]] * 3, dtype=np.float32))  # from below, too
    assert out.obs[:, 1] == pytest.approx([-0.3, -0.2, -0.3])


def test_random_policy_rarely_solves_the_wall_task() -> None:
    # With this seed 4000 random episodes per task succeed at rates 0.31, 0.075, 0.016 and
    # 0.01 (the way round the wall is short enough for SAC to find it, not for chance).
    n = 4000
    rates = []
    for task in range(4):
        pool = PointMassEnvPool(n, seed=1)
        pool.reset(np.full(n, task))
        rng = np.random.default_rng(0)
        success = np.zeros(n, dtype=bool)
        for _ in range(HORIZON):
            out = pool.step(rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32))
            success[out.terminated] = True
            ended = np.flatnonzero(out.terminated | out.truncated)
            pool.reset_slots(ended, np.full(ended.size, task))  # later episodes not counted
        rates.append(success.mean())
    assert rates[0] > 0.2
    assert rates[0] > rates[1] > rates[2] > rates[3]
    assert rates[3] < 0.015


def test_truncation_after_the_horizon_and_reward_bookkeeping() -> None:
    pool = PointMassEnvPool(2, seed=4)
    first = pool.reset([1, 2])
    distances = np.linalg.norm(first[:, :2] - GOALS[[1, 2]], axis=1)
    total = np.zeros(2)
    for i in range(HORIZON):
        out = pool.step(np.zeros((2, 2), dtype=np.float32))
        assert np.all(out.truncated == (i == HORIZON - 1))
        assert np.allclose(out.rewards, -DISTANCE_SCALE * distances, atol=1e-6)
        assert np.allclose(out.obs[:, 2], (i + 1) / HORIZON)
        total += out.rewards
    assert not out.terminated.any()
    assert out.episodes.lengths.tolist() == [HORIZON, HORIZON]
    assert out.episodes.successes.tolist() == [False, False]
    assert out.episodes.task_ids.tolist() == [1, 2]
    assert np.allclose(out.episodes.returns, total)
    with pytest.raises(InvalidInputError, match="reset_slots"):
        pool.step(np.zeros((2, 2), dtype=np.float32))


def test_without_termination_the_bonus_is_paid_once() -> None:
    pool = PointMassEnvPool(1, seed=2, terminate_on_success=False)
    obs = pool.reset([0])
    rewards, done = [], False
    while not done:
        out = pool.step(toward(obs[:, :2], GOALS[0]))
        obs, done = out.obs, bool(out.truncated[0])
        assert not out.terminated[0]
        rewards.append(float(out.rewards[0]))
    assert sum(r > 0 for r in rewards) == 1
    assert out.episodes.successes.tolist() == [True]
    assert out.episodes.lengths.tolist() == [HORIZON]
    assert out.episodes.returns[0] == pytest.approx(sum(rewards), abs=1e-5)


def test_bad_input() -> None:
    pool = PointMassEnvPool(2)
    pool.reset([0, 1])
    good = np.zeros((2, 2), dtype=np.float32)
    for value in (np.nan, np.inf, -np.inf, 1e300):
        bad = np.array(good, dtype=np.float64)
        bad[1, 0] = value
        with pytest.raises(InvalidInputError, match="finite"):
            pool.step(bad)
    with pytest.raises(InvalidInputError, match="shape"):
        pool.step(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(InvalidDtypeError):
        pool.step(np.full((2, 2), "a"))
    with pytest.raises(UnknownTaskError):
        pool.reset_slots([0], [4])
    with pytest.raises(InvalidInputError, match="more than once"):
        pool.reset_slots([1, 1], [0, 0])
    with pytest.raises(ConfigError):
        PointMassEnvPool(0)
    # Nothing above changed the pool; out-of-box actions are clipped to [-1, 1].
    before = pool.state_dict()["pos"]
    out = pool.step(np.array([[50.0, -0.5], [1.0, -2.0]], dtype=np.float32))
    assert np.allclose(out.obs[:, :2] - before, [[0.1, -0.05], [0.1, -0.1]], atol=1e-6)


def test_state_round_trip_and_rejection() -> None:
    pool = PointMassEnvPool(2, seed=11)
    pool.reset([2, 3])
    pool.step(np.array([[0.5, -1.0], [1.0, 0.3]], dtype=np.float32))
    twin = PointMassEnvPool(2, seed=12)
    twin.load_state_dict(npz_round_trip(pool.state_dict()))
    actions = np.array([[-1.0, 0.2], [0.1, -0.7]], dtype=np.float32)
    a, b = pool.step(actions), twin.step(actions)
    assert np.array_equal(a.obs, b.obs)
    assert np.array_equal(a.rewards, b.rewards)
    assert np.array_equal(pool.reset([0, 1]), twin.reset([0, 1]))  # the RNGs came along
    saved = twin.state_dict()
    bad_states: list[tuple[str, Any]] = [
        ("pos", np.full((2, 2), 1.5)),
        ("pos", np.full((2, 2), np.nan)),
        ("pos", np.zeros((3, 2))),
        ("tasks", np.array([0, 4])),
        ("steps", np.array([0, HORIZON + 1])),
        ("returns", np.array([0.0, np.inf])),
        ("rng", np.zeros((2, 2), dtype=np.int64)),
        ("terminate_on_success", False),
        ("num_slots", 3),
    ]
    refused = [{**saved, key: value} for key, value in bad_states]
    refused += [{k: v for k, v in saved.items() if k != key} for key in saved]
    for state, key in zip(refused, [k for k, _ in bad_states] + list(saved), strict=True):
        with pytest.raises(CheckpointError, match=key):
            twin.load_state_dict(state)
        after = twin.state_dict()  # a refused load leaves the pool as it was
        assert all(np.array_equal(after[k], v) for k, v in saved.items()), key


def test_seeds_change_start_positions() -> None:
    def starts(seed: int, n: int = 4) -> NDArray[np.float32]:
        pool = PointMassEnvPool(n, seed=seed)
        return np.concatenate([pool.reset(np.zeros(n, dtype=np.int64))[:, :2] for _ in range(3)])

    a, b = starts(0), starts(1)
    assert np.array_equal(a, starts(0))
    assert not np.allclose(a, b)
    assert np.unique(a, axis=0).shape[0] == a.shape[0]  # every slot and episode differs
    assert np.all(np.abs(a) <= 0.05)
    # Slot i of seed s plays the stream of seed s + i, whatever the pool size.
    assert np.array_equal(starts(1, n=1)[0], a[1])


def test_state_dict_layout_is_stable() -> None:
    # The layout checkpoints hold: a state written in this form loads and plays on.
    state = {
        "kind": "pointmass",
        "num_slots": 2,
        "terminate_on_success": True,
        "pos": np.array([[0.25, 0.0], [0.5, 0.5]]),
        "tasks": np.array([0, 1], dtype=np.int64),
        "steps": np.array([3, HORIZON - 1], dtype=np.int64),
        "returns": np.array([-0.2, -2.5]),
        "live": np.array([True, True]),
        "succeeded": np.array([False, False]),
        "rng": np.array([[1, 2], [3, 4]], dtype=np.uint64),
    }
    pool = PointMassEnvPool(2)
    pool.load_state_dict(state)
    saved = pool.state_dict()
    assert list(saved) == list(state)
    assert all(np.asarray(saved[k]).dtype == np.asarray(v).dtype for k, v in state.items())
    out = pool.step(np.array([[0.5, 0.0], [-1.0, 0.0]], dtype=np.float32))
    assert out.obs[:, :2] == pytest.approx(np.array([[0.3, 0.0], [0.4, 0.5]]))
    assert out.terminated.tolist() == [True, False]  # slot 0 reached the goal
    assert out.truncated.tolist() == [False, True]
    assert out.episodes.successes.tolist() == [True, False]
    assert out.episodes.lengths.tolist() == [4, HORIZON]
    assert out.rewards[0] == pytest.approx(GOAL_BONUS)
    np.testing.assert_array_equal(pool.state_dict()["rng"], state["rng"])
