"""Curriculum baselines as TaskSampler adapters in pure numpy: Hedge, Learning Progress and SMT.

All three subclass :class:`~drats.adapters.samplers.numpy_drats.NumpyDratsSampler` and keep its
statistics machinery unchanged: the window sums and counts of training returns, the per-task
ring of success flags, the episode counts, the alias table drawn through a
:class:`~drats.domain.rng.CounterRng`, the argument checks and the checkpoint validation. Each
one replaces only ``update`` (how q moves at the end of a window) and adds the few arrays its
rule needs to the state dict.

State dicts hold only numpy arrays, Python scalars and strings (``np.savez`` /
``np.load(allow_pickle=False)`` round trips them), and include the draw stream, so a restored
sampler draws the same sequence. A bad state raises ``CheckpointError`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.domain.checks import (
    as_finite_float,
    as_floor,
    as_fraction,
    as_per_task,
    as_positive_int,
    as_task_count,
    default_floor,
)
from drats.domain.drats_math import (
    build_alias,
    hedge_step,
    mirror_ascent_step,
    project_floor,
    return_gaps,
)
from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import TaskSampler
from drats.domain.state_tree import as_state_arrays

#: Added to ``max(s)`` when Learning Progress normalises its scores (as the paper notes give it).
LP_NORMALISER_OFFSET = 0.01


def window_means(sums: NDArray[np.float64], counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mean return per task over the window; 0 where the task had no finished episode."""
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)


class WindowedSampler(NumpyDratsSampler):
    """NumpyDratsSampler plus the plumbing the curriculum samplers share.

    ``_close_window`` ends an ``update`` exactly as the DRATS sampler does (reset the window,
    rebuild the alias table). ``load_state_dict`` validates and installs the inherited entries
    through the DRATS checks, then the subclass's own ones through ``_check_extra``; if either
    step fails, the previous state is put back, so a bad state leaves the sampler unchanged.
    """

    def _close_window(self) -> NDArray[np.float64]:
        self._s["window_sums"][:] = 0.0
        self._s["window_counts"][:] = 0
        self._alias = build_alias(self._s["probs"])
        return self.probs

    def _check_extra(self, state: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
        """Validate the subclass's own state entries against the freshly loaded ``self._s``
        (CheckpointError naming the key) and return fresh copies to install."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``; CheckpointError (sampler unchanged) if anything is off."""
        saved_s, saved_alias, saved_rng = self._s, self._alias, self._rng.get_state()
        super().load_state_dict(state)  # replaces self._s by a new dict; never mutates it
        try:
            self._s.update(self._check_extra(state))
        except Exception:
            self._s, self._alias = saved_s, saved_alias
            self._rng.set_state(saved_rng)
            raise


class HedgeSampler(WindowedSampler, TaskSampler):
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
        adaptive_target: as in :class:`NumpyDratsSampler`.
        success_window: length of the per-task ring of success flags (>= 1).
        success_threshold: the ring's mean above which a task is solved for good, in [0, 1).
        seed: seed of the draw stream.
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
    ) -> None:
        k = as_task_count(num_tasks)
        lr_value = as_finite_float(lr, "lr", minimum=0.0)
        smoothing_value = as_fraction(smoothing, "smoothing")
        floor = default_floor(k) if min_prob is None else as_floor(min_prob, k, "min_prob")
        super().__init__(
            k,
            eta=1.0,
            step_size=0.0,
            eps=floor,
            target=target,
            adaptive_target=adaptive_target,
            success_window=success_window,
            success_threshold=success_threshold,
            seed=seed,
        )
        for key in ("eta", "step_size", "eps"):  # the mirror-ascent settings do not apply
            del self._config[key]
        self._config.update({"lr": lr_value, "smoothing": smoothing_value, "min_prob": floor})

    def _gap_scale(self) -> float:
        return float(self._config["lr"])

    def update(self) -> NDArray[np.float64]:
        """One Hedge step on this window's gaps, then a window reset; returns the new q."""
        s, c = self._s, self._config
        s["gaps"] = return_gaps(s["targets"], s["window_sums"], s["window_counts"])
        s["probs"] = hedge_step(
            s["probs"], s["gaps"], lr=c["lr"], smoothing=c["smoothing"], min_prob=c["min_prob"]
        )
        return self._close_window()


class LearningProgressSampler(WindowedSampler, TaskSampler):
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
    * The inherited DRATS bookkeeping (targets fixed at 1, ``solved`` = ever above the
      threshold) is kept so that checkpoints go through the same validation; LP ignores it.
      ``solved_threshold`` is stored as the inherited ``success_threshold`` entry, which the
      inherited success ring uses; LP's own entry is ``prev_means``.

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
        super().__init__(
            num_tasks,
            eta=eta,
            step_size=step_size,
            eps=eps,
            target=1.0,
            adaptive_target=False,
            success_window=success_window,
            success_threshold=threshold,
            seed=seed,
        )
        self._s["prev_means"] = np.zeros(self.num_tasks)

    @property
    def solved_now(self) -> NDArray[np.bool_]:
        """bool[K], the tasks the solved rule puts on the floor now (full ring above the
        threshold)."""
        s, c = self._s, self._config
        w = int(c["success_window"])
        rate = s["history"].sum(axis=1) / w
        out: NDArray[np.bool_] = (s["history_len"] == w) & (rate > c["success_threshold"])
        return out

    def update(self) -> NDArray[np.float64]:
        """Score, one mirror step, the solved rule, then a window reset; returns the new q."""
        s, c = self._s, self._config
        counts = s["window_counts"]
        visited = counts > 0
        seen_before = (s["episodes"] - counts) > 0
        means = np.where(visited, window_means(s["window_sums"], counts), s["prev_means"])
        raw = np.where(visited & seen_before, np.abs(means - s["prev_means"]), 0.0)
        s["gaps"] = raw / (raw.max() + LP_NORMALISER_OFFSET)
        s["prev_means"] = means
        q = s["probs"]
        if c["step_size"] > 0:
            q = mirror_ascent_step(
                q, s["gaps"], eta=c["eta"], step_size=c["step_size"], eps=c["eps"]
            )
        solved = self.solved_now
        if solved.any():
            q = project_floor(np.where(solved, 0.0, q), c["eps"])
        s["probs"] = q
        return self._close_window()

    def _check_extra(self, state: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
        prev = as_state_arrays(state, {"prev_means": ((self.num_tasks,), "f")})["prev_means"]
        if not np.all(np.isfinite(prev)):
            raise CheckpointError("state dict 'prev_means' must be finite")
        return {"prev_means": prev.astype(np.float64, copy=True)}


#: SMT pool codes, as held by :attr:`SmtSampler.pools`.
MAIN, ACTIVE, SOLVED, UNSOLVABLE = 0, 1, 2, 3
#: Names of the SMT pool codes, indexed by code.
POOL_NAMES = ("main", "active", "solved", "unsolvable")


def smt_probs(active: NDArray[np.bool_], eps: float) -> NDArray[np.float64]:
    """SMT's q: ``eps`` for every task plus an equal share of ``1 - K eps`` for each active
    task; uniform when no task is active."""
    k, n = active.shape[0], int(np.count_nonzero(active))
    if n == 0:
        return np.full(k, 1.0 / k)
    q = np.full(k, eps)
    q[active] += (1.0 - k * eps) / n
    return q


class SmtSampler(WindowedSampler, TaskSampler):
    """SMT, "Hard Tasks First" (Cho et al., ICML 2024): the active pool gets the budget.

    Every task sits in one pool (codes in :attr:`pools`): ``MAIN`` (0) waiting, ``ACTIVE`` (1)
    trained now, ``SOLVED`` (2) or ``UNSOLVABLE`` (3). q gives every task the floor ``eps`` and
    splits the rest, ``1 - K eps``, equally among the active tasks; with no active task q is
    uniform. At each ``update``, in this order:

    1. ``gaps`` = the DRATS gaps ``(threshold - Rbar) / threshold`` over the window (Rbar = 0
       for an unvisited task), for logging only; ``recent_means`` takes the window mean of
       every task that finished an episode in the window (the others keep theirs; a task
       never measured has ``-inf``).
    2. An active task whose window mean (over at least one episode) reaches its threshold
       (``>=``) moves to ``SOLVED``. Otherwise, once its budget is spent (at least
       ``budget_episodes`` episodes observed while active, counted by ``observe``), it moves
       to ``UNSOLVABLE`` if its recent mean is below ``unsolvable_return``, else back to
       ``MAIN``. A task that leaves gets its budget counter reset to 0.
    3. Refill the active pool up to ``active_size`` with the hardest ``MAIN`` task each time:
       the lowest recent mean, never-measured tasks (``-inf``) first, ties to the lowest id.
       Tasks that left the active pool at this very update are taken only if no other
       ``MAIN`` task is left, so a budget-exhausted task is not re-activated at once. When
       the main pool is empty and a slot is open, every ``UNSOLVABLE`` task goes back to
       ``MAIN`` (a second chance with a fresh budget), rather than leaving the budget idle.
    4. q is recomputed from the pools; the window is reset.

    Further choices for points the paper leaves open:

    * The pools start all ``MAIN`` with q uniform: the first window measures the tasks, and
      the first ``update`` fills the active pool with the hardest ones.
    * ``SOLVED`` is final: a solved task keeps the floor and is never re-activated.
    * Only active tasks change pool through their returns; a main task that happens to reach
      its threshold stays in ``MAIN`` (its high recent mean makes it one of the last picked).
    * The thresholds are the inherited DRATS targets with ``adaptive_target`` off, so
      ``targets`` reports them. The inherited success ring (window 50, threshold 0.5) and its
      ``solved`` flag are kept only for the shared checkpoint validation: SMT ignores them;
      read the SMT pools from :attr:`pools` (or ``state_dict()["pools"]``).

    Args:
        num_tasks: K >= 1.
        thresholds: the return a task must reach to be solved, a scalar or one value per task
            (finite, > 0).
        active_size: size of the active pool, 1 <= active_size <= K; None means
            ``max(1, round(0.3 K))`` (3 for MT10).
        budget_episodes: episodes an active task may spend before it is judged (>= 1); the
            default 1000 is 500k steps of 500-step Meta-World episodes.
        unsolvable_return: a budget-exhausted task with a recent mean below this is unsolvable.
        eps: probability floor of every task; None means 1/(4K). Needs 0 <= eps <= 1/K.
        seed: seed of the draw stream.
    """

    kind = "smt"
    MAIN, ACTIVE, SOLVED, UNSOLVABLE = MAIN, ACTIVE, SOLVED, UNSOLVABLE

    def __init__(
        self,
        num_tasks: int,
        *,
        thresholds: float | Sequence[float] = 5000.0,
        active_size: int | None = None,
        budget_episodes: int = 1000,
        unsolvable_return: float = 2000.0,
        eps: float | None = None,
        seed: int = 0,
    ) -> None:
        k = as_task_count(num_tasks)
        base = as_per_task(thresholds, k, "thresholds")
        if not np.all(np.isfinite(base) & (base > 0)):
            raise ConfigError(f"thresholds must be finite and > 0, got {base}")
        size = max(1, round(0.3 * k)) if active_size is None else active_size
        size = as_positive_int(size, "active_size")
        if size > k:
            raise ConfigError(f"active_size must be <= num_tasks = {k}, got {size}")
        budget = as_positive_int(budget_episodes, "budget_episodes")
        floor_return = as_finite_float(unsolvable_return, "unsolvable_return")
        floor = default_floor(k) if eps is None else as_floor(eps, k)
        super().__init__(
            k,
            eta=1.0,
            step_size=0.0,
            eps=floor,
            target=[float(x) for x in base],
            adaptive_target=False,
            seed=seed,
        )
        for key in ("eta", "step_size"):  # the mirror-ascent settings do not apply
            del self._config[key]
        self._config.update(
            {"active_size": size, "budget_episodes": budget, "unsolvable_return": floor_return}
        )
        self._s.update(
            {
                "pools": np.full(k, MAIN, dtype=np.int8),
                "budget_used": np.zeros(k, dtype=np.int64),
                "recent_means": np.full(k, -np.inf),
            }
        )

    @property
    def pools(self) -> NDArray[np.int8]:
        """int8[K], the pool of every task (a copy): see :data:`POOL_NAMES`."""
        out: NDArray[np.int8] = self._s["pools"].copy()
        return out

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        """Record finished episodes (as DRATS does); each one of an active task spends one
        episode of its budget."""
        super().observe(task_ids, returns, successes)  # checks everything before any change
        ids = np.asarray(task_ids).astype(np.int64)
        active = self._s["pools"][ids] == ACTIVE
        np.add.at(self._s["budget_used"], ids[active], 1)

    def _gap_scale(self) -> float:
        return 1.0  # the gaps are only logged

    def update(self) -> NDArray[np.float64]:
        """Judge the active tasks, refill the active pool, recompute q, reset the window."""
        s, c = self._s, self._config
        counts = s["window_counts"]
        visited = counts > 0
        means = window_means(s["window_sums"], counts)
        s["gaps"] = return_gaps(s["targets"], s["window_sums"], counts)
        s["recent_means"] = np.where(visited, means, s["recent_means"])
        pools, used = s["pools"], s["budget_used"]
        active = pools == ACTIVE
        solved = active & visited & (means >= s["targets"])
        spent = active & ~solved & (used >= c["budget_episodes"])
        hopeless = s["recent_means"] < c["unsolvable_return"]
        pools[solved] = SOLVED
        pools[spent & hopeless] = UNSOLVABLE
        pools[spent & ~hopeless] = MAIN
        left = solved | spent
        used[left] = 0
        self._refill(left)
        s["probs"] = smt_probs(pools == ACTIVE, c["eps"])
        return self._close_window()

    def _refill(self, left: NDArray[np.bool_]) -> None:
        s, size = self._s, int(self._config["active_size"])
        pools = s["pools"]
        while np.count_nonzero(pools == ACTIVE) < size:
            if not np.any(pools == MAIN):
                if not np.any(pools == UNSOLVABLE):
                    return
                pools[pools == UNSOLVABLE] = MAIN  # second chance once the main pool is empty
            main = pools == MAIN
            fresh = main & ~left
            pick = fresh if fresh.any() else main
            task = int(np.argmin(np.where(pick, s["recent_means"], np.inf)))
            pools[task] = ACTIVE
            s["budget_used"][task] = 0

    def _check_extra(self, state: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
        k, c = self.num_tasks, self._config
        spec = {"pools": ((k,), "iu"), "budget_used": ((k,), "iu"), "recent_means": ((k,), "f")}
        a = as_state_arrays(state, spec)
        pools, used = a["pools"].astype(np.int64), a["budget_used"].astype(np.int64)
        recent = a["recent_means"].astype(np.float64)
        active = pools == ACTIVE
        if np.any((pools < MAIN) | (pools > UNSOLVABLE)):
            raise CheckpointError(f"state dict 'pools' holds codes outside 0..3: {a['pools']}")
        if np.count_nonzero(active) > c["active_size"]:
            raise CheckpointError(f"state dict 'pools' has more than {c['active_size']} active")
        if np.any(used < 0) or np.any(used[~active] != 0):
            raise CheckpointError(
                f"state dict 'budget_used' must be >= 0, and 0 off the active pool: {used}"
            )
        measured = (self._s["episodes"] - self._s["window_counts"]) > 0
        if np.any(np.isnan(recent) | (recent == np.inf)) or np.any(np.isneginf(recent) == measured):
            raise CheckpointError(
                "state dict 'recent_means' must be finite for tasks measured by an update "
                f"and -inf for the others, got {recent}"
            )
        if not np.allclose(self._s["probs"], smt_probs(active, c["eps"]), rtol=0, atol=1e-12):
            raise CheckpointError("state dict 'probs' does not match its 'pools'")
        return {"pools": pools.astype(np.int8), "budget_used": used, "recent_means": recent.copy()}


__all__ = [
    "ACTIVE",
    "MAIN",
    "POOL_NAMES",
    "SOLVED",
    "UNSOLVABLE",
    "HedgeSampler",
    "LearningProgressSampler",
    "SmtSampler",
    "WindowedSampler",
    "smt_probs",
    "window_means",
]
