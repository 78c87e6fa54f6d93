"""Learning Progress task sampling in pure numpy: the DRATS mirror-ascent update driven by the
absolute change of each task's mean return between windows, with solved tasks set to the floor.

It keeps the DRATS window statistics (:class:`~drats.adapters.samplers.window_stats.WindowStats`)
and draws (:class:`~drats.adapters.samplers.alias_draws.AliasDraws`), and shares the DRATS
state-dict layout plus its own entry ``prev_means``. A state dict holds only numpy arrays,
Python scalars and strings, and includes the draw stream, so a restored sampler draws the same
sequence; a bad one raises CheckpointError and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.samplers.alias_draws import AliasDraws
from drats.adapters.samplers.gap_settings import mirror_settings
from drats.adapters.samplers.window_stats import WindowStats, read_sampler_state, sampler_state
from drats.domain.checks import as_fraction, as_task_count
from drats.domain.drats_math import mirror_ascent_step, project_floor
from drats.domain.errors import CheckpointError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.state_tree import as_state_arrays

#: Added to ``max(s)`` when Learning Progress normalises its scores (as the paper notes give it).
LP_NORMALISER_OFFSET = 0.01


class LearningProgressSampler(TaskSampler):
    """Learning Progress: the DRATS mirror-ascent update driven by |change of mean return|.

    At each ``update``, for every task::

        Rbar_i = mean training return over this window      if the task finished an episode
               = Rbar_i of the previous window (carried)     otherwise
        raw_i  = |Rbar_i - Rbar_i(previous window)|          (0 when carried, see below)
        s_i    = raw_i / (max_j raw_j + 0.01)                 in [0, 1)
        q'     = mirror_ascent_step(q, s, eta, step_size, eps)

    then every task whose success ring is full (its last ``success_window`` training episodes)
    with a success rate strictly above ``solved_threshold`` is set to the floor.

    Choices for points the paper leaves open:

    * A task unvisited in a window carries its previous mean, so its score is 0 (no evidence
      of progress) instead of a spurious jump to the "Rbar = 0" convention of DRATS.
    * A task's first measured window has no previous mean to compare with: its score is 0 and
      the mean becomes its reference. So the first ``update`` leaves a uniform q uniform.
    * The solved rule reads the current ring, so it is not sticky: a task whose success rate
      falls back to ``solved_threshold`` or below leaves the floor. It acts on the stored q,
      which the next mirror step starts from.
    * Floor-setting math: let S be the solved set, U the rest and q' the mirror step's output
      (every ``q'_i >= eps``, as it comes out of ``project_floor``). The new q is
      ``project_floor(q' with q'_S = 0, eps)``: ``q_S = eps`` and
      ``q_U = q'_U (1 - eps |S|) / q'(U)``. Since ``q'(U) = 1 - q'(S) <= 1 - eps |S|``, the
      factor is >= 1, so every ``q_U >= eps`` and q sums to 1 — it is the KL projection of q'
      onto ``{q_S = eps, q >= eps}``. If every task is solved, q is uniform (a floor on all
      K tasks can only sum to 1 then). With ``eps = 0`` solved tasks get probability 0.
    * ``gaps`` reports the normalised scores s used by the last update.
    * The DRATS bookkeeping of the window statistics (targets fixed at 1, ``solved`` = ever
      above the threshold) is kept so that checkpoints share the DRATS layout and validation;
      LP ignores it. ``solved_threshold`` is stored as the ``success_threshold`` entry, which
      the success ring uses; LP's own entry is ``prev_means``.

    Args:
        num_tasks: K >= 1.
        eta: KL regularisation strength (> 0).
        step_size: mirror-ascent step (>= 0, step_size / eta <= 1); 0 keeps q where it is
            (the solved rule still applies).
        eps: probability floor; None means 1/(4K). Needs 0 <= eps and eps * K <= 1.
        success_window: length of the per-task ring of success flags (>= 1).
        solved_threshold: success rate above which a task is set to the floor, in [0, 1).
        seed: seed of the draw stream.
    """

    kind = "lp"

    def __init__(
        self,
        num_tasks: int,
        *,
        eta: float = 8.0,
        step_size: float = 0.5,
        eps: float | None = None,
        success_window: int = 50,
        solved_threshold: float = 0.9,
        seed: int = 0,
    ) -> None:
        threshold = as_fraction(solved_threshold, "solved_threshold", upper_open=True)
        k = as_task_count(num_tasks)
        mirror = mirror_settings(k, eta=eta, step_size=step_size, eps=eps)
        self._stats = WindowStats(
            k,
            target=1.0,
            adaptive_target=False,
            success_window=success_window,
            success_threshold=threshold,
            gap_scale=mirror["step_size"],  # what the mirror step multiplies the scores by
        )
        self._config: dict[str, Any] = {
            "kind": self.kind,
            "num_tasks": k,
            **mirror,
            **self._stats.settings,
        }
        self._draws = AliasDraws(k, seed)
        self._prev_means = np.zeros(k)

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
        """float64[K], the targets of the shared statistics (all 1; LP does not use them)."""
        return self._stats.targets

    @property
    def solved_now(self) -> NDArray[np.bool_]:
        """bool[K], the tasks the solved rule puts on the floor now (full ring above the
        threshold)."""
        return self._stats.ring_above_threshold()

    def sample(self, n: int) -> NDArray[np.int64]:
        return self._draws.sample(n)

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        self._stats.observe(task_ids, returns, successes)

    def update(self) -> NDArray[np.float64]:
        """Score, one mirror step, the solved rule, then a window reset; returns the new q."""
        c, stats = self._config, self._stats
        visited = stats.visited()
        means = np.where(visited, stats.window_means(), self._prev_means)
        raw = np.where(visited & stats.measured(), np.abs(means - self._prev_means), 0.0)
        scores = raw / (raw.max() + LP_NORMALISER_OFFSET)
        q = self._draws.probs
        if c["step_size"] > 0:
            q = mirror_ascent_step(q, scores, eta=c["eta"], step_size=c["step_size"], eps=c["eps"])
        solved = self.solved_now
        if solved.any():
            q = project_floor(np.where(solved, 0.0, q), c["eps"])
        self._draws.set_probs(q)
        self._prev_means = means
        stats.close_window(scores)
        return self._draws.probs

    def state_dict(self) -> StateDict:
        extra = {"prev_means": self._prev_means}
        return sampler_state(self._config, self._stats, self._draws, extra)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``; CheckpointError (sampler unchanged) if anything is off."""
        probs, stats, rng = read_sampler_state(state, self._config, self._stats)
        prev = as_state_arrays(state, {"prev_means": ((self.num_tasks,), "f")})["prev_means"]
        if not np.all(np.isfinite(prev)):
            raise CheckpointError("state dict 'prev_means' must be finite")
        self._draws.load(probs, rng)
        self._stats = stats
        self._prev_means = prev.astype(np.float64, copy=True)
