"""DRATS sampler semantics, step by step, for the C++ sampler and its numpy twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drats import (
    CheckpointError,
    ConfigError,
    CppPerTaskReplay,
    DratsSampler,
    NumpyDratsSampler,
    NumpyPerTaskReplay,
    NumpyUniformSampler,
    UniformSampler,
)

DRATS = [DratsSampler, NumpyDratsSampler]
UNIFORM = [UniformSampler, NumpyUniformSampler]


@pytest.mark.parametrize("make", DRATS)
def test_gaps_window_mean_and_unvisited_tasks(make: Any) -> None:
    s = make(3, target=100.0)
    s.observe([0, 0, 1], [50.0, 150.0, 25.0], [False, False, False])
    s.update()
    np.testing.assert_allclose(s.gaps, [0.0, 0.75, 1.0])  # task 2 unvisited: gap 1
    s.update()  # the window was reset: nobody visited
    np.testing.assert_allclose(s.gaps, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("make", DRATS)
def test_q_moves_toward_the_largest_gap_and_respects_the_default_floor(make: Any) -> None:
    s = make(4, target=100.0)
    for _ in range(30):
        s.observe([0, 1, 2], [100.0, 100.0, 100.0], [False] * 3)  # task 3 never seen
        q = s.update()
    assert np.argmax(q) == 3
    assert q.min() == pytest.approx(1 / 16)  # eps = 1/(4K)


@pytest.mark.parametrize("make", DRATS)
def test_solved_task_switches_to_its_best_return(make: Any) -> None:
    s = make(2, target=1000.0, success_window=4, success_threshold=0.5)
    s.observe([0, 0, 0], [10.0, 30.0, 20.0], [True, True, True])
    np.testing.assert_allclose(s.targets, [1000.0, 1000.0])  # history not full yet
    s.observe([0], [5.0], [False])  # 3/4 = 0.75 > 0.5: solved, target = best so far
    np.testing.assert_allclose(s.targets, [30.0, 1000.0])
    s.observe([0, 0, 0, 0], [1.0, 40.0, 2.0, 3.0], [False] * 4)  # solved for good
    np.testing.assert_allclose(s.targets, [40.0, 1000.0])
    assert s.state_dict()["solved"].tolist() == [True, False]


@pytest.mark.parametrize("make", DRATS)
def test_threshold_is_strict_and_adaptive_target_can_be_off(make: Any) -> None:
    s = make(1, target=1000.0, success_window=4, success_threshold=0.5)
    s.observe([0] * 4, [10.0] * 4, [True, True, False, False])  # mean 0.5 is not > 0.5
    np.testing.assert_allclose(s.targets, [1000.0])
    fixed = make(1, target=1000.0, success_window=2, adaptive_target=False)
    fixed.observe([0, 0], [10.0, 20.0], [True, True])
    np.testing.assert_allclose(fixed.targets, [1000.0])


@pytest.mark.parametrize("make", DRATS)
def test_a_non_positive_best_return_keeps_the_configured_target(make: Any) -> None:
    s = make(1, target=10.0, success_window=1)
    s.observe([0], [-5.0], [True])
    np.testing.assert_allclose(s.targets, [10.0])


@pytest.mark.parametrize("make", UNIFORM)
def test_uniform_stays_exactly_uniform(make: Any) -> None:
    s = make(7)
    for _ in range(5):
        s.observe(np.arange(7), np.linspace(0.0, 6000.0, 7), np.zeros(7, bool))
        q = s.update()
    assert np.all(q == 1 / 7)
    np.testing.assert_allclose(s.gaps, 1.0 - np.linspace(0.0, 6000.0, 7) / 5000.0)


@pytest.mark.parametrize("make", DRATS)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_tasks": 0},
        {"num_tasks": True},
        {"num_tasks": 4, "eps": 0.3},
        {"num_tasks": 4, "eta": 1.0, "step_size": 2.0},
        {"num_tasks": 4, "eta": -1.0},
        {"num_tasks": 4, "target": [1.0, 2.0]},
        {"num_tasks": 4, "target": 0.0},
        {"num_tasks": 4, "success_window": 0},
        {"num_tasks": 4, "success_threshold": 1.0},
    ],
)
def test_invalid_settings_raise_config_error(make: Any, kwargs: dict[str, Any]) -> None:
    kwargs = dict(kwargs)
    k = kwargs.pop("num_tasks")
    with pytest.raises(ConfigError):
        make(k, **kwargs)


@pytest.mark.parametrize("make", [*DRATS, *UNIFORM])
def test_state_survives_npz_without_pickle(make: Any, tmp_path: Path) -> None:
    s = make(3, seed=5)
    s.observe([0, 1, 1], [1.0, 2.0, 3.0], [True, False, True])
    s.update()
    np.savez(tmp_path / "s.npz", **s.state_dict())
    with np.load(tmp_path / "s.npz", allow_pickle=False) as data:
        state = dict(data)
    twin = make(3, seed=0)
    twin.load_state_dict(state)
    np.testing.assert_array_equal(twin.sample(100), s.sample(100))


@pytest.mark.parametrize("make", [CppPerTaskReplay, NumpyPerTaskReplay])
def test_replay_state_survives_npz_without_pickle(make: Any, tmp_path: Path) -> None:
    buf = make(2, 10, (3,), 2, seed=1)
    buf.add([0, 1, 1], np.ones((3, 3)), np.zeros((3, 2)), [1, 2, 3], np.ones((3, 3)), [0, 0, 1])
    np.savez(tmp_path / "r.npz", **buf.state_dict())
    with np.load(tmp_path / "r.npz", allow_pickle=False) as data:
        state = dict(data)
    twin = make(2, 10, (3,), 2, seed=9)
    twin.load_state_dict(state)
    np.testing.assert_array_equal(twin.sample([2, 3]).indices, buf.sample([2, 3]).indices)
    corrupt = {**state, "priorities": state["priorities"] * -1}
    with pytest.raises(CheckpointError, match="priorities"):
        twin.load_state_dict(corrupt)
    wrong_shape = make(2, 10, (4,), 2)
    with pytest.raises(CheckpointError, match="obs_shape"):
        wrong_shape.load_state_dict(state)
