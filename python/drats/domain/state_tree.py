"""Nested state (dicts, lists, tuples, arrays, scalars) to a flat dict of numpy arrays and back.

A checkpoint is one ``.npz`` file read with ``allow_pickle=False``, so nothing in it can run
code on load. Nested states (an optimiser's ``state_dict``, say) are stored as a JSON skeleton
whose array leaves are replaced by ``{"$a": i}`` and kept beside it under ``"<prefix>i"``.
Dict keys may be ``str`` or ``int`` (both survive the round trip); tuples stay tuples.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

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
