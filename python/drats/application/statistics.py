"""The statistics of ``drats report`` as pure numpy functions, after Agarwal et al. (2021),
"Deep RL at the edge of the statistical precipice" (the definitions of the ``rliable`` library).

Scores come as a matrix of runs x tasks (one row per run, one column per task); a missing
entry (a task without a score in that run) is NaN and is left out of every statistic. The
statistics below accept any number of leading axes before the last two (runs, tasks), so the
same function gives the point estimate of one matrix and the values of a whole stack of
bootstrap resamples at once. A statistic of one number per run (a run's worst task, its steps
to a threshold) is a matrix of one column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.errors import InvalidInputError

Floats = NDArray[np.float64]
#: A statistic of stacked score matrices: ``(..., runs, tasks)`` -> ``(...)`` or ``(..., T)``.
Statistic = Callable[[Floats], Floats]

#: Entries of one block of bootstrap resamples (the resamples are drawn and evaluated in blocks
#: so memory stays bounded; the draws are the same as in a single call).
_BLOCK = 1 << 22


def _matrices(scores: ArrayLike) -> Floats:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim < 2:
        raise InvalidInputError(
            f"scores must have a runs axis and a tasks axis, got shape {x.shape}"
        )
    return x


def _ratio(total: Floats, count: NDArray[Any]) -> Floats:
    """``total / count``, NaN where ``count`` is 0 (no warning)."""
    out = np.full(np.shape(total), np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def interquartile_mean(scores: ArrayLike) -> Floats:
    """The IQM: the mean of the middle half of all the entries of a runs x tasks matrix.

    The N present entries are sorted, ``floor(N / 4)`` are dropped at each end and the rest
    averaged; this is ``scipy.stats.trim_mean(scores, 0.25, axis=None)`` (rliable's
    ``aggregate_iqm``) on a matrix without missing entries. NaN when no entry is present.
    """
    x = _matrices(scores)
    flat = np.sort(x.reshape(*x.shape[:-2], -1), axis=-1)  # NaN sort last
    count = np.sum(~np.isnan(flat), axis=-1)
    low = count // 4
    high = count - low
    zero = np.zeros((*flat.shape[:-1], 1))
    sums = np.concatenate([zero, np.cumsum(np.nan_to_num(flat), axis=-1)], axis=-1)
    total = (
        np.take_along_axis(sums, high[..., None], axis=-1)[..., 0]
        - np.take_along_axis(sums, low[..., None], axis=-1)[..., 0]
    )
    return _ratio(total, high - low)


def run_means(scores: ArrayLike) -> Floats:
    """Each run's mean over the tasks it has a score for: ``(..., runs)``, NaN for a run
    without any."""
    x = _matrices(scores)
    present = ~np.isnan(x)
    return _ratio(np.where(present, x, 0.0).sum(axis=-1), present.sum(axis=-1))


def mean_of_run_means(scores: ArrayLike) -> Floats:
    """The mean over runs of each run's mean over tasks (runs without any score left out);
    on a full matrix, the mean of all entries. NaN when no run has a score."""
    means = run_means(scores)
    present = ~np.isnan(means)
    return _ratio(np.where(present, means, 0.0).sum(axis=-1), present.sum(axis=-1))


def worst_task(scores: ArrayLike) -> Floats:
    """Each run's minimum over the tasks it has a score for: ``(..., runs)``, NaN for a run
    without any."""
    x = _matrices(scores)
    present = ~np.isnan(x)
    low = np.where(present, x, np.inf).min(axis=-1)
    return np.where(present.any(axis=-1), low, np.nan)


def median_of_runs(scores: ArrayLike) -> Floats:
    """The median over runs of a one-column matrix (one value per run, +inf allowed: the
    median is +inf when at least half the values are, and the average of the two middle
    values for an even count). Missing values are not allowed here."""
    x = _matrices(scores)
    return np.asarray(np.median(x[..., 0], axis=-1), dtype=np.float64)


def steps_to_threshold(steps: ArrayLike, mean_success: ArrayLike, threshold: float) -> float:
    """The env steps of the first evaluation whose mean success over tasks is >= ``threshold``
    (evaluations in order; a NaN mean never counts); +inf when no evaluation gets there."""
    s = np.asarray(steps, dtype=np.float64)
    m = np.asarray(mean_success, dtype=np.float64)
    hits = np.flatnonzero(np.nan_to_num(m, nan=-np.inf) >= threshold)
    return float(s[hits[0]]) if hits.size else float("inf")


def performance_profile(scores: ArrayLike, taus: ArrayLike) -> Floats:
    """The score distribution: for every ``tau``, the fraction of the present entries of the
    runs x tasks matrix whose score is > ``tau``. Shape ``(..., len(taus))``; NaN where no
    entry is present."""
    x = _matrices(scores)
    flat = x.reshape(*x.shape[:-2], -1)
    count = np.sum(~np.isnan(flat), axis=-1)
    t = np.asarray(taus, dtype=np.float64)
    above = np.stack([np.sum(flat > tau, axis=-1) for tau in t], axis=-1)
    return _ratio(above.astype(np.float64), np.broadcast_to(count[..., None], above.shape))


def probability_of_improvement(x: ArrayLike, y: ArrayLike) -> Floats:
    """P(X > Y): for each task, the probability that a run of X scores above a run of Y, ties
    counting one half (the Mann-Whitney U statistic over the pairs of present scores divided by
    their number), averaged over the tasks where both have a score (rliable's definition).

    ``x`` is ``(..., runs_x, tasks)`` and ``y`` ``(..., runs_y, tasks)`` with the same leading
    axes and tasks; NaN when no task has a score in both."""
    a, b = _matrices(x), _matrices(y)
    if a.shape[-1] != b.shape[-1] or a.shape[:-2] != b.shape[:-2]:
        raise InvalidInputError(f"x {a.shape} and y {b.shape} must agree on all but the runs axis")
    left, right = a[..., :, None, :], b[..., None, :, :]
    wins = np.sum(left > right, axis=(-3, -2)) + 0.5 * np.sum(left == right, axis=(-3, -2))
    pairs = np.sum(~np.isnan(a), axis=-2) * np.sum(~np.isnan(b), axis=-2)
    per_task = _ratio(wins.astype(np.float64), pairs)
    present = pairs > 0
    return _ratio(np.where(present, per_task, 0.0).sum(axis=-1), present.sum(axis=-1))


# ------------------------------------------------------------------------------ bootstrap


def stratified_resamples(
    scores: ArrayLike, reps: int, rng: np.random.Generator
) -> tuple[Floats, ...]:
    """``reps`` stratified bootstrap resamples of a runs x tasks matrix, in blocks.

    The strata are the tasks: within each task (column) the runs are drawn with replacement,
    independently of the other tasks (rliable's ``StratifiedBootstrap``). The run indices of
    all resamples are ``rng.integers(0, runs, size=(reps, runs, tasks))`` (drawn block by
    block, which gives the same numbers as one call); a one-column matrix resamples whole
    runs. Returns the blocks, each ``(block, runs, tasks)``.
    """
    x = _matrices(scores)
    if x.ndim != 2 or x.shape[0] == 0:
        raise InvalidInputError(f"scores must be a runs x tasks matrix of >= 1 run, got {x.shape}")
    n, m = x.shape
    per_block = max(1, _BLOCK // max(1, n * m))
    columns = np.arange(m)
    blocks = []
    for start in range(0, reps, per_block):
        idx = rng.integers(0, n, size=(min(per_block, reps - start), n, m))
        blocks.append(x[idx, columns])
    return tuple(blocks)


def bootstrap(
    scores: ArrayLike, statistic: Statistic, reps: int, rng: np.random.Generator
) -> Floats:
    """The values of ``statistic`` on ``reps`` stratified bootstrap resamples of ``scores``
    (see :func:`stratified_resamples`): ``(reps,)``, or ``(reps, T)`` for a statistic with
    ``T`` values such as the performance profile."""
    return np.concatenate([statistic(b) for b in stratified_resamples(scores, reps, rng)])


def bootstrap_improvement(
    x: ArrayLike,
    y: ArrayLike,
    reps: int,
    rng_x: np.random.Generator,
    rng_y: np.random.Generator,
) -> Floats:
    """Probability of improvement of X over Y on ``reps`` bootstrap resamples: the runs of X
    and of Y are resampled independently, each stratified by task and with its own Generator
    (``rng_x.integers(0, runs_x, size=(reps, runs_x, tasks))``, likewise for Y)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    (nx, m), ny = a.shape, b.shape[0]
    per_block = max(1, _BLOCK // max(1, nx * ny * m))
    out = []
    for start in range(0, reps, per_block):
        k = min(per_block, reps - start)
        (xs,) = stratified_resamples(a, k, rng_x)
        (ys,) = stratified_resamples(b, k, rng_y)
        out.append(probability_of_improvement(xs, ys))
    return np.concatenate(out)


def _percentile(sorted_values: Floats, q: float) -> float:
    """Linear interpolation between the order statistics (numpy's default percentile), which
    keeps +inf (a value between two infinite ones, or between a finite one and +inf, is +inf)."""
    h = (sorted_values.size - 1) * q
    i = int(np.floor(h))
    lo = sorted_values[i]
    hi = sorted_values[min(i + 1, sorted_values.size - 1)]
    if h == i or lo == hi:
        return float(lo)
    return float(lo + (h - i) * (hi - lo))


def percentile_interval(replicates: ArrayLike, level: float = 0.95) -> Floats:
    """The percentile bootstrap interval: the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of the bootstrap values (linear interpolation, as ``np.percentile``), NaN values
    left out. ``(2,)`` for one statistic, ``(T, 2)`` for ``(reps, T)`` values; NaN where no
    value is left."""
    r = np.asarray(replicates, dtype=np.float64)
    columns = r.reshape(r.shape[0], -1)
    out = np.full((columns.shape[1], 2), np.nan)
    for j in range(columns.shape[1]):
        values = np.sort(columns[~np.isnan(columns[:, j]), j])
        if values.size:
            out[j] = [_percentile(values, (1 - level) / 2), _percentile(values, (1 + level) / 2)]
    return out[0] if r.ndim == 1 else out.reshape(*r.shape[1:], 2)
