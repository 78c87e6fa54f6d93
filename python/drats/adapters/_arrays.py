"""Checks for arrays crossing a port in the pure-numpy adapters (the C++ binding makes the
same checks in cpp/bindings/module.cc, with the same error classes)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.errors import InvalidDtypeError, InvalidInputError

INTEGER = "iu"
NUMERIC = "fiub"


def as_array(value: ArrayLike, name: str, kinds: str, dtype: type[np.generic]) -> NDArray[Any]:
    """``np.asarray(value)`` with its dtype kind checked against ``kinds``, cast to ``dtype``."""
    arr = np.asarray(value)
    if arr.dtype.kind not in kinds:
        raise InvalidDtypeError(f"{name} has dtype {arr.dtype}; expected a dtype of kind {kinds!r}")
    return arr.astype(dtype, copy=False)


def check_shape(arr: NDArray[Any], shape: tuple[int, ...], name: str) -> None:
    if arr.shape != shape:
        raise InvalidInputError(f"{name} must have shape {shape}, got {arr.shape}")


def check_finite(arr: NDArray[Any], name: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must be finite (found NaN or inf)")


def one_dim(value: ArrayLike, name: str, kinds: str, dtype: type[np.generic]) -> NDArray[Any]:
    arr = as_array(value, name, kinds, dtype)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got {arr.ndim} dimensions")
    return arr
