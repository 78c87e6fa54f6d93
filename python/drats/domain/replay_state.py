"""The state-dict layout of a per-task replay, shared by every ReplayBuffer that keeps it (the
C++ replay and its numpy twin, and the test kit's fake, so states move between them): the
configuration entries, the array entries with their shapes and dtype kinds, and the one check
that a state dict is whole and consistent before anything is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from drats.domain.errors import CheckpointError
from drats.domain.state_tree import as_state_arrays, as_state_ints, check_state_config


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
    a = as_state_arrays(state, replay_state_spec(k, cap, obs_shape, action_shape))
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
    sizes = as_state_ints(a["sizes"], "sizes", 0, cap)  # a huge unsigned value is refused
    positions = as_state_ints(a["positions"], "positions", 0)
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
