"""Argument and state-dict checks shared by the adapters (one place for the messages)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.domain.errors import CheckpointError, ConfigError, InvalidInputError


def positive_int(value: object, name: str) -> int:
    """``value`` as an int >= 1 (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def count_arg(value: object, name: str) -> int:
    """``value`` as an int >= 0 for a call argument (InvalidInputError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def as_shape(value: int | Sequence[int], name: str) -> tuple[int, ...]:
    """An int or a sequence of ints >= 1 as a shape tuple."""
    dims: tuple[object, ...] = (
        (value,) if isinstance(value, numbers.Integral) else tuple(value)  # type: ignore[arg-type]
    )
    if len(dims) == 0:
        raise ConfigError(f"{name} must have at least one dimension, got {value!r}")
    return tuple(positive_int(d, f"{name} entry") for d in dims)


def as_seed(value: object) -> int:
    """A seed as an unsigned 64-bit int (negative seeds wrap)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"seed must be an integer, got {value!r}")
    return int(value) % (1 << 64)


def per_task(value: float | Sequence[float], num_tasks: int, name: str) -> NDArray[np.float64]:
    """A scalar or one value per task as float64[K]."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(num_tasks, float(arr))
    if arr.shape != (num_tasks,):
        raise ConfigError(f"{name} must be a scalar or have {num_tasks} entries, got {arr.shape}")
    return arr


def check_state_config(state: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Raise CheckpointError unless ``state`` holds every key of ``expected`` with that value."""
    for key, want in expected.items():
        if key not in state:
            raise CheckpointError(f"state dict has no {key!r} entry")
        got = state[key]
        same = (
            np.array_equal(np.asarray(got), np.asarray(want))
            if isinstance(want, (tuple, np.ndarray))
            else got == want
        )
        if not same:
            raise CheckpointError(f"state dict {key!r} is {got!r}, this object has {want!r}")


def check_state_arrays(
    state: Mapping[str, Any], spec: Mapping[str, tuple[tuple[int, ...], str]]
) -> dict[str, NDArray[Any]]:
    """Check that ``state[key]`` is an array of shape and dtype kind ``spec[key]``; return them."""
    out: dict[str, NDArray[Any]] = {}
    for key, (shape, kinds) in spec.items():
        if key not in state:
            raise CheckpointError(f"state dict has no {key!r} entry")
        arr = np.asarray(state[key])
        if arr.shape != shape or arr.dtype.kind not in kinds:
            raise CheckpointError(
                f"state dict {key!r} must be an array of shape {shape} and dtype kind "
                f"{kinds!r}, got shape {arr.shape} dtype {arr.dtype}"
            )
        out[key] = arr
    return out


def replay_state_spec(
    num_tasks: int, capacity: int, obs_shape: tuple[int, ...], action_shape: tuple[int, ...]
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Array entries of a per-task replay state dict: key -> (shape, dtype kinds)."""
    k, c = num_tasks, capacity
    return {
        "obs": ((k, c, *obs_shape), "f"),
        "actions": ((k, c, *action_shape), "f"),
        "rewards": ((k, c), "f"),
        "next_obs": ((k, c, *obs_shape), "f"),
        "terminated": ((k, c), "f"),
        "priorities": ((k, c), "f"),
        "positions": ((k,), "iu"),
        "sizes": ((k,), "iu"),
        "max_priority": ((k,), "f"),
        "rng": ((2,), "u"),
    }


def sampler_state_spec(num_tasks: int, window: int) -> dict[str, tuple[tuple[int, ...], str]]:
    """Array entries of a gap-sampler state dict: key -> (shape, dtype kinds)."""
    k = num_tasks
    spec: dict[str, tuple[tuple[int, ...], str]] = {
        key: ((k,), "f") for key in ("probs", "gaps", "targets", "window_sums", "best_returns")
    }
    spec.update(
        {key: ((k,), "iu") for key in ("window_counts", "episodes", "history_len", "history_pos")}
    )
    spec.update({"history": ((k, window), "b"), "solved": ((k,), "b"), "rng": ((2,), "u")})
    return spec
