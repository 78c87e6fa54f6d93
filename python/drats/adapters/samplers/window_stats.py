"""The per-task window statistics every numpy gap sampler keeps, and the state-dict layout
they share.

:class:`WindowStats` records finished training episodes: window sums and counts of returns,
episode counts, best returns, a ring of success flags per task with its sticky ``solved``
flag, the current targets (with the adaptive-target rule), and the scores of the last closed
window (``gaps``). Its ``observe`` is the checked entry point of the samplers; its checks, their
order and their messages are those of the C++ twin (``cpp/include/drats/gap_sampler.h``).

The samplers hold one (DRATS oracle, Uniform, Hedge, Learning Progress, SMT) next to their
:class:`~drats.adapters.samplers.alias_draws.AliasDraws`; :func:`sampler_state` and
:func:`read_sampler_state` lay out and check the state dict they all share: the config, the
base targets, q, these statistics, the sampler's own entries, then the draw stream.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.samplers.alias_draws import AliasDraws, checked_probs
from drats.adapters.samplers.gap_settings import RANGE_FLOOR, sampler_state_spec, window_settings
from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_vector,
    check_binary,
    check_shape,
)
from drats.domain.drats_math import return_gaps
from drats.domain.errors import CheckpointError, InvalidInputError, UnknownTaskError
from drats.domain.ports import StateDict
from drats.domain.state_tree import as_state_arrays, check_state_config

_FLOATS = ("gaps", "targets", "window_sums", "best_returns", "worst_returns")
_INTS = ("window_counts", "episodes", "history_len", "history_pos")


def range_gaps(
    best: NDArray[np.float64],
    worst: NDArray[np.float64],
    window_sums: NDArray[np.float64],
    window_counts: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The range gaps ``(Rmax - Rbar) / (Rmax - Rmin)`` clamped to [0, 1] (twin of the C++
    ``RangeGap``): ``Rmax`` / ``Rmin`` the highest / lowest training return ever observed on
    the task, ``Rbar`` its mean return in the window. A task without an episode in the window
    gets 1, and so does one whose spread ``Rmax - Rmin`` is at most ``RANGE_FLOOR`` times
    ``max(|Rmax|, |Rmin|)`` (no spread seen yet). NaN where the window mean or the ratio is not
    finite (an overflowing sum or difference)."""
    visited = window_counts > 0
    with np.errstate(over="ignore", invalid="ignore"):
        spread = best - worst
        wide = visited & (spread > RANGE_FLOOR * np.maximum(np.abs(best), np.abs(worst)))
        mean = np.divide(window_sums, window_counts, out=np.zeros_like(window_sums), where=visited)
        ratio = np.divide(best - mean, spread, out=np.ones_like(window_sums), where=wide)
    finite = np.isfinite(ratio) & ~(visited & ~np.isfinite(mean))
    out = np.where(finite, np.clip(ratio, 0.0, 1.0), np.nan)
    return np.asarray(out, dtype=np.float64)


class WindowStats:
    """Per-task statistics of the training episodes since the last window reset, and of all
    of them.

    For every task: the sum and count of the returns of this window, the episode count, the
    best return, a ring of the last ``success_window`` success flags and the sticky ``solved``
    flag (set once a full ring's mean exceeds ``success_threshold``), the current target (with
    ``adaptive_target``, a solved task's target becomes its best return once that is > 0), and
    ``gaps``, the per-task scores the sampler derived from the last closed window. With
    ``gap="range"`` it also keeps each task's worst return, and :meth:`return_gaps` gives the
    range gaps (:func:`range_gaps`) instead of the paper's target gaps.

    Args:
        num_tasks: K >= 1 (already checked).
        target: initial target return, a scalar or one value per task (finite, > 0).
        adaptive_target: whether solved tasks take their best return as target.
        success_window: length of the ring of success flags (>= 1, K * window <= MAX_HISTORY).
        success_threshold: the full ring's mean above which a task is solved, in [0, 1).
        gap_scale: what the sampler's update multiplies the gaps by; ``observe`` refuses
            returns that would make a gap, or the gap times this, overflow float64.
        gap: ``"target"`` (the paper's ``(tau - Rbar) / tau``) or ``"range"``
            (``(Rmax - Rbar) / (Rmax - Rmin)``, any reward scale, targets unused).

    A bad setting raises ConfigError naming it (see
    :func:`~drats.adapters.samplers.gap_settings.window_settings`).
    """

    def __init__(
        self,
        num_tasks: int,
        *,
        target: float | Sequence[float],
        adaptive_target: object,
        success_window: object,
        success_threshold: object,
        gap_scale: float,
        gap: object = "target",
    ) -> None:
        self._settings, self._base_targets = window_settings(
            num_tasks,
            target=target,
            adaptive_target=adaptive_target,
            success_window=success_window,
            success_threshold=success_threshold,
            gap=gap,
        )
        self._gap_scale = float(gap_scale)
        k, window = num_tasks, self.window
        self._s: dict[str, NDArray[Any]] = {
            "gaps": np.zeros(k),
            "targets": self._base_targets.copy(),
            "window_sums": np.zeros(k),
            "best_returns": np.full(k, -np.inf),
        }
        if self.gap == "range":
            self._s["worst_returns"] = np.full(k, np.inf)
        self._s |= {
            "window_counts": np.zeros(k, dtype=np.int64),
            "episodes": np.zeros(k, dtype=np.int64),
            "history_len": np.zeros(k, dtype=np.int64),
            "history_pos": np.zeros(k, dtype=np.int64),
            "history": np.zeros((k, window), dtype=bool),
            "solved": np.zeros(k, dtype=bool),
        }

    # ------------------------------------------------------------------------------ settings

    @property
    def num_tasks(self) -> int:
        return int(self._base_targets.shape[0])

    @property
    def window(self) -> int:
        """The length of the ring of success flags."""
        return int(self._settings["success_window"])

    @property
    def threshold(self) -> float:
        """The success rate above which a full ring marks its task solved."""
        return float(self._settings["success_threshold"])

    @property
    def gap(self) -> str:
        """``"target"`` or ``"range"``: which gaps :meth:`return_gaps` gives."""
        return str(self._settings.get("gap", "target"))

    @property
    def settings(self) -> dict[str, Any]:
        """The config entries ``adaptive_target``, ``success_window``, ``success_threshold``
        (and ``gap`` for the range gap)."""
        return dict(self._settings)

    @property
    def base_targets(self) -> NDArray[np.float64]:
        """float64[K], the targets given at construction (a copy)."""
        return self._base_targets.copy()

    # ------------------------------------------------------------------------ what is read

    @property
    def targets(self) -> NDArray[np.float64]:
        """float64[K], the current targets (a copy)."""
        return self._s["targets"].copy()

    @property
    def gaps(self) -> NDArray[np.float64]:
        """float64[K], the scores recorded by the last :meth:`close_window` (a copy)."""
        return self._s["gaps"].copy()

    def visited(self) -> NDArray[np.bool_]:
        """bool[K], the tasks with a finished episode in this window."""
        out: NDArray[np.bool_] = self._s["window_counts"] > 0
        return out

    def measured(self) -> NDArray[np.bool_]:
        """bool[K], the tasks with a finished episode before this window."""
        out: NDArray[np.bool_] = (self._s["episodes"] - self._s["window_counts"]) > 0
        return out

    def window_means(self) -> NDArray[np.float64]:
        """float64[K], the mean return of this window; 0 where the task had no episode."""
        sums, counts = self._s["window_sums"], self._s["window_counts"]
        out: NDArray[np.float64] = np.divide(
            sums, counts, out=np.zeros_like(sums), where=counts > 0
        )
        return out

    def return_gaps(self) -> NDArray[np.float64]:
        """float64[K], the DRATS gaps of this window: ``(tau - Rbar) / tau`` (Rbar = 0 for a
        task without an episode in it), or with ``gap="range"`` the range gaps of
        :func:`range_gaps`."""
        s = self._s
        if self.gap == "range":
            return range_gaps(
                s["best_returns"], s["worst_returns"], s["window_sums"], s["window_counts"]
            )
        return return_gaps(s["targets"], s["window_sums"], s["window_counts"])

    def ring_above_threshold(self) -> NDArray[np.bool_]:
        """bool[K], the tasks whose ring is full now with a success rate above the threshold
        (unlike ``solved``, not sticky)."""
        s, w = self._s, self.window
        rate = s["history"].sum(axis=1) / w
        out: NDArray[np.bool_] = (s["history_len"] == w) & (rate > self.threshold)
        return out

    # ------------------------------------------------------------------------------ changes

    def observe(
        self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike
    ) -> NDArray[np.int64]:
        """Record finished episodes; returns the checked task ids (int64[n]).

        All or nothing: a bad argument (InvalidDtypeError, InvalidInputError, UnknownTaskError
        naming it) or returns whose gap would overflow leave every statistic as it was.
        """
        ids = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        ret = as_vector(returns, "returns", NUMERIC_KINDS, np.float64)
        ok = as_vector(successes, "successes", "biu", np.int64)  # the C++ twin's kinds
        check_shape(ret, ids.shape, "returns", symbols=("n",))
        check_shape(ok, ids.shape, "successes", symbols=("n",))
        check_binary(ok, "successes")
        # Episode by episode, as the C++ twin checks: task id first, then the return.
        k = self.num_tasks
        unknown = (ids < 0) | (ids >= k)
        failed = np.flatnonzero(unknown | ~np.isfinite(ret))
        if failed.size:
            i = int(failed[0])
            if unknown[i]:
                raise UnknownTaskError(f"task_ids: task id {int(ids[i])} is outside [0, {k})")
            raise InvalidInputError(f"returns must be finite, got {ret[i]} at position {i}")
        # Applied to a copy, committed only if the next update can weigh every task.
        s = {key: value.copy() for key, value in self._s.items()}
        w, threshold = self.window, self.threshold
        adaptive = self._settings["adaptive_target"]
        ranged = self.gap == "range"
        for t, r, hit in zip(ids.tolist(), ret.tolist(), ok.tolist(), strict=True):
            with np.errstate(over="ignore"):  # an overflowing sum is refused below
                s["window_sums"][t] += r
            s["window_counts"][t] += 1
            s["episodes"][t] += 1
            s["best_returns"][t] = max(s["best_returns"][t], r)
            if ranged:
                s["worst_returns"][t] = min(s["worst_returns"][t], r)
            s["history"][t, s["history_pos"][t]] = bool(hit)
            s["history_pos"][t] = (s["history_pos"][t] + 1) % w
            s["history_len"][t] = min(w, s["history_len"][t] + 1)
            if not s["solved"][t] and s["history_len"][t] == w:
                s["solved"][t] = s["history"][t].sum() / w > threshold
            if adaptive and s["solved"][t] and s["best_returns"][t] > 0:
                s["targets"][t] = s["best_returns"][t]
        # The gap of every task observed here, as the next update computes it, must be finite
        # and stay finite times the gap scale (returns near the float64 limit would overflow).
        seen, first = np.unique(ids, return_index=True)
        seen = seen[np.argsort(first)]  # in batch order, as the C++ twin reports them
        sums, counts, targets = (
            s[key][seen] for key in ("window_sums", "window_counts", "targets")
        )
        with np.errstate(over="ignore", invalid="ignore"):
            if ranged:
                gaps = range_gaps(s["best_returns"][seen], s["worst_returns"][seen], sums, counts)
            else:
                gaps = (targets - sums / counts) / targets
            bad = ~(np.isfinite(gaps) & np.isfinite(self._gap_scale * gaps))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"returns: task {int(seen[i])}'s window would give a gap that is not finite "
                "(its sum, or its ratio to the target or to the return range, overflows "
                "float64); nothing was recorded"
            )
        self._s = s
        return ids

    def close_window(self, gaps: NDArray[np.float64]) -> None:
        """End the window: record ``gaps`` (float64[K], the scores the sampler derived from
        it) and reset the window sums and counts."""
        self._s["gaps"] = gaps
        self._s["window_sums"][:] = 0.0
        self._s["window_counts"][:] = 0

    # --------------------------------------------------------------------------- state dict

    def state_dict(self) -> StateDict:
        """The statistics' entries of the state dict (copies), ``gaps`` to ``solved``."""
        return {key: value.copy() for key, value in self._s.items()}

    def loaded(self, arrays: Mapping[str, NDArray[Any]]) -> WindowStats:
        """New statistics (same settings) from a state dict's arrays, already checked for shape
        and dtype kind (:func:`read_sampler_state`); CheckpointError naming the first entry out
        of range. ``self`` is left as it is."""
        a, w = arrays, self.window
        if not np.all(np.isfinite(a["targets"]) & (a["targets"] > 0)):
            raise CheckpointError("state dict 'targets' must be finite and > 0")
        for key in ("window_sums", "gaps"):
            if not np.all(np.isfinite(a[key])):
                raise CheckpointError(f"state dict {key!r} must be finite")
        best = a["best_returns"]
        if np.any(np.isnan(best) | (best == np.inf)):
            raise CheckpointError("state dict 'best_returns' must be finite or -inf")
        worst = a.get("worst_returns")
        if worst is not None and np.any(np.isnan(worst) | (worst == -np.inf)):
            raise CheckpointError("state dict 'worst_returns' must be finite or +inf")
        counts, episodes = a["window_counts"], a["episodes"]
        for key, bad in (
            ("window_counts", counts < 0),
            ("episodes", episodes < counts),
            ("history_len", (a["history_len"] < 0) | (a["history_len"] > w)),
            ("history_pos", (a["history_pos"] < 0) | (a["history_pos"] >= w)),
        ):
            if np.any(bad):
                raise CheckpointError(f"state dict {key!r} is out of range: {a[key]}")
        new = {key: a[key].astype(np.float64, copy=True) for key in _FLOATS if key in a}
        new.update({key: a[key].astype(np.int64, copy=True) for key in _INTS})
        new["history"] = a["history"].astype(bool, copy=True)
        new["solved"] = a["solved"].astype(bool, copy=True)
        out = copy.copy(self)
        out._s = {key: new[key] for key in self._s}  # in state-dict order
        return out


def check_gap_entry(state: Mapping[str, Any], gap: str) -> None:
    """CheckpointError unless ``state`` was saved with the gap ``gap`` (a state without a
    ``gap`` entry is a target-gap one: every state written before the range gap)."""
    saved = np.asarray(state.get("gap", "target"))
    if saved.ndim != 0 or saved.dtype.kind != "U" or str(saved) != gap:
        raise CheckpointError(f"state dict 'gap' is {state.get('gap')!r}, this sampler has {gap!r}")


def sampler_state(
    config: Mapping[str, Any],
    stats: WindowStats,
    draws: AliasDraws,
    extra: Mapping[str, NDArray[Any]] | None = None,
) -> StateDict:
    """The state dict of a windowed sampler: ``config``, ``base_targets``, ``probs``, the
    statistics, the sampler's own ``extra`` entries (copied), then ``rng``."""
    state: StateDict = dict(config)
    state["base_targets"] = stats.base_targets
    state["probs"] = draws.probs
    state.update(stats.state_dict())
    state.update({key: value.copy() for key, value in (extra or {}).items()})
    state["rng"] = draws.rng_state()
    return state


def read_sampler_state(
    state: Mapping[str, Any], config: Mapping[str, Any], stats: WindowStats
) -> tuple[NDArray[np.float64], WindowStats, NDArray[Any]]:
    """Check the shared part of a windowed sampler's saved state: its config (``config`` and
    the base targets of ``stats``), the shape and dtype of every shared array, q, then the
    statistics. Returns ``(probs, statistics, rng state)`` to install; installs nothing.
    CheckpointError naming the first bad entry."""
    check_state_config(state, {**config, "base_targets": stats.base_targets})
    check_gap_entry(state, stats.gap)
    arrays = as_state_arrays(state, sampler_state_spec(stats.num_tasks, stats.window, stats.gap))
    probs = checked_probs(arrays["probs"])
    return probs, stats.loaded(arrays), arrays["rng"]
