"""GridWorld-4: dynamics, rewards, the EnvPool contract and state round trips."""

from __future__ import annotations

import numpy as np
import pytest

from drats.adapters.envs.gridworld import HORIZON, GridWorldEnvPool
from drats.domain.errors import CheckpointError, InvalidInputError, UnknownTaskError
from drats.testing import check_env_pool

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def shortest_path(wall: int) -> list[int]:
    """Down below the wall, across, and back up to the top-right goal."""
    return [DOWN] * wall + [RIGHT] * 4 + [UP] * wall


def test_contract() -> None:
    check_env_pool(lambda n, *, seed: GridWorldEnvPool(n, seed=seed))


@pytest.mark.parametrize("task", range(4))
def test_shortest_path_reaches_the_goal(task: int) -> None:
    pool = GridWorldEnvPool(1)
    obs = pool.reset([task])
    assert obs.shape == (1, 29)
    assert obs[0, 0] == 1.0
    assert obs[0, 25 + task] == 1.0
    path = shortest_path(task + 1)
    for i, action in enumerate(path):
        out = pool.step([action])
        last = i == len(path) - 1
        assert out.terminated[0] == last
        assert not out.truncated[0]
    assert out.rewards[0] == pytest.approx(1.0)
    assert out.episodes.successes.tolist() == [True]
    assert out.episodes.lengths.tolist() == [len(path)]
    assert out.episodes.returns[0] == pytest.approx(1.0 - 0.001 * (len(path) - 1))
    assert out.obs[0, 4] == 1.0  # the agent stands on the goal cell (row 0, column 4)


@pytest.mark.parametrize("task", range(4))
def test_the_wall_blocks_the_straight_route(task: int) -> None:
    pool = GridWorldEnvPool(1)
    pool.reset([task])
    pool.step([RIGHT])  # (0, 1)
    out = pool.step([RIGHT])  # the wall cell (0, 2) is blocked on every task
    assert out.obs[0, 1] == 1.0
    assert out.rewards[0] == pytest.approx(-0.001)


def test_walls_have_lengths_one_to_four() -> None:
    # Going down `wall - 1` rows then right is blocked; going down `wall` rows is not.
    for task in range(4):
        wall = task + 1
        pool = GridWorldEnvPool(2)
        pool.reset([task, task])
        for _ in range(wall - 1):
            pool.step([DOWN, DOWN])
        pool.step([DOWN, RIGHT])  # slot 0 reaches row `wall`; slot 1 moves to column 1
        pool.step([RIGHT, DOWN])
        out = pool.step([RIGHT, RIGHT])
        row0, col0 = divmod(int(np.argmax(out.obs[0, :25])), 5)
        assert (row0, col0) == (wall, 2), task  # slot 0 passed under the wall


def test_truncation_after_the_horizon() -> None:
    pool = GridWorldEnvPool(1)
    pool.reset([3])
    for _ in range(HORIZON):
        out = pool.step([LEFT])
    assert out.truncated[0]
    assert not out.terminated[0]
    assert out.episodes.successes.tolist() == [False]
    assert out.episodes.returns[0] == pytest.approx(-0.001 * HORIZON)
    with pytest.raises(InvalidInputError, match="reset_slots"):
        pool.step([LEFT])


def test_bad_input() -> None:
    pool = GridWorldEnvPool(2)
    pool.reset([0, 1])
    with pytest.raises(InvalidInputError, match=r"actions must lie in \[0, 4\)"):
        pool.step([0, 4])
    with pytest.raises(UnknownTaskError):
        pool.reset_slots([0], [4])
    with pytest.raises(InvalidInputError, match="more than once"):
        pool.reset_slots([1, 1], [0, 0])
    with pytest.raises(TypeError):
        pool.step([0.5, 1.0])


def test_state_round_trip_and_rejection() -> None:
    pool = GridWorldEnvPool(2)
    pool.reset([2, 3])
    pool.step([DOWN, DOWN])
    twin = GridWorldEnvPool(2)
    twin.load_state_dict(pool.state_dict())
    a, b = pool.step([RIGHT, DOWN]), twin.step([RIGHT, DOWN])
    assert np.array_equal(a.obs, b.obs)
    bad = pool.state_dict()
    bad["pos"] = np.full((2, 2), 7)
    with pytest.raises(CheckpointError, match="pos"):
        twin.load_state_dict(bad)
    with pytest.raises(CheckpointError):
        GridWorldEnvPool(3).load_state_dict(pool.state_dict())


def test_state_dict_layout_is_stable() -> None:
    # The layout checkpoints hold: a state written in this form loads and plays on.
    state = {
        "kind": "gridworld4",
        "num_slots": 2,
        "pos": np.array([[1, 0], [2, 3]], dtype=np.int64),
        "tasks": np.array([2, 3], dtype=np.int64),
        "steps": np.array([1, 14], dtype=np.int64),
        "returns": np.array([-0.001, -0.014]),
        "live": np.array([True, True]),
    }
    pool = GridWorldEnvPool(2)
    pool.load_state_dict(state)
    saved = pool.state_dict()
    assert list(saved) == list(state)
    assert all(np.asarray(saved[k]).dtype == np.asarray(v).dtype for k, v in state.items())
    out = pool.step([RIGHT, UP])
    assert out.obs[0, 1 * 5 + 1] == 1.0  # (1, 0) -> (1, 1)
    assert out.obs[1, 1 * 5 + 3] == 1.0  # (2, 3) -> (1, 3)
    assert out.truncated.tolist() == [False, True]
    assert out.episodes.returns[0] == pytest.approx(-0.015)
    assert out.episodes.lengths.tolist() == [15]


@pytest.mark.parametrize("seed", range(5))
def test_the_fused_step_matches_its_numpy_twin(seed: int) -> None:
    """GridWorldEnvPool.step (one C++ call) against ArrayEnvPool.step with the pool's numpy
    move, through random actions, task switches at episode ends and a state round trip."""
    from drats.adapters.envs.array_pool import ArrayEnvPool

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    fused, twin = GridWorldEnvPool(n), GridWorldEnvPool(n)
    tasks = rng.integers(0, 4, n)
    np.testing.assert_array_equal(fused.reset(tasks), twin.reset(tasks))
    for t in range(300):
        actions = rng.integers(0, 4, n)
        a, b = fused.step(actions), ArrayEnvPool.step(twin, actions)
        for field in ("obs", "rewards", "terminated", "truncated", "task_ids"):
            got, want = getattr(a, field), getattr(b, field)
            np.testing.assert_array_equal(got, want, err_msg=field)
            assert got.dtype == want.dtype, field
        for field in ("task_ids", "returns", "lengths", "successes"):
            np.testing.assert_array_equal(getattr(a.episodes, field), getattr(b.episodes, field))
        ended = np.flatnonzero(a.terminated | a.truncated)
        if ended.size:
            new = rng.integers(0, 4, ended.size)
            np.testing.assert_array_equal(
                fused.reset_slots(ended, new), twin.reset_slots(ended, new)
            )
        if t == 150:
            fused.load_state_dict(twin.state_dict())
    state_a, state_b = fused.state_dict(), twin.state_dict()
    for key in state_a:
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)


def test_a_refused_step_changes_nothing() -> None:
    pool = GridWorldEnvPool(3)
    pool.reset([0, 1, 2])
    pool.step([DOWN, DOWN, DOWN])
    before = pool.state_dict()
    with pytest.raises(InvalidInputError, match=r"actions must lie in \[0, 4\), got -1"):
        pool.step([RIGHT, -1, RIGHT])
    with pytest.raises(InvalidInputError, match=r"must have shape \(num_slots,\) = \(3,\)"):
        pool.step([RIGHT, RIGHT])
    after = pool.state_dict()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    path = GridWorldEnvPool(2)
    path.reset([0, 0])
    for action in shortest_path(1)[:-1]:
        path.step([action, LEFT])
    out = path.step([UP, LEFT])  # slot 0 reaches the goal
    assert out.terminated.tolist() == [True, False]
    with pytest.raises(InvalidInputError, match=r"slots \[0\] have ended their episodes"):
        path.step([LEFT, LEFT])
