"""Bad input to the pure domain functions raises the typed error naming the argument.

Covers ``hedge_step``, ``mirror_ascent_step``, ``project_floor``, ``as_floor``,
``as_step`` and ``allocate_batch``: settings that overflow float64, arrays whose dtype is
not real numbers, settings that are not one real number, and batch sizes that are not an
integer in range. Ordinary inputs (lists, float32/int arrays, numpy scalar settings) must
keep giving the numbers of the original formulas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from drats import (
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    _core,
    allocate_batch,
    hedge_step,
    mirror_ascent_step,
    project_floor,
)
from drats.domain.drats_math import as_floor, as_step
from drats.domain.limits import MAX_DRAWS


def names(arg: str) -> str:
    """A ``match`` pattern for a message that starts with the argument's name."""
    return rf"^{re.escape(arg)}\b"


# ------------------------------------------------------------- 1. overflowing settings


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        pytest.param(
            lambda: hedge_step(
                [1 / 3] * 3, [10.0, 10.0, 0.0], lr=1e308, smoothing=0.1, min_prob=0.05
            ),
            r"lr \* gaps",
            id="hedge-huge-lr",
        ),
        pytest.param(
            lambda: hedge_step([1.0, 1.0], [1e300, -1.0], lr=1e10, smoothing=0.0, min_prob=0.0),
            r"lr \* gaps",
            id="hedge-huge-gap",
        ),
        pytest.param(
            lambda: mirror_ascent_step(
                [1 / 3] * 3, [1e308, -1e308, 0.0], eta=8, step_size=4, eps=0.05
            ),
            r"step_size \* gaps",
            id="mirror-huge-gaps",
        ),
        pytest.param(
            lambda: mirror_ascent_step([0.5, 0.5], [1e300, 0.0], eta=1e10, step_size=1e9, eps=0),
            r"step_size \* gaps",
            id="mirror-huge-step",
        ),
        pytest.param(lambda: project_floor([1e308, 1e308], 0.0), "z", id="floor-z-sum"),
        pytest.param(
            lambda: allocate_batch("drats", 10, [1, 1], [1e308, 1e308]), "probs", id="alloc-probs"
        ),
    ],
)
def test_overflowing_inputs_raise_invalid_input(call: Callable[[], Any], arg: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"^{arg}"):
        call()


# ------------------------------------------------------------- 2. array dtypes


ARRAY_ARGS: dict[str, Callable[[Any], Any]] = {
    "mirror-q": lambda x: mirror_ascent_step(x, [1.0, 0.0], eta=8.0, step_size=0.5, eps=0.1),
    "mirror-gaps": lambda x: mirror_ascent_step([0.5, 0.5], x, eta=8.0, step_size=0.5, eps=0.1),
    "hedge-w": lambda x: hedge_step(x, [1.0, 0.0], lr=1.0, smoothing=0.1, min_prob=0.1),
    "hedge-gaps": lambda x: hedge_step([0.5, 0.5], x, lr=1.0, smoothing=0.1, min_prob=0.1),
    "floor-z": lambda x: project_floor(x, 0.1),
    "alloc-probs": lambda x: allocate_batch("drats", 4, [1, 1], x),
}
BAD_ARRAYS: dict[str, Any] = {
    "str": ["0.5", "0.5"],
    "letters": ["a", "b"],
    "complex": np.array([0.5, 0.5], dtype=np.complex128),
    "python-complex": [0.5 + 0j, 0.5],
    "bool": [True, False],
    "object": np.array([0.5, 0.5], dtype=object),
    "bytes": np.array([b"1", b"0"]),
}


@pytest.mark.parametrize("bad", BAD_ARRAYS.values(), ids=BAD_ARRAYS.keys())
@pytest.mark.parametrize("where", ARRAY_ARGS.keys())
def test_non_real_arrays_raise_invalid_dtype(where: str, bad: Any) -> None:
    arg = where.split("-")[1]
    with pytest.raises(InvalidDtypeError, match=names(arg)):
        ARRAY_ARGS[where](bad)


# ------------------------------------------------------------- 3. scalar settings

# (setting, function taking the setting's value, a valid value, a bool the old code took)
SETTINGS: list[tuple[str, Callable[[Any], Any], float, Any]] = [
    (
        "eta",
        lambda v: mirror_ascent_step([0.5, 0.5], [1, 0], eta=v, step_size=0.5, eps=0.1),
        8.0,
        True,
    ),
    (
        "step_size",
        lambda v: mirror_ascent_step([0.5, 0.5], [1, 0], eta=8.0, step_size=v, eps=0.1),
        0.5,
        np.True_,
    ),
    (
        "eps",
        lambda v: mirror_ascent_step([0.5, 0.5], [1, 0], eta=8.0, step_size=0.5, eps=v),
        0.1,
        False,
    ),
    ("eps", lambda v: project_floor([1.0, 2.0], v), 0.1, np.False_),
    ("eps", lambda v: as_floor(v, 2), 0.1, False),
    ("eta", lambda v: as_step(v, 0.5), 8.0, True),
    ("step_size", lambda v: as_step(8.0, v), 0.5, True),
    ("lr", lambda v: hedge_step([1, 1], [1, 0], lr=v, smoothing=0.1, min_prob=0.1), 1.0, True),
    (
        "smoothing",
        lambda v: hedge_step([1, 1], [1, 0], lr=1.0, smoothing=v, min_prob=0.1),
        0.1,
        True,
    ),
    (
        "min_prob",
        lambda v: hedge_step([1, 1], [1, 0], lr=1.0, smoothing=0.1, min_prob=v),
        0.1,
        False,
    ),
]
BAD_SCALARS: dict[str, Callable[[float, Any], Any]] = {
    "str": lambda v, _: str(v),
    "none": lambda v, _: None,
    "array": lambda v, _: np.array([v, v]),
    "complex": lambda v, _: complex(v),
    "bool": lambda v, b: b,
    "0d-bool": lambda v, b: np.array(bool(b)),
}


@pytest.mark.parametrize("bad", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
@pytest.mark.parametrize(
    ("setting", "call", "valid", "flag"),
    SETTINGS,
    ids=[f"{i}-{row[0]}" for i, row in enumerate(SETTINGS)],
)
def test_non_real_settings_raise_config_error(
    setting: str,
    call: Callable[[Any], Any],
    valid: float,
    flag: Any,
    bad: Callable[[float, Any], Any],
) -> None:
    call(valid)  # the row itself is fine
    with pytest.raises(ConfigError, match=names(setting)):
        call(bad(valid, flag))


def test_min_prob_range_errors_name_min_prob() -> None:
    with pytest.raises(ConfigError, match=names("min_prob")):
        hedge_step([1, 1], [1, 0], lr=1.0, smoothing=0.1, min_prob=0.6)


# ------------------------------------------------------------- 4. batch_size


@pytest.mark.parametrize(
    "batch_size",
    [10**30, 2**63, 2**31, MAX_DRAWS + 1, 2.7, 4.0, np.float64(4.0), "4", None, True, 0, -1],
    ids=repr,
)
@pytest.mark.parametrize("mode", ["equal", "drats"])
def test_bad_batch_size_raises_config_error(mode: str, batch_size: Any) -> None:
    with pytest.raises(ConfigError, match=names("batch_size")):
        allocate_batch(mode, batch_size, [1, 1, 1], [0.2, 0.3, 0.5])


# ------------------------------------------------------------- ordinary inputs


F32 = np.float32


def as_float64(*arrays: Any, **settings: Any) -> tuple[list[np.ndarray], dict[str, float]]:
    """The canonical form of a call's inputs: float64 arrays and Python float settings."""
    return [np.asarray(a, dtype=np.float64) for a in arrays], {
        name: float(value) for name, value in settings.items()
    }


MIRROR_CASES = {
    "float-lists": ([0.1, 0.2, 0.3, 0.4], [1.0, -0.5, 0.25, 0.0], 8.0, 0.5, 0.05),
    "int-lists-int-settings": ([0, 1, 0, 0], [1, 0, -1, 2], 8, 8, 0),
    "int-gaps-floor-active": ([0.7, 0.1, 0.1, 0.1], [0, 0, -3, 5], 8, 4, 0.2),
    "float32-arrays": (
        np.array([0.1, 0.2, 0.3, 0.4], F32),
        np.array([1.0, -0.5, 0.25, 0.0], F32),
        8.0,
        0.5,
        0.05,
    ),
    "numpy-scalar-settings": (
        np.array([0.25, 0.25, 0.5]),
        np.array([3, -1, 0], np.int64),
        np.float64(8.0),
        np.int64(2),
        np.float64(0.1),
    ),
    "0d-settings-uint8-gaps": (
        [0.5, 0.5],
        np.array([1, 0], np.uint8),
        np.array(8.0),
        np.array(1),
        np.array(0.0),
    ),
}
HEDGE_CASES = {
    "float-lists": ([0.1, 0.2, 0.3, 0.4], [1.0, -0.5, 0.25, 0.0], 2.0, 0.1, 0.05),
    "int-lists-int-settings": ([1, 2, 3, 0], [1, 0, -1, 2], 3, 0, 0),
    "float32-arrays": (
        np.array([1.0, 2.0, 0.5], F32),
        np.array([0.3, -0.5, 1.25], F32),
        1.5,
        0.2,
        0.1,
    ),
    "numpy-scalar-settings": (
        np.array([1, 1, 2], np.int64),
        np.array([0.5, 2.0, -1.0]),
        np.float64(2.5),
        np.float64(0.25),
        np.float64(0.2),
    ),
    "0d-settings": ([0.5, 0.5], [1.0, 0.0], np.array(4.0), np.array(0.5), np.array(0.1)),
}


@pytest.mark.parametrize("case", MIRROR_CASES.values(), ids=MIRROR_CASES.keys())
def test_ordinary_mirror_inputs_keep_their_numbers(case: tuple[Any, ...]) -> None:
    q, gaps, eta, step_size, eps = case
    got = mirror_ascent_step(q, gaps, eta=eta, step_size=step_size, eps=eps)
    arrays, floats = as_float64(q, gaps, eta=eta, step_size=step_size, eps=eps)
    # The C++ twin on float64 inputs: an independent implementation of the same formula.
    twin = _core.mirror_ascent_step(*arrays, *floats.values())
    np.testing.assert_allclose(got, twin, rtol=0, atol=1e-12)
    plain = mirror_ascent_step(*arrays, **floats)
    np.testing.assert_allclose(got, plain, rtol=0, atol=0)


@pytest.mark.parametrize("case", HEDGE_CASES.values(), ids=HEDGE_CASES.keys())
def test_ordinary_hedge_inputs_keep_their_numbers(case: tuple[Any, ...]) -> None:
    w, gaps, lr, smoothing, min_prob = case
    got = hedge_step(w, gaps, lr=lr, smoothing=smoothing, min_prob=min_prob)
    arrays, floats = as_float64(w, gaps, lr=lr, smoothing=smoothing, min_prob=min_prob)
    np.testing.assert_allclose(got, hedge_step(*arrays, **floats), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("z", "eps"),
    [
        ([1, 2, 3, 4], 0.05),
        (np.array([0.5, 0.3, 0.2, 0.0], F32), np.float64(0.1)),
        (np.array([5, 0, 0], np.uint16), np.array(0.2)),
        ([0.0, 0.0, 0.0], 0),
    ],
)
def test_ordinary_floor_inputs_keep_their_numbers(z: Any, eps: Any) -> None:
    want = _core.project_floor(np.asarray(z, dtype=np.float64), float(eps))  # the C++ twin
    np.testing.assert_allclose(project_floor(z, eps), want, rtol=0, atol=1e-12)


def test_ordinary_settings_come_back_as_floats() -> None:
    assert as_floor(np.float32(0.25), 4) == 0.25
    assert as_step(np.int64(8), np.float64(0.5)) == (8.0, 0.5)
    assert type(as_floor(np.array(0.1), 2)) is float


@pytest.mark.parametrize(
    ("batch_size", "probs", "expected"),
    [
        (10, [0.2, 0.0, 0.3, 0.5], [2, 0, 3, 5]),
        (np.int64(10), np.array([0.2, 0.0, 0.3, 0.5], F32), [2, 0, 3, 5]),
        (np.uint8(10), [1, 0, 1, 2], [3, 0, 3, 4]),
        (np.int32(3), np.array([1, 0, 1, 2], np.int64), [1, 0, 1, 1]),
        (MAX_DRAWS, [0.2, 0.0, 0.3, 0.5], None),
    ],
)
def test_ordinary_allocations_keep_their_numbers(
    batch_size: Any, probs: Any, expected: list[int] | None
) -> None:
    sizes = np.array([3, 0, 3, 3])
    got = allocate_batch("drats", batch_size, sizes, probs)
    if expected is not None:
        np.testing.assert_array_equal(got, expected)
    want = allocate_batch("drats", int(batch_size), sizes, np.asarray(probs, dtype=np.float64))
    np.testing.assert_array_equal(got, want)
    assert int(got.sum()) == int(batch_size)
    assert got[1] == 0
    equal = allocate_batch("equal", batch_size, sizes)
    assert int(equal.sum()) == int(batch_size)
    assert equal.dtype == np.int64
