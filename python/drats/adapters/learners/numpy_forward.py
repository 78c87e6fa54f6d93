"""Acting on the CPU without torch: a snapshot of a policy's network whose forward pass runs
in the C++ core, and the action samplers, drawn from a counter-based stream.

A torch call costs tens of microseconds whatever its size, so a small network acting on a few
environment slots (GridWorld-4's linear policy: 4 rows x 29 inputs) spends almost all its time
in torch's per-call overhead, and a large one (Meta-World's 3x400 on 10 slots) gets half the
CPU's multiply-add rate from a general matrix product. The torch policies therefore act
through an :class:`MLPSnapshot` of their network when they run on the CPU (refreshed after
every update and every load) and keep torch for learning and for acting on CUDA. The numbers
agree with torch's to float32 rounding; the random stream is the policy's own counter-based
one, saved in its state dict, so a run stays reproducible and resumes bit for bit. The draws
come from a :class:`~drats.domain.rng.UniformStream` over the policy's counter-based stream.
Each C++ call keeps a numpy twin here (:func:`mlp_numpy`, :func:`categorical_numpy`,
:func:`gaussian_numpy`), the readable reference the tests hold it to.

The categorical policies of discrete tasks with different numbers of actions share one action
mask rule, kept here with its checks (:func:`as_action_mask`): task i takes only
``[0, action_counts[i])``; the others get probability 0, acting and learning alike.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from drats import _core
from drats.adapters.envs.layouts import action_mask
from drats.domain.errors import CheckpointError, ConfigError, InvalidInputError
from drats.domain.rng import UniformStream

if TYPE_CHECKING:
    from drats.adapters.learners.torch_nets import MultiHeadMLP

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class MLPSnapshot:
    """A :class:`~drats.adapters.learners.torch_nets.MultiHeadMLP`'s weights, for acting on
    the CPU. With ``kernel`` (the default), a copy: on up to :data:`KERNEL_ROWS` rows (acting:
    one row per environment slot) the forward pass is one call into the C++ core
    (``drats._core.MlpForward``), whose kernel keeps one core's multiply-add units busy where a
    BLAS matrix product on so few rows reaches half their rate or less; on more rows (a
    rollout's batched critic values) it is :func:`mlp_numpy`, the kernel's twin, whose BLAS
    products use every thread the run was given. The two agree to float32 rounding.

    Packing the weights for the kernel costs about two 10-row forward passes of the MT10
    network (218 us against 96 us for the forward), which pays off for a snapshot that serves
    a rollout (PPO) but not for one that serves a single step between gradient steps (SAC):
    without ``kernel`` the snapshot is numpy views of the torch parameters and every call is
    :func:`mlp_numpy`. Either way the policies take a new snapshot after every update and every
    load."""

    __slots__ = ("_forward", "heads", "layers")

    def __init__(self, net: MultiHeadMLP, *, kernel: bool = True) -> None:
        self.layers = mlp_layers(net)
        self.heads = int(net.heads)
        self._forward = _core.MlpForward(self.layers, self.heads) if kernel else None

    def __call__(self, x: NDArray[np.float32], task_ids: NDArray[np.int64]) -> NDArray[np.float32]:
        """float32[N, out]: the output of each row's own head."""
        if self._forward is None or len(x) > KERNEL_ROWS:
            return mlp_numpy(self.layers, self.heads, x, task_ids)
        out: NDArray[np.float32] = self._forward(x, task_ids if self.heads > 1 else None)
        return out


#: The most rows :class:`MLPSnapshot` runs through the C++ kernel (one thread); beyond them
#: numpy's multi-threaded BLAS is faster (MT10 critic on 100,000 rows, two threads: 0.66-0.77 s
#: against 1.12 s, 2-core AMD EPYC VM).
KERNEL_ROWS = 256


def mlp_layers(net: MultiHeadMLP) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    """The (weight[out, in], bias[out]) float32 arrays of ``net``'s layers, torso then heads,
    as numpy views of its CPU parameters."""
    linears: list[Any] = [m for m in net.torso if hasattr(m, "weight")] + [net.head]
    return [(m.weight.detach().cpu().numpy(), m.bias.detach().cpu().numpy()) for m in linears]


def mlp_numpy(
    layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]],
    heads: int,
    x: NDArray[np.float32],
    task_ids: NDArray[np.int64],
) -> NDArray[np.float32]:
    """:class:`MLPSnapshot`'s forward pass in numpy (BLAS products, ReLU after every layer but
    the last, each row's own head of ``heads``): its twin, the readable reference the C++
    kernel is tested against."""
    h = x
    for weight, bias in layers[:-1]:
        h = np.maximum(h @ weight.T + bias, 0.0)
    weight, bias = layers[-1]
    out: NDArray[np.float32] = h @ weight.T + bias
    if heads == 1:  # every row takes the one head, whatever its task
        return out
    width = out.shape[1] // heads
    picked = out.reshape(len(x), heads, width)[np.arange(len(x)), task_ids]
    return np.ascontiguousarray(picked)


#: The logit a masked-out action gets in torch (exp of it is exactly 0 in float32, and
#: 0 * MASKED_LOGIT stays finite in an entropy); the numpy path uses -inf.
MASKED_LOGIT = -1e9


def as_action_mask(
    action_counts: object, num_tasks: int, action_dim: int, discrete: bool
) -> NDArray[np.bool_] | None:
    """A policy's ``action_counts`` (int[K], each task's number of discrete actions, or None)
    as its [K, A] table of valid actions: row i true on ``[0, action_counts[i])``, from the
    env pools' own rule (:func:`drats.adapters.envs.layouts.action_mask`). None when every
    action is valid for every task (no masking: the policy computes exactly what an unmasked
    one does).

    Raises:
        ConfigError: counts for continuous actions, or not int[K] in ``[1, action_dim]``.
    """
    if action_counts is None:
        return None
    if not discrete:
        raise ConfigError("action_counts applies to discrete actions only")
    counts = np.asarray(action_counts)
    if (
        counts.shape != (num_tasks,)
        or counts.dtype.kind not in "iu"
        or np.any((counts < 1) | (counts > action_dim))
    ):
        raise ConfigError(
            f"action_counts must be {num_tasks} integers in [1, {action_dim}], "
            f"got {action_counts!r}"
        )
    if np.all(counts == action_dim):
        return None
    return action_mask(counts, action_dim)  # the pools' rule, one implementation


def check_task_actions(
    mask: NDArray[np.bool_] | None, actions: NDArray[Any], task_ids: NDArray[np.int64], prefix: str
) -> None:
    """InvalidInputError naming ``prefix.actions`` unless every action (whole numbers in
    ``[0, A)``, already checked) is valid for its task under ``mask`` (None: all are)."""
    if mask is None:
        return
    acts = actions.reshape(task_ids.shape).astype(np.int64)
    bad = ~mask[task_ids, acts]
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        task = int(task_ids[at])
        raise InvalidInputError(
            f"{prefix}.actions{list(at)} = {int(acts[at])} is not an action of task {task} "
            f"(it takes actions in [0, {int(mask[task].sum())}))"
        )


def check_mask_state(tree: dict[str, Any], mask: NDArray[np.bool_] | None) -> None:
    """CheckpointError unless a policy state's ``action_counts`` (absent: every action valid)
    is this policy's."""
    theirs = tree.get("action_counts")
    mine = None if mask is None else mask.sum(axis=1)
    same = (theirs is None and mine is None) or (
        theirs is not None and mine is not None and np.array_equal(np.asarray(theirs), mine)
    )
    if not same:
        shown = ["all valid" if c is None else np.asarray(c).tolist() for c in (theirs, mine)]
        raise CheckpointError(
            f"the checkpoint's policy has action_counts {shown[0]}, this one {shown[1]}"
        )


def categorical(
    logits: NDArray[np.float32],
    rng: UniformStream | None,
    valid: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """One action per row of a categorical over ``logits`` and its log-probability: drawn by
    inverting the CDF with one uniform of ``rng`` per row, or the most likely action when
    ``rng`` is None. ``valid`` (bool, the shape of ``logits``, at least one true per row)
    masks the others out: they get probability 0 and are never drawn.

    One call into the C++ core (``drats._core.categorical_draw``): on a few rows the dozen
    numpy calls of :func:`categorical_numpy`, its twin, cost ten times its arithmetic."""
    u = None if rng is None else rng.uniform(len(logits))
    return _core.categorical_draw(logits, u, valid)


def categorical_numpy(
    logits: NDArray[np.float32],
    rng: UniformStream | None,
    valid: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """:func:`categorical` in numpy: its twin (the same arithmetic in the same precisions),
    kept as the readable reference the C++ draw is tested against."""
    n, k = logits.shape
    last = np.full(n, k - 1)
    if valid is not None:
        logits = np.where(valid, logits, np.float32(-np.inf))
        last = k - 1 - valid[:, ::-1].argmax(axis=-1)  # the last valid action of each row
    z = logits - logits.max(axis=-1, keepdims=True)
    cdf = np.cumsum(np.exp(z), axis=-1)  # unnormalised: its last column is the total
    total = cdf[:, -1]
    if rng is None:
        actions = z.argmax(axis=-1)
    else:
        u = rng.uniform(n) * total
        # u rounding up to the total would count every column: cap at the last valid one
        actions = np.minimum((u[:, None] >= cdf).sum(axis=-1), last)
    log_prob = z[np.arange(n), actions] - np.log(total)
    return actions.astype(np.int64, copy=False), log_prob.astype(np.float32, copy=False)


def standard_normal(rng: UniformStream, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Standard normal draws by Box-Muller from ``2 * prod(shape)`` uniforms of ``rng``."""
    n = shape[0] * shape[1]
    u = rng.uniform(2 * n)
    radius = np.sqrt(-2.0 * np.log1p(-u[:n]))  # 1 - u lies in (0, 1]
    return (radius * np.cos(2.0 * math.pi * u[n:])).reshape(shape)


def gaussian(
    out: NDArray[np.float32], rng: UniformStream | None, log_std_min: float, log_std_max: float
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """One draw per row of the diagonal Gaussian whose means and log standard deviations
    (clipped to ``[log_std_min, log_std_max]``) are the two halves of each row of ``out``
    (float32[n, 2a]), by Box-Muller from ``2 n a`` uniforms of ``rng``; the mean when ``rng``
    is None. Returns (the draw clipped to [-1, 1], the draw unclipped, its log-density), all
    float32.

    One call into the C++ core (``drats._core.gaussian_draw``): on a few rows the dozen numpy
    calls of :func:`gaussian_numpy`, its twin, cost more than the arithmetic, and far more
    when a simulator's step has just pushed them out of the CPU's caches."""
    u = None if rng is None else rng.uniform(out.size)
    return _core.gaussian_draw(out, u, log_std_min, log_std_max)


def gaussian_numpy(
    out: NDArray[np.float32], rng: UniformStream | None, log_std_min: float, log_std_max: float
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """:func:`gaussian` in numpy: its twin (the same arithmetic in the same precisions), kept
    as the readable reference the C++ draw is tested against."""
    a = out.shape[1] // 2
    mean = out[:, :a].astype(np.float64)
    log_std = np.clip(out[:, a:], log_std_min, log_std_max).astype(np.float64)
    sample = mean
    if rng is not None:
        sample = mean + standard_normal(rng, mean.shape) * np.exp(log_std)
    log_prob = gaussian_log_prob(sample, mean, log_std)
    raw = sample.astype(np.float32)
    return np.clip(raw, -1.0, 1.0), raw, log_prob


def gaussian_log_prob(
    actions: NDArray[np.float64], mean: NDArray[np.float64], log_std: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Row sums of the diagonal Gaussian log-density of ``actions``."""
    z = (actions - mean) * np.exp(-log_std)
    out: NDArray[np.float32] = (-0.5 * z * z - log_std - _HALF_LOG_2PI).sum(-1).astype(np.float32)
    return out


__all__ = [
    "KERNEL_ROWS",
    "MASKED_LOGIT",
    "MLPSnapshot",
    "as_action_mask",
    "categorical",
    "categorical_numpy",
    "check_mask_state",
    "check_task_actions",
    "gaussian",
    "gaussian_log_prob",
    "gaussian_numpy",
    "mlp_layers",
    "mlp_numpy",
    "standard_normal",
]
