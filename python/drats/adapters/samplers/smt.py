"""SMT task sampling in pure numpy ("Hard Tasks First", Cho et al., ICML 2024): tasks move
between a main, an active, a solved and an unsolvable pool, and the active pool gets the
sampling budget.

It keeps the DRATS window statistics (:class:`~drats.adapters.samplers.window_stats.WindowStats`)
and draws (:class:`~drats.adapters.samplers.alias_draws.AliasDraws`), and shares the DRATS
state-dict layout plus its own entries ``pools``, ``budget_used`` and ``recent_means``. A state
dict holds only numpy arrays, Python scalars and strings, and includes the draw stream, so a
restored sampler draws the same sequence; a bad one raises CheckpointError and changes nothing.
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
    as_per_task,
    as_positive_int,
    as_task_count,
    default_floor,
)
from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.state_tree import as_state_arrays

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


class SmtSampler(TaskSampler):
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
    * The thresholds are the targets of the shared window statistics with ``adaptive_target``
      off, so ``targets`` reports them. Their success ring (window 50, threshold 0.5) and its
      ``solved`` flag are kept only so that checkpoints share the DRATS layout and validation:
      SMT ignores them; read the SMT pools from :attr:`pools` (or ``state_dict()["pools"]``).

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
        self._stats = WindowStats(
            k,
            target=[float(x) for x in base],
            adaptive_target=False,
            success_window=50,
            success_threshold=0.5,
            gap_scale=1.0,  # the gaps are only logged
        )
        self._config: dict[str, Any] = {
            "kind": self.kind,
            "num_tasks": k,
            "eps": floor,
            **self._stats.settings,
            "active_size": size,
            "budget_episodes": budget,
            "unsolvable_return": floor_return,
        }
        self._draws = AliasDraws(k, seed)
        self._pools = np.full(k, MAIN, dtype=np.int8)
        self._budget_used = np.zeros(k, dtype=np.int64)
        self._recent_means = np.full(k, -np.inf)

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
        """float64[K], the per-task thresholds."""
        return self._stats.targets

    @property
    def pools(self) -> NDArray[np.int8]:
        """int8[K], the pool of every task (a copy): see :data:`POOL_NAMES`."""
        return self._pools.copy()

    def sample(self, n: int) -> NDArray[np.int64]:
        return self._draws.sample(n)

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        """Record finished episodes (as DRATS does); each one of an active task spends one
        episode of its budget."""
        ids = self._stats.observe(task_ids, returns, successes)  # all checks, then the change
        active = self._pools[ids] == ACTIVE
        np.add.at(self._budget_used, ids[active], 1)

    def update(self) -> NDArray[np.float64]:
        """Judge the active tasks, refill the active pool, recompute q, reset the window."""
        c, stats = self._config, self._stats
        visited = stats.visited()
        means = stats.window_means()
        gaps = stats.return_gaps()
        self._recent_means = np.where(visited, means, self._recent_means)
        pools, used = self._pools, self._budget_used
        active = pools == ACTIVE
        solved = active & visited & (means >= stats.targets)
        spent = active & ~solved & (used >= c["budget_episodes"])
        hopeless = self._recent_means < c["unsolvable_return"]
        pools[solved] = SOLVED
        pools[spent & hopeless] = UNSOLVABLE
        pools[spent & ~hopeless] = MAIN
        left = solved | spent
        used[left] = 0
        self._refill(left)
        self._draws.set_probs(smt_probs(pools == ACTIVE, c["eps"]))
        stats.close_window(gaps)
        return self._draws.probs

    def _refill(self, left: NDArray[np.bool_]) -> None:
        pools, size = self._pools, int(self._config["active_size"])
        while np.count_nonzero(pools == ACTIVE) < size:
            if not np.any(pools == MAIN):
                if not np.any(pools == UNSOLVABLE):
                    return
                pools[pools == UNSOLVABLE] = MAIN  # second chance once the main pool is empty
            main = pools == MAIN
            fresh = main & ~left
            pick = fresh if fresh.any() else main
            task = int(np.argmin(np.where(pick, self._recent_means, np.inf)))
            pools[task] = ACTIVE
            self._budget_used[task] = 0

    def state_dict(self) -> StateDict:
        extra: dict[str, NDArray[Any]] = {
            "pools": self._pools,
            "budget_used": self._budget_used,
            "recent_means": self._recent_means,
        }
        return sampler_state(self._config, self._stats, self._draws, extra)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``; CheckpointError (sampler unchanged) if anything is off:
        besides the shared checks, the pools must be valid codes with at most ``active_size``
        active tasks, q must be the one they give, and the budget and recent means must agree
        with them and with the statistics."""
        probs, stats, rng = read_sampler_state(state, self._config, self._stats)
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
        measured = stats.measured()
        if np.any(np.isnan(recent) | (recent == np.inf)) or np.any(np.isneginf(recent) == measured):
            raise CheckpointError(
                "state dict 'recent_means' must be finite for tasks measured by an update "
                f"and -inf for the others, got {recent}"
            )
        if not np.allclose(probs, smt_probs(active, c["eps"]), rtol=0, atol=1e-12):
            raise CheckpointError("state dict 'probs' does not match its 'pools'")
        self._draws.load(probs, rng)
        self._stats = stats
        self._pools, self._budget_used = pools.astype(np.int8), used
        self._recent_means = recent.copy()


__all__ = [
    "ACTIVE",
    "MAIN",
    "POOL_NAMES",
    "SOLVED",
    "UNSOLVABLE",
    "SmtSampler",
    "smt_probs",
]
