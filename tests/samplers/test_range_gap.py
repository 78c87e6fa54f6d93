"""The range gap (``gap="range"``): ``(Rmax - Rbar) / (Rmax - Rmin)`` in [0, 1] whatever the
reward scale, its edge cases, its state dict, and that the target gap is left as it was."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats import DratsSampler, NumpyDratsSampler, NumpyUniformSampler, UniformSampler
from drats.adapters.samplers.hedge import HedgeSampler
from drats.adapters.samplers.learning_progress import LearningProgressSampler
from drats.adapters.samplers.window_stats import range_gaps
from drats.domain.errors import CheckpointError, ConfigError

GAP_SAMPLERS = [DratsSampler, NumpyDratsSampler, UniformSampler, NumpyUniformSampler, HedgeSampler]


def _window(sampler: Any, ids: list[int], returns: list[float]) -> np.ndarray:
    sampler.observe(ids, returns, np.zeros(len(ids), bool))
    sampler.update()
    return np.asarray(sampler.gaps)


@pytest.mark.parametrize("cls", GAP_SAMPLERS)
def test_negative_returns_give_gaps_in_the_unit_interval(cls: Any) -> None:
    """Pendulum-like returns (about -1,200, best -200) next to positive ones: every gap lies in
    [0, 1] and a task far below its best gets a larger gap than one at its best."""
    sampler = cls(2, gap="range", target=1000.0)
    rng = np.random.default_rng(0)
    _window(sampler, [0] * 20 + [1] * 20, [*rng.uniform(-1500, -200, 20), *rng.uniform(0, 90, 20)])
    gaps = _window(sampler, [0, 0, 1, 1], [-1400.0, -1300.0, 90.0, 89.0])
    assert np.all((gaps >= 0) & (gaps <= 1))
    assert gaps[0] > 0.8 > 0.05 > gaps[1]


@pytest.mark.parametrize("cls", [DratsSampler, NumpyDratsSampler])
def test_the_gap_does_not_depend_on_the_reward_scale(cls: Any) -> None:
    base = np.array([-3.0, -1.0, 0.5, 2.0, -2.5, 1.5])
    ids = [0, 0, 1, 1, 1, 0]
    gaps = []
    for scale in (1e-6, 1.0, 1e6):
        sampler = cls(2, gap="range")
        _window(sampler, ids, (scale * base).tolist())
        gaps.append(_window(sampler, [0, 1], [scale * -2.0, scale * 1.0]))
    np.testing.assert_allclose(gaps[0], gaps[1], rtol=1e-9)
    np.testing.assert_allclose(gaps[2], gaps[1], rtol=1e-9)


def test_unvisited_and_spreadless_tasks_get_gap_one() -> None:
    """A task without an episode in the window, or whose returns were all alike (an env that
    always times out at -500), is as far from its best as can be told: gap 1."""
    sampler = NumpyDratsSampler(3, gap="range")
    gaps = _window(sampler, [0, 0, 1, 1], [-500.0, -500.0, 10.0, 30.0])
    assert gaps.tolist() == [1.0, 0.5, 1.0]
    best = np.array([5.0, 1e-300, 0.0])
    worst = np.array([5.0 - 4e-9, 0.0, 0.0])  # spreads at or below 1e-9 of the magnitude
    got = range_gaps(best, worst, np.array([5.0, 1e-300, 0.0]), np.array([1, 1, 1]))
    assert got.tolist() == [1.0, 0.0, 1.0]  # 1e-300 vs 0: a real spread, the mean at its best


def test_range_gaps_clamp_rounding_to_the_unit_interval() -> None:
    best, worst = np.array([1.0, 1.0]), np.array([0.0, 0.0])
    sums, counts = np.array([1.0 + 1e-15, -1e-15]), np.array([1, 1])
    assert range_gaps(best, worst, sums, counts).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("cls", [DratsSampler, NumpyDratsSampler])
def test_the_target_gap_is_the_default_and_unchanged(cls: Any) -> None:
    sampler = cls(2, target=100.0)
    assert sampler.gap == "target"
    gaps = _window(sampler, [0, 1], [-1200.0, 50.0])
    np.testing.assert_allclose(gaps, [13.0, 0.5])
    assert "gap" not in sampler.state_dict()
    assert "worst_returns" not in sampler.state_dict()


@pytest.mark.parametrize("cls", GAP_SAMPLERS)
def test_range_state_round_trip(cls: Any) -> None:
    sampler = cls(3, gap="range", seed=4)
    _window(sampler, [0, 1, 2, 0], [-5.0, 3.0, 8.0, -1.0])
    sampler.observe([0, 1], [-2.0, 4.0], [0, 1])
    state = sampler.state_dict()
    assert state["gap"] == "range"
    assert state["worst_returns"].tolist() == [-5.0, 3.0, 8.0]
    other = cls(3, gap="range", seed=9)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.update(), sampler.update())
    np.testing.assert_array_equal(other.gaps, sampler.gaps)


@pytest.mark.parametrize("cls", GAP_SAMPLERS)
def test_a_state_of_the_other_gap_is_refused(cls: Any) -> None:
    ranged, target = cls(2, gap="range"), cls(2)
    with pytest.raises(CheckpointError, match="gap"):
        target.load_state_dict(ranged.state_dict())
    with pytest.raises(CheckpointError, match="gap"):
        ranged.load_state_dict(target.state_dict())
    state = ranged.state_dict()
    state["worst_returns"] = np.array([np.nan, 1.0])
    with pytest.raises(CheckpointError, match="worst_returns"):
        cls(2, gap="range").load_state_dict(state)


@pytest.mark.parametrize("cls", [*GAP_SAMPLERS])
@pytest.mark.parametrize("bad", ["Range", "", None, 1, "success"])
def test_an_unknown_gap_is_a_config_error(cls: Any, bad: object) -> None:
    with pytest.raises(ConfigError, match="gap must be 'target' or 'range'"):
        cls(2, gap=bad)


def test_samplers_without_return_gaps_take_no_gap_option() -> None:
    with pytest.raises(TypeError):
        LearningProgressSampler(2, gap="range")  # type: ignore[call-arg]


@pytest.mark.parametrize("cls", [DratsSampler, NumpyDratsSampler])
def test_an_old_target_state_still_loads(cls: Any) -> None:
    """A state dict without ``gap`` and ``worst_returns`` (every state written before the range
    gap) is a target-gap state."""
    old = NumpyDratsSampler(2, seed=1).state_dict()
    assert "gap" not in old
    sampler = cls(2, seed=5)
    sampler.load_state_dict(old)
    np.testing.assert_array_equal(sampler.sample(50), NumpyDratsSampler(2, seed=1).sample(50))
