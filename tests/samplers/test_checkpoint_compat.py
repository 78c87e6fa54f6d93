"""Checkpoints of the numpy samplers written by an earlier version (``data/``, made by
:mod:`tests.samplers.checkpoint_scenarios`) load into the current classes, which then draw,
update and save exactly as the earlier version did; played from scratch, the current classes
reach the same saved states with the same layout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.samplers.checkpoint_scenarios import DRAWS, LAST, PATH, SAVED, SCENARIOS, describe

NAMES = list(SCENARIOS)


@pytest.fixture(scope="module")
def saved() -> Iterator[dict[str, Any]]:
    with np.load(PATH, allow_pickle=False) as data:
        yield {key: data[key] for key in data.files}


def _entries(saved: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The state dict stored under ``prefix/``, in the order it was written."""
    return {key[len(prefix) + 1 :]: v for key, v in saved.items() if key.startswith(prefix + "/")}


def _play(sampler: Any, saved: dict[str, Any], name: str, i: int, *, close: bool = True) -> None:
    """Window ``i``: the recorded draws, its episodes, and (if ``close``) its update."""
    w = f"{name}/w{i}"
    draws = sampler.sample(DRAWS)
    np.testing.assert_array_equal(draws, saved[f"{w}/draws"], strict=True)
    sampler.observe(draws, saved[f"{w}/returns"], saved[f"{w}/successes"])
    if close:
        np.testing.assert_array_equal(sampler.update(), saved[f"{w}/probs"], strict=True)


def _assert_state(state: dict[str, Any], want: dict[str, Any], layout: Any = None) -> None:
    assert list(state) == list(want)
    for key, value in state.items():
        np.testing.assert_array_equal(value, want[key], err_msg=key)
    if layout is not None:
        assert [f"{k}={describe(v)}" for k, v in state.items()] == list(layout)


@pytest.mark.parametrize("name", NAMES)
def test_played_from_scratch_the_sampler_writes_the_saved_checkpoint(
    saved: dict[str, Any], name: str
) -> None:
    sampler = SCENARIOS[name][0]()
    for i in range(SAVED):
        _play(sampler, saved, name, i)
    _play(sampler, saved, name, SAVED, close=False)
    _assert_state(sampler.state_dict(), _entries(saved, f"{name}/state"), saved[f"{name}/layout"])


@pytest.mark.parametrize("name", NAMES)
def test_a_saved_checkpoint_loads_and_the_sampler_goes_on_as_before(
    saved: dict[str, Any], name: str
) -> None:
    sampler = SCENARIOS[name][0]()
    state = _entries(saved, f"{name}/state")
    sampler.load_state_dict(state)
    _assert_state(sampler.state_dict(), state, saved[f"{name}/layout"])
    np.testing.assert_array_equal(sampler.update(), saved[f"{name}/w{SAVED}/probs"], strict=True)
    for i in range(SAVED + 1, LAST):
        _play(sampler, saved, name, i)
    _play(sampler, saved, name, LAST, close=False)
    _assert_state(sampler.state_dict(), _entries(saved, f"{name}/after"), saved[f"{name}/layout"])
