"""Sizes, counts and values at the edge of what the samplers can hold (draws per call, task
and history limits, settings that are not numbers, returns whose gaps would overflow, the
stream counter's wrap-around): each is refused up front with a typed error naming the
argument, and the sampler is left as it was (found by an adversarial audit)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats import (
    ConfigError,
    CppPerTaskReplay,
    DratsSampler,
    HedgeSampler,
    InvalidInputError,
    LearningProgressSampler,
    NumpyDratsSampler,
    NumpyPerTaskReplay,
    NumpyUniformSampler,
    SmtSampler,
    UniformSampler,
)

REPLAYS = [CppPerTaskReplay, NumpyPerTaskReplay]
GAP_SAMPLERS = [DratsSampler, NumpyDratsSampler]
SAMPLERS = [DratsSampler, NumpyDratsSampler, UniformSampler, NumpyUniformSampler]
ALL_SAMPLERS = [*SAMPLERS, HedgeSampler, LearningProgressSampler, SmtSampler]


def filled(make: Any) -> Any:
    buf = make(3, 8, 2, 1, seed=5)
    buf.add([0, 0, 1], np.ones((3, 2)), np.ones((3, 1)), np.ones(3), np.ones((3, 2)), np.zeros(3))
    return buf


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------- replay: counts


@pytest.mark.parametrize("make", ALL_SAMPLERS)
@pytest.mark.parametrize("n", [2**31, 10**12, 2**63, 10**30])
def test_task_draws_refuse_more_than_max_draws(make: Any, n: int) -> None:
    sampler, fresh = make(3), make(3)
    with pytest.raises(InvalidInputError, match=r"^n must be at most 2147483647"):
        sampler.sample(n)
    np.testing.assert_array_equal(sampler.sample(7), fresh.sample(7))  # stream untouched


@pytest.mark.parametrize("make", [NumpyPerTaskReplay, *GAP_SAMPLERS, *SAMPLERS[2:]])
def test_the_counter_wraps_like_the_cpp_stream(make: Any) -> None:
    """A stream at the end of its 64-bit counter wraps around in numpy as it does in C++."""
    twins = {
        NumpyPerTaskReplay: CppPerTaskReplay,
        DratsSampler: NumpyDratsSampler,
        NumpyDratsSampler: DratsSampler,
        UniformSampler: NumpyUniformSampler,
        NumpyUniformSampler: UniformSampler,
    }
    objects = [filled(m) if m in REPLAYS else m(3) for m in (make, twins[make])]
    for obj in objects:
        state = obj.state_dict()
        state["rng"] = np.array([state["rng"][0], 2**64 - 2], dtype=np.uint64)
        obj.load_state_dict(state)
    if make is NumpyPerTaskReplay:
        a, b = (o.sample(np.array([4, 4, 0])).indices for o in objects)
    else:
        a, b = (o.sample(5) for o in objects)
    np.testing.assert_array_equal(a, b)
    assert int(objects[0].state_dict()["rng"][1]) == int(objects[1].state_dict()["rng"][1])


# ------------------------------------------------------------------------- constructors


@pytest.mark.parametrize("make", ALL_SAMPLERS)
def test_sampler_task_counts_beyond_the_limit_are_config_errors(make: Any) -> None:
    with pytest.raises(ConfigError, match="num_tasks must be at most 1048576"):
        make(10**9)


@pytest.mark.parametrize("make", [*GAP_SAMPLERS, HedgeSampler, LearningProgressSampler])
def test_success_windows_beyond_the_limit_are_config_errors(make: Any) -> None:
    with pytest.raises(ConfigError, match=r"num_tasks \* success_window must be at most"):
        make(3, success_window=2**62)


@pytest.mark.parametrize("make", [*GAP_SAMPLERS, HedgeSampler])
@pytest.mark.parametrize("value", ["no", 1, None, np.array([True])])
def test_adaptive_target_must_be_a_bool(make: Any, value: object) -> None:
    with pytest.raises(ConfigError, match="adaptive_target must be True or False"):
        make(3, adaptive_target=value)
    make(3, adaptive_target=np.bool_(False))  # numpy's bool is a bool


@pytest.mark.parametrize("make", GAP_SAMPLERS)
@pytest.mark.parametrize("value", ["8", True, None, np.ones(2)])
def test_settings_must_be_numbers(make: Any, value: object) -> None:
    with pytest.raises(ConfigError, match="eta must be a real number"):
        make(3, eta=value)


# ------------------------------------------------------------------- observe: overflow


@pytest.mark.parametrize(
    ("make", "kwargs", "ids", "returns"),
    [
        # the window sum overflows
        *[(m, {}, [0, 0], [1e308, 1e308]) for m in (*GAP_SAMPLERS, HedgeSampler)],
        # the gap (target - mean) / target overflows
        *[(m, {"target": 1e-300}, [0], [1e10]) for m in (*GAP_SAMPLERS, HedgeSampler)],
        # step_size * gap overflows
        *[(m, {"target": 1.0, "step_size": 4.0}, [0], [-1e308]) for m in GAP_SAMPLERS],
        # lr * gap overflows
        (HedgeSampler, {"lr": 1e308, "target": 1.0}, [0, 1], [-5.0, -3.0]),
    ],
)
def test_observe_refuses_returns_the_update_could_not_weigh(
    make: Any, kwargs: dict[str, float], ids: list[int], returns: list[float]
) -> None:
    s = make(3, **kwargs)
    s.observe([2], [1.0], [False])
    before = s.state_dict()
    with pytest.raises(InvalidInputError, match=r"^returns: task \d's window would give a gap"):
        s.observe(ids, returns, [False] * len(ids))
    assert same_state(before, s.state_dict())
    q = s.update()  # the sampler is not stuck
    assert np.all(np.isfinite(q))
    assert q.sum() == pytest.approx(1.0)
    s.observe([0], [1.0] if "step_size" not in kwargs else [-1e300], [False])  # still usable


def test_observe_twins_refuse_the_same_batch_with_the_same_message() -> None:
    messages = set()
    for make in GAP_SAMPLERS:
        with pytest.raises(InvalidInputError) as err:  # tasks 2 and 1 both overflow
            make(3).observe([2, 1, 1, 2], [1e308, 1e308, 1e308, 1e308], [0, 0, 0, 0])
        messages.add(str(err.value))
    assert len(messages) == 1
    assert "task 2's window" in messages.pop()  # the first one of the batch


# ---------------------------------------------------------------------- replay: others
