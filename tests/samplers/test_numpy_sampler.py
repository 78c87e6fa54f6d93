"""Behaviour of NumpyDratsSampler / NumpyUniformSampler, the numpy oracles of the C++
samplers, step by step against the rules in cpp/include/drats/gap_sampler.h."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.adapters.samplers.numpy_uniform import NumpyUniformSampler
from drats.domain.drats_math import alias_draw, build_alias, mirror_ascent_step, return_gaps
from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.rng import CounterRng

# ------------------------------------------------------------------------------ construction


def test_defaults_follow_the_paper_settings() -> None:
    s = NumpyDratsSampler(10).state_dict()
    assert (s["kind"], s["eta"], s["step_size"], s["eps"]) == ("drats", 8.0, 0.5, 1 / 40)
    assert (s["adaptive_target"], s["success_window"], s["success_threshold"]) == (True, 50, 0.5)
    np.testing.assert_array_equal(s["base_targets"], np.full(10, 5000.0))
    np.testing.assert_array_equal(s["probs"], np.full(10, 0.1))
    np.testing.assert_array_equal(s["gaps"], np.zeros(10))
    assert np.all(s["best_returns"] == -np.inf)


def test_per_task_targets() -> None:
    s = NumpyDratsSampler(3, target=[10.0, 20.0, 30.0])
    np.testing.assert_array_equal(s.targets, [10.0, 20.0, 30.0])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_tasks": 0}, "num_tasks"),
        ({"num_tasks": 2.0}, "num_tasks"),
        ({"eps": 0.3}, "eps"),
        ({"eps": -0.01}, "eps"),
        ({"eta": 0.0}, "eta"),
        ({"eta": float("inf")}, "eta"),
        ({"eta": 1.0, "step_size": 1.5}, "step_size"),
        ({"step_size": -0.1}, "step_size"),
        ({"target": [1.0, 2.0]}, "target"),
        ({"target": float("nan")}, "target"),
        ({"target": [1.0, 2.0, 3.0, -4.0]}, "target"),
        ({"success_window": 0}, "success_window"),
        ({"success_threshold": 1.0}, "success_threshold"),
        ({"success_threshold": -0.1}, "success_threshold"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_bad_settings_raise_config_error_naming_them(kwargs: dict[str, Any], name: str) -> None:
    args = {"num_tasks": 4, **kwargs}
    k = args.pop("num_tasks")
    with pytest.raises(ConfigError, match=name):
        NumpyDratsSampler(k, **args)


# ------------------------------------------------------------------------------------ observe


def test_window_statistics_accumulate_in_order() -> None:
    s = NumpyDratsSampler(3, target=100.0)
    s.observe([2, 0, 2], [5.0, -1.0, 7.0], [True, False, False])
    st = s.state_dict()
    np.testing.assert_array_equal(st["window_sums"], [-1.0, 0.0, 12.0])
    np.testing.assert_array_equal(st["window_counts"], [1, 0, 2])
    np.testing.assert_array_equal(st["episodes"], [1, 0, 2])
    np.testing.assert_array_equal(st["best_returns"], [-1.0, -np.inf, 7.0])
    np.testing.assert_array_equal(st["history_len"], [1, 0, 2])
    np.testing.assert_array_equal(st["history_pos"], [1, 0, 2])
    assert st["history"][2, :2].tolist() == [True, False]


def test_success_ring_wraps_and_a_task_is_solved_for_good() -> None:
    s = NumpyDratsSampler(1, target=1000.0, success_window=3, success_threshold=0.5)
    s.observe([0, 0], [10.0, 20.0], [True, True])
    assert not s.state_dict()["solved"][0]  # ring not full yet, however good
    np.testing.assert_array_equal(s.targets, [1000.0])
    s.observe([0], [15.0], [False])  # full: 2/3 > 0.5 -> solved, target = best = 20
    st = s.state_dict()
    assert st["solved"][0]
    assert st["history_pos"][0] == 0
    assert st["history_len"][0] == 3
    np.testing.assert_array_equal(s.targets, [20.0])
    s.observe([0, 0, 0], [1.0, 2.0, 3.0], [False, False, False])  # ring all False now ...
    st = s.state_dict()
    assert st["solved"][0]
    assert st["history"][0].tolist() == [False, False, False]
    s.observe([0], [25.0], [False])  # the target follows every new best
    np.testing.assert_array_equal(s.targets, [25.0])


def test_the_success_threshold_is_strict_and_the_oldest_flag_goes_first() -> None:
    s = NumpyDratsSampler(1, target=1000.0, success_window=4, success_threshold=0.5)
    s.observe([0] * 4, [10.0] * 4, [0, 0, 1, 1])  # full, mean 0.5 is not > 0.5
    assert not s.state_dict()["solved"][0]
    s.observe([0], [10.0], [0])  # replaces the oldest flag: [0, 0, 1, 1], still 0.5
    assert not s.state_dict()["solved"][0]
    s.observe([0], [10.0], [1])  # replaces the next oldest: [0, 1, 1, 1], 0.75
    st = s.state_dict()
    assert st["solved"][0]
    assert st["history"][0].tolist() == [False, True, True, True]


def test_adaptive_target_off_or_non_positive_best_keeps_the_target() -> None:
    off = NumpyDratsSampler(1, target=1000.0, success_window=1, adaptive_target=False)
    off.observe([0], [10.0], [True])
    assert off.state_dict()["solved"][0]
    np.testing.assert_array_equal(off.targets, [1000.0])
    negative = NumpyDratsSampler(1, target=10.0, success_window=1)
    negative.observe([0], [-5.0], [True])
    np.testing.assert_array_equal(negative.targets, [10.0])
    negative.observe([0], [3.0], [False])  # a positive best later takes over
    np.testing.assert_array_equal(negative.targets, [3.0])


def test_observe_rejects_bad_input_before_changing_anything() -> None:
    s = NumpyDratsSampler(2)
    before = s.state_dict()
    cases: list[tuple[type[Exception], Any]] = [
        (InvalidDtypeError, lambda: s.observe([0.0], [1.0], [True])),
        (InvalidDtypeError, lambda: s.observe([True], [1.0], [True])),
        (InvalidDtypeError, lambda: s.observe([0], ["a"], [True])),
        (InvalidDtypeError, lambda: s.observe([0], [1.0], [1.0])),  # as the C++ twin
        (InvalidInputError, lambda: s.observe([[0]], [1.0], [True])),
        (InvalidInputError, lambda: s.observe([0, 1], [1.0], [True, True])),
        (InvalidInputError, lambda: s.observe([0, 1], [1.0, 2.0], [True])),
        (InvalidInputError, lambda: s.observe([0, 1], [1.0, 2.0], [1, 2])),
        (InvalidInputError, lambda: s.observe([0, 1], [1.0, np.inf], [1, 0])),
        (UnknownTaskError, lambda: s.observe([0, 2], [1.0, 2.0], [1, 0])),
        (UnknownTaskError, lambda: s.observe([1, -1], [1.0, 2.0], [1, 0])),
        (InvalidInputError, lambda: s.observe([0, 5], [np.nan, 2.0], [1, 0])),  # row 0 first
    ]
    for kind, call in cases:
        with pytest.raises(kind):
            call()
    after = s.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


# ------------------------------------------------------------------------------------- update


def test_update_is_one_mirror_step_on_the_return_gaps_then_a_window_reset() -> None:
    s = NumpyDratsSampler(3, eta=4.0, step_size=0.8, eps=0.05, target=[100.0, 200.0, 50.0])
    s.observe([0, 0, 1], [50.0, 70.0, 250.0], [0, 0, 0])
    q = s.update()
    gaps = return_gaps(
        np.array([100.0, 200.0, 50.0]), np.array([120.0, 250.0, 0.0]), np.array([2, 1, 0])
    )
    np.testing.assert_array_equal(s.gaps, gaps)
    np.testing.assert_allclose(gaps, [0.4, -0.25, 1.0], rtol=1e-15)  # task 2 unvisited: 1
    expected = mirror_ascent_step(np.full(3, 1 / 3), gaps, eta=4.0, step_size=0.8, eps=0.05)
    np.testing.assert_array_equal(q, expected)
    np.testing.assert_array_equal(s.probs, expected)
    st = s.state_dict()
    assert st["window_sums"].tolist() == [0, 0, 0]
    assert st["window_counts"].tolist() == [0, 0, 0]
    assert st["episodes"].tolist() == [2, 1, 0]  # lifetime counters survive the reset
    s.update()
    np.testing.assert_array_equal(s.gaps, [1.0, 1.0, 1.0])  # empty window: every gap is 1
    q[:] = 0  # update returns a copy
    assert s.probs.sum() == pytest.approx(1.0)


def test_uniform_stays_exactly_uniform_and_still_reports_gaps() -> None:
    s = NumpyUniformSampler(5, target=10.0, seed=1)
    assert s.state_dict()["kind"] == "uniform"
    for _ in range(20):
        s.observe([0, 1, 1, 4], [10.0, 2.0, 4.0, 30.0], [0, 0, 0, 1])
        q = s.update()
        assert np.all(q == 0.2)
    np.testing.assert_allclose(s.gaps, [0.0, 0.7, 1.0, 1.0, -2.0])


def test_mass_moves_to_the_largest_gap_down_to_the_floor() -> None:
    s = NumpyDratsSampler(4, target=100.0)  # eps = 1/16
    for _ in range(50):
        s.observe([0, 1, 2], [100.0, 100.0, 100.0], [0, 0, 0])
        q = s.update()
    assert np.argmax(q) == 3
    np.testing.assert_allclose(q[:3], 1 / 16, rtol=1e-12)


# ------------------------------------------------------------------------------------- sample


def test_draws_are_alias_draws_from_the_counter_stream() -> None:
    s = NumpyDratsSampler(4, seed=42)
    s.observe([0, 1], [5000.0, 100.0], [0, 0])
    q = s.update()
    rng = CounterRng(42)
    assert s.sample(0).shape == (0,)  # draws nothing from the stream
    got = s.sample(1000)
    np.testing.assert_array_equal(got, alias_draw(*build_alias(q), rng.uniform(1000)))
    assert got.dtype == np.int64


def test_draw_frequencies_follow_probs() -> None:
    # 200k draws, 6 tasks, chi-square < 20.5 (the 0.999 quantile for df = 5). Fixed seed.
    s = NumpyDratsSampler(6, seed=3, target=100.0)
    s.observe([0, 1, 2], [90.0, 50.0, 10.0], [0, 0, 0])
    q = s.update()
    n = 200_000
    hits = np.bincount(s.sample(n), minlength=6)
    assert (((hits - n * q) ** 2) / (n * q)).sum() < 20.5


@pytest.mark.parametrize("n", [-1, True, 2.0, "3"])
def test_sample_wants_a_non_negative_int(n: Any) -> None:
    with pytest.raises(InvalidInputError, match="n must be"):
        NumpyDratsSampler(2).sample(n)


# --------------------------------------------------------------------------------- state dict

KEYS = {
    "kind",
    "num_tasks",
    "eta",
    "step_size",
    "eps",
    "adaptive_target",
    "success_window",
    "success_threshold",
    "base_targets",
    "probs",
    "gaps",
    "targets",
    "window_sums",
    "best_returns",
    "window_counts",
    "episodes",
    "history_len",
    "history_pos",
    "history",
    "solved",
    "rng",
}


def test_state_dict_layout() -> None:
    st = NumpyDratsSampler(3, success_window=4).state_dict()
    assert set(st) == KEYS
    for key in ("probs", "gaps", "targets", "window_sums", "best_returns", "base_targets"):
        assert (st[key].dtype, st[key].shape) == (np.float64, (3,)), key
    for key in ("window_counts", "episodes", "history_len", "history_pos"):
        assert (st[key].dtype, st[key].shape) == (np.int64, (3,)), key
    assert st["history"].dtype == bool
    assert st["history"].shape == (3, 4)
    assert st["solved"].dtype == bool
    assert st["rng"].dtype == np.uint64


def test_a_restored_sampler_continues_identically() -> None:
    a = NumpyDratsSampler(4, seed=1, success_window=2)
    a.observe([0, 1, 0, 3], [10.0, 20.0, 30.0, 40.0], [1, 1, 1, 0])
    a.update()
    a.sample(9)
    b = NumpyDratsSampler(4, seed=7, success_window=2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.sample(300), b.sample(300))
    for x in (a, b):
        x.observe([2, 2], [1.0, 2.0], [0, 1])
    np.testing.assert_array_equal(a.update(), b.update())
    np.testing.assert_array_equal(a.targets, b.targets)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("kind", "uniform"),
        ("eta", 4.0),
        ("eps", 0.0),
        ("success_window", 3),
        ("adaptive_target", False),
        ("base_targets", np.full(2, 7.0)),
        ("probs", np.array([0.7, 0.7])),
        ("probs", np.array([1.0])),
        ("targets", np.array([0.0, 1.0])),
        ("window_sums", np.array([np.nan, 0.0])),
        ("best_returns", np.array([np.inf, 0.0])),
        ("window_counts", np.array([-1, 0])),
        ("episodes", np.array([0, 0]) - 1),
        ("history_len", np.array([5, 0])),
        ("history_pos", np.array([2, 0])),
        ("history", np.zeros((2, 2), dtype=np.int64)),
        ("rng", np.array([1.0, 2.0])),
    ],
)
def test_load_rejects_bad_states_naming_the_key(key: str, value: Any) -> None:
    s = NumpyDratsSampler(2, success_window=2, seed=0)
    state = {**s.state_dict(), key: value}
    before = s.state_dict()
    with pytest.raises(CheckpointError, match=key):
        s.load_state_dict(state)
    after = s.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_a_uniform_state_does_not_load_into_drats() -> None:
    with pytest.raises(CheckpointError, match="kind"):
        NumpyDratsSampler(3).load_state_dict(NumpyUniformSampler(3).state_dict())
