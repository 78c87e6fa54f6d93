"""Hedge task sampling in pure numpy: the DoReMi-style exponentiated-gradient baseline on the
DRATS return gaps (the earlier variant of the authors' code).

It keeps the DRATS window statistics (:class:`~drats.adapters.samplers.window_stats.WindowStats`)
and draws (:class:`~drats.adapters.samplers.alias_draws.AliasDraws`), and shares the DRATS
state-dict layout with its own settings in place of the mirror-ascent ones. A state dict holds
only numpy arrays, Python scalars and strings, and includes the draw stream, so a restored
sampler draws the same sequence; a bad one raises CheckpointError and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.samplers.alias_draws import AliasDraws
from drats.adapters.samplers.window_stats import WindowStats, read_sampler_state, sampler_state
from drats.domain.checks import (
    as_finite_float,
    as_floor,
    as_fraction,
    as_task_count,
    default_floor,
)
from drats.domain.drats_math import hedge_step
from drats.domain.ports import StateDict, TaskSampler


class HedgeSampler(TaskSampler):
    """DoReMi-style Hedge on the DRATS return gaps (the earlier variant of the authors' code).

    Statistics are those of DRATS: ``g_i = (tau_i - Rbar_i) / tau_i`` over the window, with
    ``Rbar_i = 0`` (``g_i = 1``) for a task without a finished episode in the window, and the
    adaptive target (tau_i becomes the best return once the success ring says solved). The
    update is :func:`~drats.domain.drats_math.hedge_step` applied to q itself::

        w <- q * exp(lr * max(g, 0)); normalise; w <- (1 - c) w + c / K;
        w <- max(w, min_prob); q <- w / sum(w)

    Because of the last renormalisation an entry can end slightly below ``min_prob``; that is
    the variant as published, kept as is.

    Args:
        num_tasks: K >= 1.
        lr: exponentiated-gradient step (finite, >= 0).
        smoothing: mixing weight c of the uniform distribution, in [0, 1].
        min_prob: lower clip before the final renormalisation; None means 1/(4K). Needs
            ``0 <= min_prob <= 1/K``.
        target: initial target return, a scalar or one value per task (finite, > 0).
        adaptive_target: as in :class:`~drats.adapters.samplers.numpy_drats.NumpyDratsSampler`.
        success_window: length of the per-task ring of success flags (>= 1).
        success_threshold: the ring's mean above which a task is solved for good, in [0, 1).
        seed: seed of the draw stream.
        gap: ``"target"`` (the paper's gaps) or ``"range"`` (any reward scale), as
            :class:`~drats.adapters.samplers.numpy_drats.NumpyDratsSampler`.
    """

    kind = "hedge"

    def __init__(
        self,
        num_tasks: int,
        *,
        lr: float = 1.0,
        smoothing: float = 0.1,
        min_prob: float | None = None,
        target: float | Sequence[float] = 5000.0,
        adaptive_target: bool = True,
        success_window: int = 50,
        success_threshold: float = 0.5,
        seed: int = 0,
        gap: str = "target",
    ) -> None:
        k = as_task_count(num_tasks)
        lr_value = as_finite_float(lr, "lr", minimum=0.0)
        smoothing_value = as_fraction(smoothing, "smoothing")
        floor = default_floor(k) if min_prob is None else as_floor(min_prob, k, "min_prob")
        self._stats = WindowStats(
            k,
            target=target,
            adaptive_target=adaptive_target,
            success_window=success_window,
            success_threshold=success_threshold,
            gap_scale=lr_value,  # what the Hedge step multiplies the gaps by
            gap=gap,
        )
        self._config: dict[str, Any] = {
            "kind": self.kind,
            "num_tasks": k,
            **self._stats.settings,
            "lr": lr_value,
            "smoothing": smoothing_value,
            "min_prob": floor,
        }
        self._draws = AliasDraws(k, seed)

    @property
    def num_tasks(self) -> int:
        return int(self._config["num_tasks"])

    @property
    def probs(self) -> NDArray[np.float64]:
        return self._draws.probs

    @property
    def gaps(self) -> NDArray[np.float64]:
        return self._stats.gaps

    @property
    def targets(self) -> NDArray[np.float64]:
        """float64[K], the current target returns (adaptive ones included)."""
        return self._stats.targets

    def sample(self, n: int) -> NDArray[np.int64]:
        return self._draws.sample(n)

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        self._stats.observe(task_ids, returns, successes)

    def update(self) -> NDArray[np.float64]:
        """One Hedge step on this window's gaps, then a window reset; returns the new q."""
        c = self._config
        gaps = self._stats.return_gaps()
        q = hedge_step(
            self._draws.probs, gaps, lr=c["lr"], smoothing=c["smoothing"], min_prob=c["min_prob"]
        )
        self._draws.set_probs(q)
        self._stats.close_window(gaps)
        return self._draws.probs

    def state_dict(self) -> StateDict:
        return sampler_state(self._config, self._stats, self._draws)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``; CheckpointError (sampler unchanged) if anything is off."""
        probs, stats, rng = read_sampler_state(state, self._config, self._stats)
        self._draws.load(probs, rng)
        self._stats = stats
