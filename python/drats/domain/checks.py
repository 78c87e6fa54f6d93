"""Input and state-dict checks shared by the adapters and the fakes (one place for the messages).

Every check raises a :mod:`drats.domain.errors` class whose message names the argument:
``InvalidDtypeError`` for a dtype kind that cannot be converted safely, ``InvalidInputError``
for a wrong shape or value, ``UnknownTaskError`` for an id out of range, ``ConfigError`` for a
bad setting and ``CheckpointError`` for a bad state dict. The C++ binding
(``cpp/bindings/module.cc``) makes the same checks with the same error classes.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.validation import MAX_DRAWS, real_scalar

#: dtype kinds accepted for ids, indices and counts (bool is refused).
INTEGER = "iu"
#: dtype kinds accepted for data cast to float (bool included).
NUMERIC = "fiub"

#: The most tasks a sampler or replay accepts: each task gets its own state, and a million
#: is far beyond any multi-task suite.
MAX_TASKS = 2**20
#: The most float32 values a replay may hold (the C++ core's limit, ``PerTaskReplay``).
MAX_REPLAY_VALUES = 2**40

# ------------------------------------------------------------------------------------ arrays


def as_array(value: ArrayLike, name: str, kinds: str, dtype: type[np.generic]) -> NDArray[Any]:
    """``np.asarray(value)`` with its dtype kind checked against ``kinds``, cast to ``dtype``."""
    arr = np.asarray(value)
    if arr.dtype.kind not in kinds:
        raise InvalidDtypeError(f"{name} has dtype {arr.dtype}; expected a dtype of kind {kinds!r}")
    with np.errstate(over="ignore", invalid="ignore"):  # out of range -> inf, caught later
        return arr.astype(dtype, copy=False)


def one_dim(value: ArrayLike, name: str, kinds: str, dtype: type[np.generic]) -> NDArray[Any]:
    """:func:`as_array`, then a check that the result is 1-D."""
    arr = as_array(value, name, kinds, dtype)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got {arr.ndim} dimensions")
    return arr


def _shape_str(dims: Sequence[object]) -> str:
    inner = ", ".join(str(d) for d in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def check_shape(
    arr: NDArray[Any], shape: tuple[int, ...], name: str, symbols: Sequence[object] = ()
) -> None:
    """Raise InvalidInputError unless ``arr.shape == shape``.

    ``symbols`` optionally spells the leading dimensions by name, so the message reads e.g.
    ``obs must have shape (n, 39) = (3, 39), got (3, 40)``.
    """
    if arr.shape == shape:
        return
    want = _shape_str(shape)
    if symbols:
        want = f"{_shape_str([*symbols, *shape[len(symbols) :]])} = {want}"
    raise InvalidInputError(f"{name} must have shape {want}, got {_shape_str(arr.shape)}")


def check_finite(arr: NDArray[Any], name: str) -> None:
    """Raise InvalidInputError if ``arr`` holds NaN or inf."""
    bad = ~np.isfinite(arr)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidInputError(f"{name} must be finite, got {arr[at]} at {at}")


def check_binary(arr: NDArray[Any], name: str) -> None:
    """Raise InvalidInputError unless every entry of ``arr`` is 0 or 1."""
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise InvalidInputError(f"{name} must be 0 or 1 (or bool), got {arr.ravel()[i]}")


def check_ids(ids: NDArray[np.int64], limit: int, name: str, what: str = "task id") -> None:
    """Raise UnknownTaskError unless every entry of ``ids`` lies in ``[0, limit)``."""
    bad = (ids < 0) | (ids >= limit)
    if bad.any():
        raise UnknownTaskError(f"{name}: {what} {int(ids[bad][0])} is outside [0, {limit})")


def check_reset_args(
    slots: ArrayLike, task_ids: ArrayLike, num_slots: int, num_tasks: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Validated ``(slots, task_ids)`` of ``reset_slots``: int64[M] each, slots distinct.

    Raises:
        InvalidDtypeError: non-integer ids.
        InvalidInputError: not 1-D, different lengths or a slot listed twice.
        UnknownTaskError: a slot outside [0, N) or a task id outside [0, K).
    """
    s = one_dim(slots, "slots", INTEGER, np.int64)
    t = one_dim(task_ids, "task_ids", INTEGER, np.int64)
    if s.shape != t.shape:
        raise InvalidInputError(f"slots has {len(s)} entries but task_ids has {len(t)}")
    check_ids(s, num_slots, "slots", "slot")
    check_ids(t, num_tasks, "task_ids")
    if len(np.unique(s)) != len(s):
        values, counts = np.unique(s, return_counts=True)
        raise InvalidInputError(f"slots lists slot {int(values[counts > 1][0])} more than once")
    return s, t


def count_arg(value: object, name: str) -> int:
    """``value`` as a number of draws for a call argument: an int in [0, MAX_DRAWS]
    (InvalidInputError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
    if int(value) > MAX_DRAWS:
        raise InvalidInputError(f"{name} must be at most {MAX_DRAWS} draws per call, got {value!r}")
    return int(value)


def unit_arg(value: object, name: str) -> float:
    """``value`` as a float in [0, 1] for a call argument (InvalidInputError otherwise)."""
    out = real_scalar(value, name, InvalidInputError)
    if not 0.0 <= out <= 1.0:
        raise InvalidInputError(f"{name} must be in [0, 1], got {value!r}")
    return out


def task_arg(value: object, num_tasks: int, name: str = "task_id") -> int:
    """``value`` as a task id in [0, num_tasks) for a call argument."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise InvalidDtypeError(f"{name} must be an integer task id, got {value!r}")
    if not 0 <= int(value) < num_tasks:
        raise UnknownTaskError(f"{name} {int(value)} is outside [0, {num_tasks})")
    return int(value)


# ------------------------------------------------------------------------------------ config


def positive_int(value: object, name: str, maximum: int | None = None) -> int:
    """``value`` as an int >= 1, and <= ``maximum`` if given (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    if maximum is not None and int(value) > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {int(value)}")
    return int(value)


def task_count(value: object) -> int:
    """``num_tasks`` as an int in [1, MAX_TASKS] (ConfigError otherwise)."""
    return positive_int(value, "num_tasks", MAX_TASKS)


def flag(value: object, name: str) -> bool:
    """``value`` as a bool; only True and False (Python or numpy) are accepted."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def as_shape(value: object, name: str) -> tuple[int, ...]:
    """An int or a sequence of ints >= 1 as a shape tuple."""
    if isinstance(value, numbers.Integral):
        dims: tuple[object, ...] = (value,)
    elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        dims = tuple(value)
    else:
        raise ConfigError(f"{name} must be an int or a tuple of ints, got {value!r}")
    if len(dims) == 0:
        raise ConfigError(f"{name} must have at least one dimension, got {value!r}")
    return tuple(positive_int(d, f"{name} entry") for d in dims)


def as_seed(value: object) -> int:
    """A seed as an unsigned 64-bit int (negative seeds wrap)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"seed must be an integer, got {value!r}")
    return int(value) % (1 << 64)


def finite_float(value: object, name: str, *, minimum: float = -np.inf) -> float:
    """``value`` as a finite float >= ``minimum`` (ConfigError otherwise; bools and strings
    are not numbers here)."""
    out = real_scalar(value, name)
    if not np.isfinite(out) or out < minimum:
        bound = "" if minimum == -np.inf else f" and >= {minimum}"
        raise ConfigError(f"{name} must be finite{bound}, got {value!r}")
    return out


def per_task(value: float | Sequence[float], num_tasks: int, name: str) -> NDArray[np.float64]:
    """A scalar or one value per task as float64[K]."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"{name} must be a number or {num_tasks} numbers, got {value!r}"
        raise ConfigError(msg) from None
    if arr.ndim == 0:
        arr = np.full(num_tasks, float(arr))
    if arr.shape != (num_tasks,):
        raise ConfigError(f"{name} must be a scalar or have {num_tasks} entries, got {arr.shape}")
    return arr


# -------------------------------------------------------------------------------- state dicts


def check_state_config(state: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Raise CheckpointError unless ``state`` holds every key of ``expected`` with that value."""
    for key, want in expected.items():
        if key not in state:
            raise CheckpointError(f"state dict has no {key!r} entry")
        got = state[key]
        if isinstance(want, tuple | np.ndarray):
            same = np.array_equal(np.asarray(got), np.asarray(want))
        else:
            try:
                same = bool(np.all(np.asarray(got) == want)) and np.ndim(got) == 0
            except (TypeError, ValueError):
                same = False
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


def replay_state_config(
    num_tasks: int,
    capacity: int,
    obs_shape: tuple[int, ...],
    action_shape: tuple[int, ...],
    alpha: float,
) -> dict[str, Any]:
    """The configuration entries of a per-task replay state dict."""
    return {
        "num_tasks": num_tasks,
        "capacity_per_task": capacity,
        "obs_shape": np.asarray(obs_shape, dtype=np.int64),
        "action_shape": np.asarray(action_shape, dtype=np.int64),
        "alpha": float(alpha),
    }


def check_replay_state(state: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a per-task replay state dict against ``config`` (see :func:`replay_state_config`)
    and return its arrays converted to the storage dtypes (fresh copies)."""
    check_state_config(state, config)
    k, cap = int(config["num_tasks"]), int(config["capacity_per_task"])
    obs_shape = tuple(int(d) for d in config["obs_shape"])
    action_shape = tuple(int(d) for d in config["action_shape"])
    a = check_state_arrays(state, replay_state_spec(k, cap, obs_shape, action_shape))
    out: dict[str, Any] = {}
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: refused
        for name in ("obs", "actions", "rewards", "next_obs", "terminated"):
            out[name] = a[name].astype(np.float32, copy=True)
    out["priorities"] = a["priorities"].astype(np.float64, copy=True)
    for name in ("obs", "actions", "rewards", "next_obs", "terminated", "priorities"):
        if not np.all(np.isfinite(out[name])):
            raise CheckpointError(f"state dict {name!r} must be finite (in its storage dtype)")
    max_priority = a["max_priority"]
    if not np.all(np.isfinite(max_priority) & (max_priority > 0)):
        raise CheckpointError("state dict 'max_priority' must be finite and > 0")
    sizes, positions = a["sizes"].astype(np.int64), a["positions"].astype(np.int64)
    if np.any((sizes < 0) | (sizes > cap)):
        raise CheckpointError(f"state dict 'sizes' must lie in [0, {cap}], got {sizes}")
    ring = np.where(sizes < cap, positions == sizes, (positions >= 0) & (positions < cap))
    if not ring.all():
        raise CheckpointError(
            "state dict 'positions' must equal 'sizes' for a task that is not full and lie in "
            f"[0, {cap}) for a full one, got positions {positions} with sizes {sizes}"
        )
    filled = np.arange(cap)[None, :] < sizes[:, None]
    leaves = out["priorities"]
    if np.any(filled & ~(leaves > 0)) or np.any(~filled & (leaves != 0)):
        raise CheckpointError(
            "state dict 'priorities' must be > 0 on filled slots and 0 on empty ones"
        )
    done = out["terminated"]
    if np.any((done != 0) & (done != 1)):
        raise CheckpointError("state dict 'terminated' must be 0 or 1")
    out["max_priority"] = max_priority.astype(np.float64, copy=True)
    out["positions"], out["sizes"] = positions.copy(), sizes.copy()
    out["rng"] = a["rng"].astype(np.uint64, copy=True)
    return out


def gap_sampler_config(
    kind: str,
    num_tasks: object,
    *,
    eta: object,
    step_size: object,
    eps: object,
    target: float | Sequence[float],
    adaptive_target: object,
    success_window: object,
    success_threshold: object,
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Validated settings of a gap sampler (ConfigError naming the bad one): the config
    entries of its state dict, and its per-task base targets. ``eps=None`` means 1/(4K)."""
    from drats.domain.drats_math import check_floor, check_step

    k = task_count(num_tasks)
    eta_value = finite_float(eta, "eta")
    step_value = finite_float(step_size, "step_size")
    eps_value = 1.0 / (4 * k) if eps is None else finite_float(eps, "eps")
    check_step(eta_value, step_value)
    check_floor(eps_value, k)
    window = positive_int(success_window, "success_window")
    if window > MAX_DRAWS // k:  # one flag per task and window slot is kept
        raise ConfigError(
            f"num_tasks * success_window must be at most {MAX_DRAWS}, got {k} * {window}"
        )
    threshold = finite_float(success_threshold, "success_threshold")
    if not 0.0 <= threshold < 1.0:
        raise ConfigError(f"success_threshold must be in [0, 1), got {success_threshold}")
    base = per_task(target, k, "target")
    if not np.all(np.isfinite(base) & (base > 0)):
        raise ConfigError(f"target must be finite and > 0, got {base}")
    config = {
        "kind": kind,
        "num_tasks": k,
        "eta": eta_value,
        "step_size": step_value,
        "eps": eps_value,
        "adaptive_target": flag(adaptive_target, "adaptive_target"),
        "success_window": window,
        "success_threshold": threshold,
    }
    return config, base


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


# ------------------------------------------------------------------------- env pool limits

#: The most slots an env pool accepts: each slot keeps its own RNG and counters, and 65536 is
#: far beyond any vectorised env.
MAX_SLOTS = 2**16


def slot_count(value: object) -> int:
    """``num_slots`` as an int in [1, MAX_SLOTS] (ConfigError otherwise)."""
    return positive_int(value, "num_slots", MAX_SLOTS)


def state_ints(
    arr: NDArray[Any], key: str, low: int, high: int = int(np.iinfo(np.int64).max)
) -> NDArray[np.int64]:
    """The integer state-dict array ``arr`` (entry ``key``) as a fresh int64 array, every value
    in [low, high]; CheckpointError naming the entry and the first bad index otherwise (an
    unsigned value beyond the int64 range is refused, never wrapped)."""
    bad = (arr < low) | (arr > high)
    if np.any(bad):
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        want = f">= {low}" if high == np.iinfo(np.int64).max else f"in [{low}, {high}]"
        raise CheckpointError(f"state dict {key!r} entries must be {want}, got {arr[at]} at {at}")
    return arr.astype(np.int64, copy=True)
