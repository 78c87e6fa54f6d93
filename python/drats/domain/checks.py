"""Argument and setting checks: the one home of drats's validation rules.

Two verbs: ``check_*`` raises and returns nothing, ``as_*`` converts and returns the checked
value. Every failure is a :mod:`drats.domain.errors` class whose message names the argument and
says what was expected and what was got, by role:

* settings (a constructor argument, a config field): ``ConfigError``;
* call inputs: ``InvalidDtypeError`` for a dtype that cannot be read safely,
  ``InvalidInputError`` for a wrong shape or value, ``UnknownTaskError`` for an id out of range;
* saved state: ``CheckpointError`` (see :mod:`drats.domain.state_tree`).

One rule per concept: one dtype vocabulary (:data:`INTEGER_KINDS`, :data:`REAL_KINDS`,
:data:`NUMERIC_KINDS`), one probability-floor rule (:func:`as_floor`, tolerance
:data:`SIMPLEX_TOL`) and one seed rule (:func:`as_seed`). The size limits are in
:mod:`drats.domain.limits`. The C++ binding (``cpp/bindings/``) makes the same checks with the
same error classes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.errors import (
    ConfigError,
    DratsError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.limits import MAX_DRAWS, MAX_REPLAY_VALUES, MAX_SLOTS, MAX_TASKS

#: dtype kinds of ids, indices and counts: signed and unsigned integers (bool is refused).
INTEGER_KINDS = "iu"
#: dtype kinds read as real numbers: integers and floats. Bool, complex, strings, bytes, objects,
#: dates and times are refused rather than silently cast.
REAL_KINDS = "iuf"
#: dtype kinds of data cast to float where a bool is meaningful (``terminated``, ``dones``).
NUMERIC_KINDS = "iufb"

#: Slack allowed when checking ``eps * K <= 1`` (the C++ twin: ``kSimplexTol``).
SIMPLEX_TOL = 1e-9

# ------------------------------------------------------------------------------- call inputs


def as_array(value: ArrayLike, name: str, kinds: str, dtype: type[np.generic]) -> NDArray[Any]:
    """``np.asarray(value)`` with its dtype kind checked against ``kinds``, cast to ``dtype``
    (values beyond the target's range become inf, for the caller's finiteness check).

    Raises:
        InvalidInputError: ``value`` cannot be made into an array (ragged nested lists, say).
        InvalidDtypeError: the array's dtype kind is not in ``kinds``.
    """
    if type(value) is np.ndarray and value.dtype == dtype:  # already right: no work
        return value
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"{name} must be an array, got {value!r} ({err})") from None
    if arr.dtype.kind not in kinds:
        raise InvalidDtypeError(f"{name} has dtype {arr.dtype}; expected a dtype of kind {kinds!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.astype(dtype, copy=False)


def as_vector(value: ArrayLike, name: str, kinds: str, dtype: type[np.generic]) -> NDArray[Any]:
    """:func:`as_array`, then a check that the result is 1-D."""
    arr = as_array(value, name, kinds, dtype)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got {arr.ndim} dimensions")
    return arr


def as_real_array(value: ArrayLike, name: str) -> NDArray[np.float64]:
    """``value`` as a float64 array of any shape, refusing dtypes that are not real numbers
    (kinds :data:`REAL_KINDS`); for the domain math, whose messages say "real numbers"."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        msg = f"{name} must be an array of real numbers, got {value!r} ({err})"
        raise InvalidInputError(msg) from None
    if arr.dtype.kind not in REAL_KINDS:
        raise InvalidDtypeError(
            f"{name} must hold real numbers (an integer or float dtype), got dtype {arr.dtype}"
        )
    with np.errstate(over="ignore"):  # e.g. a float128 beyond float64's range -> inf
        return arr.astype(np.float64, copy=False)


def _shape_str(dims: Sequence[object]) -> str:
    inner = ", ".join(str(d) for d in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def check_shape(
    arr: NDArray[Any], shape: tuple[int, ...], name: str, symbols: Sequence[object] = ()
) -> None:
    """InvalidInputError unless ``arr.shape == shape``. ``symbols`` optionally spells the
    leading dimensions by name: ``obs must have shape (n, 39) = (3, 39), got (3, 40)``."""
    if arr.shape == shape:
        return
    want = _shape_str(shape)
    if symbols:
        want = f"{_shape_str([*symbols, *shape[len(symbols) :]])} = {want}"
    raise InvalidInputError(f"{name} must have shape {want}, got {_shape_str(arr.shape)}")


def check_finite(arr: NDArray[Any], name: str) -> None:
    """InvalidInputError if ``arr`` holds NaN or inf (naming the first such entry)."""
    if np.isfinite(arr).all():
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidInputError(f"{name} must be finite, got {arr[at]} at {at}")


def check_binary(arr: NDArray[Any], name: str) -> None:
    """InvalidInputError unless every entry of ``arr`` is 0 or 1."""
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise InvalidInputError(f"{name} must be 0 or 1 (or bool), got {arr.ravel()[i]}")


def check_ids(ids: NDArray[np.int64], limit: int, name: str, what: str = "task id") -> None:
    """UnknownTaskError unless every entry of ``ids`` lies in ``[0, limit)``."""
    if ids.dtype == np.int64 and not (ids.view(np.uint64) >= limit).any():
        return  # the common case in one pass: a negative id is huge as uint64
    bad = (ids < 0) | (ids >= limit)
    if bad.any():
        raise UnknownTaskError(f"{name}: {what} {int(ids[bad][0])} is outside [0, {limit})")


def check_action_indices(actions: NDArray[Any], num_actions: int, name: str) -> None:
    """InvalidInputError unless every entry is a whole number in ``[0, num_actions)``."""
    bad = (actions < 0) | (actions >= num_actions)
    if actions.dtype.kind == "f":
        bad |= actions != np.round(actions)
    if bad.any():
        got = actions[bad].ravel()[0]
        raise InvalidInputError(f"{name} must be action indices in [0, {num_actions}), got {got}")


#: One field of a learner input: (shape, dimension names, dtype kinds, dtype).
FieldSpec = tuple[tuple[int, ...], tuple[str, ...], str, type[np.generic]]


def as_fields(data: Any, spec: Mapping[str, FieldSpec], prefix: str) -> dict[str, NDArray[Any]]:
    """The fields ``spec`` names of ``data`` (a Batch or a Rollout), each converted to its
    dtype after a dtype-kind check, shape-checked and, for floats, checked finite; messages
    name ``prefix.field``. The arrays come back C-contiguous."""
    out: dict[str, NDArray[Any]] = {}
    for name, (shape, symbols, kinds, dtype) in spec.items():
        label = f"{prefix}.{name}"
        arr = as_array(getattr(data, name), label, kinds, dtype)
        check_shape(arr, shape, label, symbols=symbols)
        if arr.dtype.kind == "f":
            check_finite(arr, label)
        out[name] = np.ascontiguousarray(arr)
    return out


def as_reset_args(
    slots: ArrayLike, task_ids: ArrayLike, num_slots: int, num_tasks: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(slots, task_ids)`` of ``EnvPool.reset_slots`` as int64[M] each, slots distinct.

    Raises:
        InvalidDtypeError: non-integer ids.
        InvalidInputError: not 1-D, different lengths or a slot listed twice.
        UnknownTaskError: a slot outside [0, N) or a task id outside [0, K).
    """
    s = as_vector(slots, "slots", INTEGER_KINDS, np.int64)
    t = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
    if s.shape != t.shape:
        raise InvalidInputError(f"slots has {len(s)} entries but task_ids has {len(t)}")
    check_ids(s, num_slots, "slots", "slot")
    check_ids(t, num_tasks, "task_ids")
    if len(np.unique(s)) != len(s):
        values, counts = np.unique(s, return_counts=True)
        raise InvalidInputError(f"slots lists slot {int(values[counts > 1][0])} more than once")
    return s, t


def as_count(value: object, name: str) -> int:
    """A number of draws of one call: an int in [0, MAX_DRAWS] (InvalidInputError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
    if int(value) > MAX_DRAWS:
        raise InvalidInputError(f"{name} must be at most {MAX_DRAWS} draws per call, got {value!r}")
    return int(value)


def as_unit(value: object, name: str) -> float:
    """A call argument in [0, 1] as a float (InvalidInputError)."""
    out = as_real(value, name, InvalidInputError)
    if not 0.0 <= out <= 1.0:
        raise InvalidInputError(f"{name} must be in [0, 1], got {value!r}")
    return out


def as_task_id(value: object, num_tasks: int, name: str = "task_id") -> int:
    """A task id in [0, num_tasks) given as an integer scalar (InvalidDtypeError /
    UnknownTaskError)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise InvalidDtypeError(f"{name} must be an integer task id, got {value!r}")
    if not 0 <= int(value) < num_tasks:
        raise UnknownTaskError(f"{name} {int(value)} is outside [0, {num_tasks})")
    return int(value)


# ---------------------------------------------------------------------------------- settings


def as_real(value: object, name: str, error: type[DratsError] = ConfigError) -> float:
    """``value`` as a Python float if it is one real number, else ``error`` (ConfigError for a
    setting, InvalidInputError for a call argument) naming ``name``.

    Accepted: a Python int or float, a numpy integer or floating scalar, or a 0-d array of an
    integer or float dtype. Refused: bools (Python or numpy), strings, None, complex numbers
    and arrays with one or more dimensions. No range check: NaN and inf come back as they are
    (an int too large for a float comes back as +-inf) for the caller's range check to refuse.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in REAL_KINDS:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray):
            got = f"an array of shape {value.shape} and dtype {value.dtype}"
        else:
            got = f"{value!r} ({type(value).__name__})"
        raise error(f"{name} must be a real number (int or float), got {got}")
    try:
        return float(value)
    except OverflowError:  # a Python int beyond float64's range
        return math.copysign(math.inf, value)


def as_finite_float(value: object, name: str, *, minimum: float = -math.inf) -> float:
    """A setting as a finite float >= ``minimum`` (ConfigError)."""
    out = as_real(value, name)
    if not math.isfinite(out) or out < minimum:
        bound = "" if minimum == -math.inf else f" and >= {minimum}"
        raise ConfigError(f"{name} must be finite{bound}, got {value!r}")
    return out


def as_fraction(value: object, name: str, *, upper_open: bool = False) -> float:
    """A setting in [0, 1] (or [0, 1) with ``upper_open``) as a float (ConfigError)."""
    out = as_finite_float(value, name)
    if out < 0.0 or out > 1.0 or (upper_open and out == 1.0):
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ConfigError(f"{name} must be in {interval}, got {value!r}")
    return out


def as_int_in_range(value: object, name: str, low: int, high: int) -> int:
    """A setting as a Python int in ``[low, high]`` (ConfigError). Only Python ints and numpy
    integer scalars are accepted: bools, floats (even 4.0), strings and None are refused."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    out = int(value)
    if not low <= out <= high:
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {out}")
    return out


def as_positive_int(value: object, name: str, maximum: int | None = None) -> int:
    """A setting as an int >= 1, and <= ``maximum`` if given (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    if maximum is not None and int(value) > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {int(value)}")
    return int(value)


def as_task_count(value: object) -> int:
    """``num_tasks`` as an int in [1, MAX_TASKS]."""
    return as_positive_int(value, "num_tasks", MAX_TASKS)


def as_slot_count(value: object) -> int:
    """``num_slots`` as an int in [1, MAX_SLOTS]."""
    return as_positive_int(value, "num_slots", MAX_SLOTS)


def as_flag(value: object, name: str) -> bool:
    """A setting as a bool; only True and False (Python or numpy) are accepted."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def as_shape(value: object, name: str) -> tuple[int, ...]:
    """An int or a non-empty sequence of ints >= 1 as a shape tuple."""
    if isinstance(value, numbers.Integral):
        dims: tuple[object, ...] = (value,)
    elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        dims = tuple(value)
    else:
        raise ConfigError(f"{name} must be an int or a tuple of ints, got {value!r}")
    if len(dims) == 0:
        raise ConfigError(f"{name} must have at least one dimension, got {value!r}")
    return tuple(as_positive_int(d, f"{name} entry") for d in dims)


def as_replay_values(
    num_tasks: int, capacity: int, obs_shape: tuple[int, ...], action_shape: tuple[int, ...]
) -> int:
    """The float32 values a per-task replay of these (checked) settings holds: one row per
    transition (obs, action, reward, next obs, terminated) per slot of every task. ConfigError
    beyond ``MAX_REPLAY_VALUES`` (exact ints here, so a huge shape cannot wrap around)."""
    row = 2 * math.prod(obs_shape) + math.prod(action_shape) + 2
    values = num_tasks * capacity * row
    if values > MAX_REPLAY_VALUES:
        raise ConfigError(
            f"num_tasks * capacity_per_task * row size must be at most {MAX_REPLAY_VALUES} "
            f"float32 values, got {num_tasks} * {capacity} * {row}"
        )
    return values


def as_seed(value: object) -> int:
    """The one seed rule: an integer in [-2**63, 2**64), returned as an unsigned 64-bit int
    (a negative seed wraps, as torch and the C++ streams read it)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"seed must be an integer, got {value!r}")
    if not -(1 << 63) <= int(value) < (1 << 64):
        raise ConfigError(f"seed must lie in [-2**63, 2**64), got {value!r}")
    return int(value) % (1 << 64)


def as_per_task(value: float | Sequence[float], num_tasks: int, name: str) -> NDArray[np.float64]:
    """A scalar or one value per task as float64[K] (no range check)."""
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


def default_floor(num_tasks: int) -> float:
    """The probability floor a sampler gets when none is given: ``1 / (4K)``."""
    return 1.0 / (4 * num_tasks)


def as_floor(eps: object, num_tasks: int, name: str = "eps") -> float:
    """The one probability-floor rule: a real number with ``0 <= eps`` and
    ``eps * K <= 1 + SIMPLEX_TOL``, as a float."""
    out = as_real(eps, name)
    if not math.isfinite(out) or out < 0 or out * num_tasks > 1.0 + SIMPLEX_TOL:
        raise ConfigError(
            f"{name} must satisfy 0 <= {name} <= 1/K = {1.0 / num_tasks:.6g}, got {out}"
        )
    return out


def as_step(eta: object, step_size: object) -> tuple[float, float]:
    """The mirror-ascent settings: real numbers ``eta > 0``, ``step_size >= 0`` and
    ``step_size / eta <= 1``, as floats."""
    eta_value = as_real(eta, "eta")
    step_value = as_real(step_size, "step_size")
    if not math.isfinite(eta_value) or eta_value <= 0:
        raise ConfigError(f"eta must be finite and > 0, got {eta_value}")
    if not math.isfinite(step_value) or step_value < 0:
        raise ConfigError(f"step_size must be finite and >= 0, got {step_value}")
    if step_value / eta_value > 1.0:
        raise ConfigError(f"step_size / eta must be <= 1, got {step_value}/{eta_value}")
    return eta_value, step_value
