"""Acting on the CPU without torch: a numpy snapshot of a policy's network and the action
samplers, drawn from a counter-based stream.

A torch call costs tens of microseconds whatever its size, so a small network acting on a few
environment slots (GridWorld-4's linear policy: 4 rows x 29 inputs) spends almost all its time
in torch's per-call overhead. The torch policies therefore act through a :class:`NumpyMLP`
snapshot of their network when they run on the CPU (refreshed after every update and every
load) and keep torch for learning and for acting on CUDA. The numbers agree with torch's to
float32 rounding; the random stream is the policy's own counter-based one,
saved in its state dict, so a run stays reproducible and resumes bit for bit. The draws come
from a :class:`~drats.domain.rng.UniformStream` over the policy's counter-based stream.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from drats.domain.rng import UniformStream

if TYPE_CHECKING:
    from drats.adapters.learners.torch_nets import MultiHeadMLP

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class NumpyMLP:
    """The forward pass of a :class:`~drats.adapters.learners.torch_nets.MultiHeadMLP` on
    numpy views of its CPU float32 weights (no copy: the views follow the torch parameters as
    they are updated in place; the policies still take a new one after an update or a load,
    so a parameter replaced rather than updated is never missed)."""

    __slots__ = ("head_b", "head_w", "heads", "layers", "out_dim")

    def __init__(self, net: MultiHeadMLP) -> None:
        def arrays(linear: object) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
            weight = linear.weight.detach().cpu().numpy()  # type: ignore[attr-defined]
            bias = linear.bias.detach().cpu().numpy()  # type: ignore[attr-defined]
            return weight.T, bias

        self.layers = [arrays(m) for m in net.torso if hasattr(m, "weight")]
        self.head_w, self.head_b = arrays(net.head)
        self.heads, self.out_dim = int(net.heads), int(net.out_dim)

    def __call__(self, x: NDArray[np.float32], task_ids: NDArray[np.int64]) -> NDArray[np.float32]:
        """float32[N, out]: the output of each row's own head."""
        h = x
        for weight, bias in self.layers:
            h = np.maximum(h @ weight + bias, 0.0)
        out: NDArray[np.float32] = h @ self.head_w + self.head_b
        if self.heads == 1:
            return out
        picked = out.reshape(len(x), self.heads, self.out_dim)[np.arange(len(x)), task_ids]
        return np.ascontiguousarray(picked)


def categorical(
    logits: NDArray[np.float32], rng: UniformStream | None
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """One action per row of a categorical over ``logits`` and its log-probability: drawn by
    inverting the CDF with one uniform of ``rng`` per row, or the most likely action when
    ``rng`` is None."""
    n, k = logits.shape
    z = logits - logits.max(axis=-1, keepdims=True)
    cdf = np.cumsum(np.exp(z), axis=-1)  # unnormalised: its last column is the total
    total = cdf[:, -1]
    if rng is None:
        actions = z.argmax(axis=-1)
    else:
        u = rng.uniform(n) * total
        actions = np.minimum((u[:, None] >= cdf).sum(axis=-1), k - 1)
    log_prob = z[np.arange(n), actions] - np.log(total)
    return actions.astype(np.int64, copy=False), log_prob.astype(np.float32, copy=False)


def standard_normal(rng: UniformStream, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Standard normal draws by Box-Muller from ``2 * prod(shape)`` uniforms of ``rng``."""
    n = shape[0] * shape[1]
    u = rng.uniform(2 * n)
    radius = np.sqrt(-2.0 * np.log1p(-u[:n]))  # 1 - u lies in (0, 1]
    return (radius * np.cos(2.0 * math.pi * u[n:])).reshape(shape)


def gaussian_log_prob(
    actions: NDArray[np.float64], mean: NDArray[np.float64], log_std: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Row sums of the diagonal Gaussian log-density of ``actions``."""
    z = (actions - mean) * np.exp(-log_std)
    out: NDArray[np.float32] = (-0.5 * z * z - log_std - _HALF_LOG_2PI).sum(-1).astype(np.float32)
    return out


__all__ = [
    "NumpyMLP",
    "categorical",
    "gaussian_log_prob",
    "standard_normal",
]
