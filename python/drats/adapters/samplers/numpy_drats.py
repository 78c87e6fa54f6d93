"""DRATS task sampling in pure numpy: the exact oracle of the C++ :class:`drats.DratsSampler`.
Same constructor, semantics, draws (the same counter-based stream and alias table), errors and
state-dict layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.samplers.alias_draws import AliasDraws
from drats.adapters.samplers.gap_settings import mirror_settings
from drats.adapters.samplers.window_stats import WindowStats, read_sampler_state, sampler_state
from drats.domain.checks import as_task_count
from drats.domain.drats_math import mirror_ascent_step
from drats.domain.ports import StateDict, TaskSampler


class NumpyDratsSampler(TaskSampler):
    """DRATS task sampling in numpy, the exact oracle of :class:`drats.DratsSampler`
    (``cpp/include/drats/gap_sampler.h``): same statistics, update, draws and errors.

    Args:
        num_tasks: K >= 1.
        eta: KL regularisation strength (> 0); the fixed point is softmax(eta * gap).
        step_size: mirror-ascent step (>= 0, step_size / eta <= 1); 0 keeps q uniform.
        eps: probability floor; None means 1 / (4K). Needs 0 <= eps and eps * K <= 1.
        target: initial target return, a scalar or one value per task (finite, > 0).
        adaptive_target: once a task is solved, its target becomes its best return so far
            (if that is > 0), refreshed at each of its later episode ends.
        success_window: length of the per-task ring of success flags (>= 1).
        success_threshold: a task is solved for good when its full ring's mean exceeds this
            (in [0, 1)).
        seed: seed of the draw stream (a :class:`~drats.domain.rng.CounterRng`).
        gap: ``"target"``, the paper's ``(tau - Rbar) / tau``, or ``"range"``,
            ``(Rmax - Rbar) / (Rmax - Rmin)`` clamped to [0, 1] for any reward scale (targets
            unused; see :func:`~drats.adapters.samplers.window_stats.range_gaps`).
    """

    kind = "drats"

    def __init__(
        self,
        num_tasks: int,
        *,
        eta: float = 8.0,
        step_size: float = 0.5,
        eps: float | None = None,
        target: float | Sequence[float] = 5000.0,
        adaptive_target: bool = True,
        success_window: int = 50,
        success_threshold: float = 0.5,
        seed: int = 0,
        gap: str = "target",
    ) -> None:
        k = as_task_count(num_tasks)
        mirror = mirror_settings(k, eta=eta, step_size=step_size, eps=eps)
        self._stats = WindowStats(
            k,
            target=target,
            adaptive_target=adaptive_target,
            success_window=success_window,
            success_threshold=success_threshold,
            gap_scale=mirror["step_size"],  # what the mirror step multiplies the gaps by
            gap=gap,
        )
        self._config: dict[str, Any] = {
            "kind": self.kind,
            "num_tasks": k,
            **mirror,
            **self._stats.settings,
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
    def gap(self) -> str:
        """``"target"`` or ``"range"``: the gap definition ``update`` weighs."""
        return self._stats.gap

    @property
    def targets(self) -> NDArray[np.float64]:
        """float64[K], the current target returns (adaptive ones included)."""
        return self._stats.targets

    def sample(self, n: int) -> NDArray[np.int64]:
        """``n`` task ids (an int >= 0, not a bool) drawn through the alias table of ``probs``."""
        return self._draws.sample(n)

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        self._stats.observe(task_ids, returns, successes)

    def update(self) -> NDArray[np.float64]:
        """One mirror-ascent step on this window's gaps, then a window reset; returns q."""
        c = self._config
        gaps = self._stats.return_gaps()
        q = self._draws.probs
        if c["step_size"] > 0:  # step 0 (Uniform) leaves q exactly as it is
            q = mirror_ascent_step(q, gaps, eta=c["eta"], step_size=c["step_size"], eps=c["eps"])
        self._draws.set_probs(q)
        self._stats.close_window(gaps)
        return self._draws.probs

    def state_dict(self) -> StateDict:
        return sampler_state(self._config, self._stats, self._draws)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        probs, stats, rng = read_sampler_state(state, self._config, self._stats)
        self._draws.load(probs, rng)
        self._stats = stats
