"""Argument checks for the pure domain functions (``drats_math``, ``allocation``).

Every check raises a :mod:`drats.domain.errors` class whose message names the argument, says
what was expected and what was got: ``ConfigError`` for a setting (a scalar such as ``eta`` or
``batch_size``), ``InvalidDtypeError`` for an array whose dtype cannot be read as real numbers
and ``InvalidInputError`` for an array that cannot be built at all. The domain layer does not
import the adapters, so these are its own versions of the adapters' checks.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.errors import ConfigError, DratsError, InvalidDtypeError, InvalidInputError

#: dtype kinds read as real numbers: signed and unsigned integers and floats. Bool, complex,
#: strings, bytes, objects, dates and times are refused.
REAL_KINDS = "iuf"

#: The most draws one call may ask for: rows of one batch, or task ids of one ``sample``.
#: Larger requests are refused up front rather than failing inside an allocation; the C++
#: core has the same limit (``kMaxDraws`` in ``per_task_replay.h``).
MAX_DRAWS = 2**31 - 1


def real_array(value: ArrayLike, name: str) -> NDArray[np.float64]:
    """``value`` as a float64 array, refusing dtypes that are not real numbers.

    ``np.asarray(value)`` must have an integer or float dtype (kind ``i``, ``u`` or ``f``), so
    Python lists of ints and floats and numpy integer and float arrays are accepted, while
    strings, bools, complex numbers and object arrays are refused rather than silently cast.
    Values beyond float64's range become inf (the callers check finiteness). No shape check.

    Raises:
        InvalidInputError: ``value`` cannot be made into an array (e.g. ragged nested lists).
        InvalidDtypeError: the array's dtype kind is not ``i``, ``u`` or ``f``.
    """
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


def real_scalar(value: object, name: str, error: type[DratsError] = ConfigError) -> float:
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


def int_in_range(value: object, name: str, low: int, high: int) -> int:
    """``value`` as a Python int in ``[low, high]``, else ConfigError naming ``name``.

    Only Python ints and numpy integer scalars are accepted: bools, floats (even 4.0),
    strings and None are refused rather than truncated or parsed.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    out = int(value)
    if not low <= out <= high:
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {out}")
    return out
