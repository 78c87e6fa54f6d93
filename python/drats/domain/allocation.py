"""How an off-policy batch is split across tasks before the single ``ReplayBuffer.sample``.

* ``equal``: the same count from every non-empty task (the Meta-World standard, 128 per task
  for a batch of 1280 on MT10); leftovers go to the lowest task ids.
* ``drats``: counts proportional to the sampler's current q over the non-empty tasks, by
  largest-remainder rounding, with at least one row per non-empty task (when the batch has
  room), so the tasks furthest from their target get more gradient as well as more data.

Both return int64[K] summing to ``batch_size`` with zeros exactly on the empty tasks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import as_int_in_range, as_real_array
from drats.domain.errors import ConfigError, EmptyTaskError, InvalidInputError
from drats.domain.limits import MAX_DRAWS

MODES = ("equal", "drats")


def largest_remainder(weights: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integers proportional to ``weights`` (>= 0, positive sum) that sum to ``total``."""
    exact = weights / weights.sum() * total
    counts: NDArray[np.int64] = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:  # the largest remainders get one more each; ties go to the lower index
        order = np.lexsort((np.arange(weights.size), -(exact - counts)))
        counts[order[:short]] += 1
    return counts


def allocate_batch(
    mode: str, batch_size: int, sizes: ArrayLike, probs: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Rows to draw from each task for one batch.

    Args:
        mode: ``"equal"`` or ``"drats"``.
        batch_size: rows in the batch, an integer in [1, MAX_DRAWS].
        sizes: int[K], transitions held per task (only emptiness matters).
        probs: float[K], the sampler's q (needed for ``"drats"``).
    """
    if mode not in MODES:
        raise ConfigError(f"replay allocation must be one of {MODES}, got {mode!r}")
    batch_size = as_int_in_range(batch_size, "batch_size", 1, MAX_DRAWS)
    held = np.asarray(sizes)
    if held.ndim != 1 or held.dtype.kind not in "iu" or np.any(held < 0):
        raise InvalidInputError(f"sizes must be a 1-D array of counts >= 0, got {held!r}")
    ready = held > 0
    if not ready.any():
        raise EmptyTaskError("cannot allocate a batch: every task's replay is empty")
    counts = np.zeros(held.size, dtype=np.int64)
    if mode == "equal":
        counts[ready] = largest_remainder(np.ones(int(ready.sum())), int(batch_size))
        return counts
    if probs is None:
        raise InvalidInputError("the drats allocation needs the sampler's probs")
    q = as_real_array(probs, "probs")
    if q.shape != held.shape or not np.all(np.isfinite(q) & (q >= 0)):
        raise InvalidInputError(f"probs must be finite, >= 0 and of shape {held.shape}")
    weights = q[ready]
    with np.errstate(over="ignore"):
        total = float(weights.sum())
    if not np.isfinite(total):  # every share would be divided by inf
        raise InvalidInputError(f"probs must sum to a finite float64, got a sum of {total}")
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    k = weights.size
    floor = 1 if batch_size >= k else 0  # one row per non-empty task when there is room
    rest = largest_remainder(weights, int(batch_size) - floor * k) + floor
    counts[ready] = rest
    return counts
