"""Nested state (dicts, lists, tuples, arrays, scalars) to a flat dict of numpy arrays and back.

A checkpoint is one ``.npz`` file read with ``allow_pickle=False``, so nothing in it can run
code on load. Nested states (an optimiser's ``state_dict``, say) are stored as a JSON skeleton
whose array leaves are replaced by ``{"$a": i}`` and kept beside it under ``"<prefix>i"``.
Dict keys may be ``str`` or ``int`` (both survive the round trip); tuples stay tuples.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.domain.errors import CheckpointError

_SKELETON = "tree"


def _encode(node: Any, leaves: list[np.ndarray[Any, Any]]) -> Any:
    if isinstance(node, np.ndarray | np.generic):
        leaves.append(np.asarray(node))
        return {"$a": len(leaves) - 1}
    if isinstance(node, dict):
        items = []
        for key, value in node.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise TypeError(f"state keys must be str or int, got {key!r}")
            items.append([key, _encode(value, leaves)])
        return {"$d": items}
    if isinstance(node, tuple):
        return {"$t": [_encode(v, leaves) for v in node]}
    if isinstance(node, list):
        return [_encode(v, leaves) for v in node]
    if node is None or isinstance(node, bool | int | str):
        return node
    if isinstance(node, float):
        return node if math.isfinite(node) else {"$f": repr(node)}
    raise TypeError(f"cannot store a {type(node).__name__} in a state tree")


def flatten_tree(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{prefix + "tree": json skeleton, prefix + "0": leaf 0, ...}``."""
    leaves: list[np.ndarray[Any, Any]] = []
    skeleton = json.dumps(_encode(tree, leaves))
    out: dict[str, Any] = {prefix + _SKELETON: skeleton}
    out.update({f"{prefix}{i}": leaf for i, leaf in enumerate(leaves)})
    return out


def _decode(node: Any, flat: Any, prefix: str) -> Any:
    if isinstance(node, list):
        return [_decode(v, flat, prefix) for v in node]
    if isinstance(node, dict):
        if "$a" in node:
            key = f"{prefix}{int(node['$a'])}"
            if key not in flat:
                raise CheckpointError(f"state has no array {key!r}")
            return np.asarray(flat[key])
        if "$d" in node:
            return {k: _decode(v, flat, prefix) for k, v in node["$d"]}
        if "$t" in node:
            return tuple(_decode(v, flat, prefix) for v in node["$t"])
        if "$f" in node:
            return float(node["$f"])
        raise CheckpointError(f"unknown state node {sorted(node)}")
    return node


def unflatten_tree(flat: Any, prefix: str = "") -> Any:
    """Inverse of :func:`flatten_tree`; ``flat`` may be an ``np.load`` result."""
    key = prefix + _SKELETON
    if key not in flat:
        raise CheckpointError(f"state has no {key!r} entry")
    try:
        skeleton = json.loads(str(np.asarray(flat[key])))
        return _decode(skeleton, flat, prefix)
    except (ValueError, TypeError, KeyError) as err:
        raise CheckpointError(f"state tree {key!r} is corrupt: {err}") from None


# --------------------------------------------------------------------------- state checks


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


def as_state_arrays(
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


def as_state_ints(
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


def check_finite_tree(node: Any, path: str = "") -> None:
    """CheckpointError naming the entry (its dotted path below ``path``) unless every float
    in the state tree ``node`` is finite."""
    if isinstance(node, np.ndarray):
        if node.dtype.kind in "fc" and not np.all(np.isfinite(node)):
            raise CheckpointError(f"state entry {path!r} must be finite (it holds NaN or inf)")
    elif isinstance(node, float):
        if not math.isfinite(node):
            raise CheckpointError(f"state entry {path!r} must be finite, got {node}")
    elif isinstance(node, dict):
        for key, value in node.items():
            check_finite_tree(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            check_finite_tree(value, f"{path}.{i}" if path else str(i))
