"""The settings checks and state-dict layout shared by the gap samplers: DRATS in C++
(:mod:`~drats.adapters.samplers.drats`), and the numpy samplers built on
:class:`~drats.adapters.samplers.window_stats.WindowStats` (the DRATS oracle, Uniform, Hedge,
Learning Progress, SMT), whose checkpoints all share this layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.domain.checks import (
    as_finite_float,
    as_flag,
    as_floor,
    as_per_task,
    as_positive_int,
    as_step,
    as_task_count,
    default_floor,
)
from drats.domain.errors import ConfigError
from drats.domain.limits import MAX_HISTORY


def mirror_settings(k: int, *, eta: object, step_size: object, eps: object) -> dict[str, Any]:
    """Validated mirror-ascent settings of a sampler over ``k`` tasks (ConfigError naming the
    bad one), as config entries: ``eta``, ``step_size`` and the floor ``eps`` (None means
    1/(4K))."""
    eta_value = as_finite_float(eta, "eta")
    step_value = as_finite_float(step_size, "step_size")
    as_step(eta_value, step_value)
    eps_value = default_floor(k) if eps is None else as_floor(as_finite_float(eps, "eps"), k)
    return {"eta": eta_value, "step_size": step_value, "eps": eps_value}


#: The gap definitions: ``target``, the paper's ``(tau - Rbar) / tau``, and ``range``,
#: ``(Rmax - Rbar) / (Rmax - Rmin)`` for any reward scale (see ``window_stats.range_gaps``).
GAPS = ("target", "range")
#: The relative spread ``Rmax - Rmin <= RANGE_FLOOR * max(|Rmax|, |Rmin|)`` at or below which
#: a task's returns count as all alike (the C++ core's ``kRangeFloor``).
RANGE_FLOOR = 1e-9


def as_gap(value: object) -> str:
    """``gap``: one of :data:`GAPS` (ConfigError naming the setting otherwise)."""
    if not isinstance(value, str) or value not in GAPS:
        raise ConfigError(f"gap must be 'target' or 'range', got {value!r}")
    return value


def window_settings(
    k: int,
    *,
    target: float | Sequence[float],
    adaptive_target: object,
    success_window: object,
    success_threshold: object,
    gap: object = "target",
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Validated settings of the per-task window statistics over ``k`` tasks (ConfigError
    naming the bad one): the config entries ``adaptive_target``, ``success_window``,
    ``success_threshold`` and, for ``gap="range"`` only, ``gap`` (a state dict without it is
    a target-gap one, as every state written before the range gap), and the per-task base
    targets (a fresh array)."""
    window = as_positive_int(success_window, "success_window")
    if window > MAX_HISTORY // k:  # one flag per task and window slot is kept
        raise ConfigError(
            f"num_tasks * success_window must be at most {MAX_HISTORY}, got {k} * {window}"
        )
    threshold = as_finite_float(success_threshold, "success_threshold")
    if not 0.0 <= threshold < 1.0:
        raise ConfigError(f"success_threshold must be in [0, 1), got {success_threshold}")
    base = as_per_task(target, k, "target").copy()  # never the caller's own array
    if not np.all(np.isfinite(base) & (base > 0)):
        raise ConfigError(f"target must be finite and > 0, got {base}")
    settings: dict[str, Any] = {
        "adaptive_target": as_flag(adaptive_target, "adaptive_target"),
        "success_window": window,
        "success_threshold": threshold,
    }
    if as_gap(gap) == "range":
        settings["gap"] = "range"
    return settings, base


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
    gap: object = "target",
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Validated settings of a gap sampler (ConfigError naming the bad one; checked in the
    order num_tasks, eta, step_size, eps, success_window, success_threshold, target,
    adaptive_target, gap): the config entries of its state dict, and its per-task base
    targets. ``eps=None`` means 1/(4K)."""
    k = as_task_count(num_tasks)
    mirror = mirror_settings(k, eta=eta, step_size=step_size, eps=eps)
    window, base = window_settings(
        k,
        target=target,
        adaptive_target=adaptive_target,
        success_window=success_window,
        success_threshold=success_threshold,
        gap=gap,
    )
    return {"kind": kind, "num_tasks": k, **mirror, **window}, base


def sampler_state_spec(
    num_tasks: int, window: int, gap: str = "target"
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Array entries of a gap-sampler state dict, in order: key -> (shape, dtype kinds). After
    ``probs`` come the window statistics (``worst_returns`` for ``gap="range"`` only), and the
    draw stream ``rng`` ends it."""
    k = num_tasks
    floats = ["probs", "gaps", "targets", "window_sums", "best_returns"]
    floats += ["worst_returns"] if gap == "range" else []
    spec: dict[str, tuple[tuple[int, ...], str]] = {key: ((k,), "f") for key in floats}
    spec.update(
        {key: ((k,), "iu") for key in ("window_counts", "episodes", "history_len", "history_pos")}
    )
    spec.update({"history": ((k, window), "b"), "solved": ((k,), "b"), "rng": ((2,), "u")})
    return spec
