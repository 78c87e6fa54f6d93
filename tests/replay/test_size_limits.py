"""Sizes, counts and values at the edge of what the replays can hold (draws per call, the
value limit, allocation failures, float64 state beyond float32, task ids and beta of the wrong
type): each is refused up front with a typed error naming the argument, and the replay is left
as it was (found by an adversarial audit of the public entry points)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats import (
    CheckpointError,
    ConfigError,
    CppPerTaskReplay,
    InvalidDtypeError,
    InvalidInputError,
    NumpyPerTaskReplay,
    UnknownTaskError,
)
from drats.adapters.replay import cpp_replay, numpy_replay
from drats.testing import FakeReplayBuffer

REPLAYS = [CppPerTaskReplay, NumpyPerTaskReplay]


def filled(make: Any) -> Any:
    buf = make(3, 8, 2, 1, seed=5)
    buf.add([0, 0, 1], np.ones((3, 2)), np.ones((3, 1)), np.ones(3), np.ones((3, 2)), np.zeros(3))
    return buf


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------- replay: counts


@pytest.mark.parametrize("make", REPLAYS)
@pytest.mark.parametrize(
    "counts", [[10**12, 0, 0], [2**62, 2**62, 0], [2**60, 0, 0], [2**31 - 1, 1, 0]]
)
def test_sample_refuses_more_than_max_draws(make: Any, counts: list[int]) -> None:
    buf = filled(make)
    before = buf.state_dict()
    with pytest.raises(InvalidInputError, match=r"counts ask for more than 2147483647 draws"):
        buf.sample(np.array(counts, dtype=np.int64))
    assert same_state(before, buf.state_dict())  # the random stream did not move either


def test_both_replays_report_the_task_where_the_limit_is_passed() -> None:
    messages = set()
    for make in REPLAYS:
        with pytest.raises(InvalidInputError) as err:
            filled(make).sample(np.array([2**30, 2**30, 0], dtype=np.int64))
        messages.add(str(err.value))
    assert messages == {"counts ask for more than 2147483647 draws in one call (reached at task 1)"}


# ----------------------------------------------------------------------- samplers: draws


@pytest.mark.parametrize("make", REPLAYS)
@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((3, 2**63, 2, 1), "num_tasks \\* capacity_per_task \\* row size"),
        ((1, 2**40, 1, 1), "num_tasks \\* capacity_per_task \\* row size"),
        ((3, 8, (4, 2**62 + 1), 1), "num_tasks \\* capacity_per_task \\* row size"),
        ((2**20 + 1, 1, 1, 1), "num_tasks must be at most 1048576"),
    ],
)
def test_replay_sizes_beyond_the_limit_are_config_errors(make: Any, args: tuple, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make(*args)


@pytest.mark.parametrize(
    ("module", "target"),
    [(cpp_replay, "CppPerTaskReplay"), (numpy_replay, "NumpyPerTaskReplay")],
)
def test_an_allocation_failure_names_the_capacity(
    monkeypatch: pytest.MonkeyPatch, module: Any, target: str
) -> None:
    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    if module is cpp_replay:
        monkeypatch.setattr(cpp_replay._core, "PerTaskReplay", no_memory)
    else:
        monkeypatch.setattr(numpy_replay.np, "zeros", no_memory)
    with pytest.raises(MemoryError, match=r"4 tasks x 1000 transitions needs about .* GiB"):
        getattr(module, target)(4, 1000, 39, 4)


@pytest.mark.parametrize("make", REPLAYS)
def test_a_float64_beyond_float32_range_is_not_loaded(make: Any) -> None:
    buf = filled(make)
    before = buf.state_dict()
    state = buf.state_dict()
    state["obs"] = state["obs"].astype(np.float64)
    state["obs"][0, 0, 0] = 1e39
    with pytest.raises(CheckpointError, match="'obs' must be finite"):
        buf.load_state_dict(state)
    assert same_state(before, buf.state_dict())


@pytest.mark.parametrize("make", [*REPLAYS, FakeReplayBuffer])
@pytest.mark.parametrize("task", [1.5, "1", np.float64(1.0), True, None, np.array([1])])
def test_size_wants_an_integer_task_id(make: Any, task: object) -> None:
    buf = make(3, 8, 2, 1)
    with pytest.raises(InvalidDtypeError, match="task_id must be an integer task id"):
        buf.size(task)
    with pytest.raises(UnknownTaskError, match="task_id 3 is outside"):
        buf.size(3)
    assert buf.size(np.int64(1)) == 0


@pytest.mark.parametrize("make", [*REPLAYS, FakeReplayBuffer])
@pytest.mark.parametrize("beta", ["0.5", True, None, np.array([0.5])])
def test_beta_must_be_a_number(make: Any, beta: object) -> None:
    buf = filled(make)
    with pytest.raises(InvalidInputError, match="beta must be a real number"):
        buf.sample(np.array([1, 0, 0]), beta=beta)
    for ok in (np.float64(0.5), np.array(0.5), 1):
        assert len(buf.sample(np.array([1, 0, 0]), beta=ok).indices) == 1
