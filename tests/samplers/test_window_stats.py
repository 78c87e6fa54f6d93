"""The window statistics the numpy samplers hold: what ``observe`` records, that a refused
batch and a refused state change nothing, the window reset, and that the baselines subclass
the port only, so a change to the DRATS oracle cannot reach them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats.adapters.samplers.gap_settings import sampler_state_spec
from drats.adapters.samplers.hedge import HedgeSampler
from drats.adapters.samplers.learning_progress import LearningProgressSampler
from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.adapters.samplers.smt import SmtSampler
from drats.adapters.samplers.window_stats import WindowStats
from drats.domain.errors import CheckpointError, InvalidInputError
from drats.domain.ports import TaskSampler


def _stats(**kwargs: Any) -> WindowStats:
    settings: dict[str, Any] = {
        "target": [10.0, 20.0],
        "adaptive_target": True,
        "success_window": 2,
        "success_threshold": 0.5,
        "gap_scale": 1.0,
    }
    return WindowStats(2, **{**settings, **kwargs})


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_observe_records_sums_counts_ring_solved_flag_and_adaptive_target() -> None:
    stats = _stats()
    ids = stats.observe([0, 0, 1], np.array([4.0, 12.0, 5.0]), [True, True, False])
    np.testing.assert_array_equal(ids, [0, 0, 1], strict=True)
    s = stats.state_dict()
    np.testing.assert_array_equal(s["window_sums"], [16.0, 5.0])
    np.testing.assert_array_equal(s["window_counts"], [2, 1])
    np.testing.assert_array_equal(s["episodes"], [2, 1])
    np.testing.assert_array_equal(s["best_returns"], [12.0, 5.0])
    np.testing.assert_array_equal(s["history"], [[True, True], [False, False]])
    np.testing.assert_array_equal(s["history_len"], [2, 1])
    np.testing.assert_array_equal(s["history_pos"], [0, 1])
    np.testing.assert_array_equal(s["solved"], [True, False])  # a full ring, mean 1 > 0.5
    np.testing.assert_array_equal(stats.targets, [12.0, 20.0])  # solved: the best return
    np.testing.assert_array_equal(stats.window_means(), [8.0, 5.0])
    np.testing.assert_array_equal(stats.return_gaps(), [(12.0 - 8.0) / 12.0, (20.0 - 5.0) / 20.0])
    np.testing.assert_array_equal(stats.ring_above_threshold(), [True, False])


def test_a_batch_whose_gap_times_the_scale_overflows_is_refused_whole() -> None:
    stats = _stats(gap_scale=1e308)
    before = stats.state_dict()
    with pytest.raises(InvalidInputError, match="task 1's window would give a gap"):
        stats.observe([0, 1], [1.0, -1e3], [True, False])  # gap 51, times 1e308 overflows
    assert _same(stats.state_dict(), before)
    _stats(gap_scale=1.0).observe([0, 1], [1.0, -1e3], [True, False])  # the same batch is fine


def test_closing_a_window_records_its_scores_and_resets_sums_and_counts_only() -> None:
    stats = _stats()
    stats.observe([0, 1, 1], [1.0, 2.0, 3.0], [False, True, True])
    stats.close_window(np.array([0.25, 0.75]))
    np.testing.assert_array_equal(stats.gaps, [0.25, 0.75])
    s = stats.state_dict()
    np.testing.assert_array_equal(s["window_sums"], [0.0, 0.0])
    np.testing.assert_array_equal(s["window_counts"], [0, 0])
    np.testing.assert_array_equal(s["episodes"], [1, 2])
    np.testing.assert_array_equal(stats.measured(), [True, True])
    np.testing.assert_array_equal(stats.visited(), [False, False])


def test_loaded_statistics_are_new_and_a_bad_entry_changes_nothing() -> None:
    stats, other = _stats(), _stats()
    other.observe([1], [7.0], [True])
    saved = {**other.state_dict(), "probs": np.full(2, 0.5), "rng": np.zeros(2, np.uint64)}
    before = stats.state_dict()
    loaded = stats.loaded(saved)
    assert _same(loaded.state_dict(), other.state_dict())
    assert _same(stats.state_dict(), before)
    assert list(loaded.state_dict()) == list(sampler_state_spec(2, 2))[1:-1]  # gaps .. solved
    with pytest.raises(CheckpointError, match="'history_pos' is out of range"):
        stats.loaded({**saved, "history_pos": np.array([0, 2])})
    assert _same(stats.state_dict(), before)


def test_the_base_targets_are_a_copy_of_the_callers_array() -> None:
    target = np.array([10.0, 20.0])
    stats = _stats(target=target)
    target[0] = -1.0
    np.testing.assert_array_equal(stats.base_targets, [10.0, 20.0])


@pytest.mark.parametrize("cls", [HedgeSampler, LearningProgressSampler, SmtSampler])
def test_the_baselines_subclass_the_port_only_not_the_oracle(cls: Any) -> None:
    assert cls.__bases__ == (TaskSampler,)
    assert NumpyDratsSampler not in cls.__mro__
