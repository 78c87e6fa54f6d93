"""The DRATS update as pure numpy functions (twin of ``cpp/include/drats/drats_math.h``).

See ``project_floor`` and ``mirror_ascent_step`` for the exact definitions; the C++ sampler
computes the same numbers to 1e-12.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import as_floor, as_real, as_real_array, as_step
from drats.domain.errors import ConfigError, InvalidInputError


def _vector(x: ArrayLike, name: str, size: int | None = None) -> NDArray[np.float64]:
    a = as_real_array(x, name)
    if a.ndim != 1 or a.shape[0] == 0:
        raise InvalidInputError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if size is not None and a.shape[0] != size:
        raise InvalidInputError(f"{name} must have {size} entries, got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise InvalidInputError(f"{name} must be finite, got {a}")
    return a


def _simplex(q: ArrayLike, name: str) -> NDArray[np.float64]:
    a = _vector(q, name)
    if np.any(a < 0) or abs(float(a.sum()) - 1.0) > 1e-6:
        raise InvalidInputError(f"{name} must be a probability vector (>= 0, sums to 1)")
    return a


def project_floor(z: ArrayLike, eps: float) -> NDArray[np.float64]:
    """KL projection of ``z`` onto ``{q : sum q = 1, q_i >= eps}`` (exact active set).

    All tasks start free; the free tasks share the mass ``1 - eps * #clamped`` in proportion to
    ``z`` (equally if their ``z`` sums to 0); every free task below ``eps`` is clamped to
    ``eps``; repeat until nothing new is clamped. ``eps = 0`` only normalises ``z``. If the
    remaining mass goes negative or every task ends up clamped (both only when ``eps * K``
    is 1 up to rounding), the result is uniform. ``sum(z)`` must not overflow float64.
    """
    v = _vector(z, "z")
    if np.any(v < 0):
        raise InvalidInputError("z must be >= 0")
    k = v.shape[0]
    eps = as_floor(eps, k)
    with np.errstate(over="ignore"):
        total_z = float(v.sum())
    if not np.isfinite(total_z):  # the shares would all be divided by inf
        raise InvalidInputError(f"z must sum to a finite float64, got a sum of {total_z}")
    clamped = np.zeros(k, dtype=bool)
    while True:
        mass = 1.0 - eps * int(clamped.sum())
        if mass < 0 or clamped.all():  # all clamped: only when eps * K rounds to 1
            return np.full(k, 1.0 / k)
        free = ~clamped
        total = float(v[free].sum())
        q = np.full(k, eps)
        if total > 0:
            q[free] = mass * v[free] / total
        else:
            q[free] = mass / int(free.sum())
        newly = free & (q < eps)
        if not newly.any():
            return q
        clamped |= newly


def mirror_ascent_step(
    q: ArrayLike, gaps: ArrayLike, *, eta: float, step_size: float, eps: float
) -> NDArray[np.float64]:
    """One KL-regularised mirror-ascent step on ``g.q - KL(q || uniform) / eta``, then the floor.

    ``alpha = step_size / eta``;
    ``log q' = (1 - alpha) log q + alpha log(1/K) + step_size * g``; ``q' = softmax(log q')``;
    returns ``project_floor(q', eps)``. Repeated with constant ``g`` it converges to
    ``project_floor(softmax(eta * g), eps)``. ``step_size * g`` must not overflow float64
    (InvalidInputError otherwise).
    """
    qv = _simplex(q, "q")
    k = qv.shape[0]
    g = _vector(gaps, "gaps", k)
    eta, step_size = as_step(eta, step_size)
    eps = as_floor(eps, k)
    top = float(np.abs(g).max())
    if not np.isfinite(step_size * top):  # inf logits would make the softmax NaN
        raise InvalidInputError(
            f"step_size * gaps overflows float64 (step_size={step_size!r}, largest |gap| {top!r})"
        )
    alpha = step_size / eta
    logits = alpha * np.log(1.0 / k) + step_size * g
    if alpha < 1.0:
        with np.errstate(divide="ignore"):
            logits = logits + (1.0 - alpha) * np.log(qv)
    logits = logits - logits.max()
    e = np.exp(logits)
    return project_floor(e / e.sum(), eps)


def hedge_step(
    w: ArrayLike, gaps: ArrayLike, *, lr: float, smoothing: float, min_prob: float
) -> NDArray[np.float64]:
    """The earlier DoReMi-style variant: exponentiated gradient on positive gaps.

    ``w <- w * exp(lr * max(g, 0))``; normalise; ``w <- (1 - c) w + c / K``;
    ``w <- max(w, min_prob)``; normalise again. ``lr * max(g, 0)`` must not overflow float64
    (InvalidInputError otherwise).
    """
    wv = _vector(w, "w")
    if np.any(wv < 0) or wv.sum() <= 0:
        raise InvalidInputError("w must be >= 0 with a positive sum")
    k = wv.shape[0]
    g = _vector(gaps, "gaps", k)
    lr = as_real(lr, "lr")
    if not np.isfinite(lr) or lr < 0:
        raise ConfigError(f"lr must be finite and >= 0, got {lr}")
    smoothing = as_real(smoothing, "smoothing")
    if not 0.0 <= smoothing <= 1.0:
        raise ConfigError(f"smoothing must be in [0, 1], got {smoothing}")
    min_prob = as_floor(min_prob, k, "min_prob")
    top = float(np.maximum(g, 0.0).max())
    if not np.isfinite(lr * top):  # inf logits would make the softmax NaN
        raise InvalidInputError(f"lr * gaps overflows float64 (lr={lr!r}, largest gap {top!r})")
    with np.errstate(divide="ignore"):
        logits = np.log(wv) + lr * np.maximum(g, 0.0)
    e = np.exp(logits - logits.max())
    p = e / e.sum()
    p = (1.0 - smoothing) * p + smoothing / k
    p = np.maximum(p, min_prob)
    return np.asarray(p / p.sum(), dtype=np.float64)


def return_gaps(
    targets: NDArray[np.float64],
    window_sums: NDArray[np.float64],
    window_counts: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Normalised gaps ``(tau - Rbar) / tau``; a task with no episode in the window has Rbar = 0."""
    mean = np.divide(
        window_sums, window_counts, out=np.zeros_like(window_sums), where=window_counts > 0
    )
    return np.asarray((targets - mean) / targets, dtype=np.float64)


def build_alias(q: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Vose's alias table for ``q`` with a fixed processing order (stacks, lowest index first)
    so that the C++ twin builds the identical table. Returns ``(prob, alias)``."""
    k = q.shape[0]
    scaled = [float(x) * k for x in q]
    prob = np.ones(k, dtype=np.float64)
    alias = np.arange(k, dtype=np.int64)
    small = [i for i in range(k) if scaled[i] < 1.0]
    large = [i for i in range(k) if scaled[i] >= 1.0]
    while small and large:
        s = small.pop()
        g = large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


def alias_draw(
    prob: NDArray[np.float64], alias: NDArray[np.int64], u: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Map uniforms ``u`` in [0, 1) to task ids: column ``min(floor(u K), K - 1)``, kept when the
    fractional part is below ``prob`` of that column, else its alias."""
    t = u * prob.shape[0]
    col = np.minimum(t.astype(np.int64), prob.shape[0] - 1)  # u * K can round up to K
    frac = t - col
    out: NDArray[np.int64] = np.where(frac < prob[col], col, alias[col]).astype(np.int64)
    return out
