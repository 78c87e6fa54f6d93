"""The padding / one-hot rule: how K tasks' Gymnasium spaces map to one pool's arrays.

* **Observations.** A Box observation is flattened, a Discrete one one-hot encoded; either is
  zero-padded to the widest task and followed by the K-wide task one-hot, so
  ``obs_dim = max width + K``.
* **Continuous actions.** Every task has a Box action space. Pool actions are
  float32[N, action_dim], ``action_dim`` the widest task's; each row is clipped to [-1, 1],
  its first ``width`` entries rescaled to the task's bounds (a dimension with an infinite
  bound gets the raw entry) and the rest ignored.
* **Discrete actions.** Every task has a Discrete action space, of any size n_i. The pool's
  action space is their union, ``Discrete(A)`` with ``A = max n_i``: pool actions are
  int64[N] in [0, A), and task i takes only [0, n_i) (shifted by its space's ``start``). The
  rule is :func:`action_mask`: ``action_counts`` (int64[K], each n_i) and ``action_mask``
  (bool[K, A], row i true on [0, n_i)) are what a policy masks its logits with, so an invalid
  action is never sampled; a pool refuses one (:meth:`PoolLayout.check_task_actions`,
  InvalidInputError) rather than pass it to an env.
* Box and Discrete action spaces cannot be mixed in one task set (ConfigError).

Only spaces are read, never an env, so the rule serves any wrapper over Gymnasium spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_array,
    check_finite,
    check_shape,
)
from drats.domain.errors import ConfigError, InvalidInputError


class TaskLayout:
    """How one task's raw observations and actions map to the pool's padded arrays."""

    __slots__ = (
        "action_dtype",
        "action_shape",
        "center",
        "half",
        "num_actions",
        "obs_n",
        "obs_width",
        "start",
    )

    def __init__(self, name: str, obs_space: Any, action_space: Any) -> None:
        from gymnasium import spaces

        if isinstance(obs_space, spaces.Box):
            self.obs_n, self.obs_width = 0, int(np.prod(obs_space.shape, dtype=np.int64))
        elif isinstance(obs_space, spaces.Discrete):  # one-hot encoded
            self.obs_n = self.obs_width = int(obs_space.n)
        else:
            msg = f"env {name!r} has observation space {obs_space}; need a Box or Discrete"
            raise ConfigError(msg)
        self.start = self.num_actions = 0  # num_actions: n of a Discrete space, 0 for a Box
        self.center = self.half = np.zeros(0)
        if isinstance(action_space, spaces.Box):
            self.action_shape = tuple(int(d) for d in action_space.shape)
            self.action_dtype = action_space.dtype
            low = np.asarray(action_space.low, np.float64).ravel()
            high = np.asarray(action_space.high, np.float64).ravel()
            finite = np.isfinite(low) & np.isfinite(high)  # unbounded dims get the raw action
            self.center = np.where(finite, (low + high) / 2, 0.0)
            self.half = np.where(finite, (high - low) / 2, 1.0)
        elif isinstance(action_space, spaces.Discrete):
            self.action_shape = ()
            self.action_dtype = np.dtype(np.int64)
            self.start = int(action_space.start)
            self.num_actions = int(action_space.n)
        else:
            raise ConfigError(
                f"env {name!r} has action space {action_space}; every task needs a Box "
                "action space, or every task a Discrete one"
            )

    @property
    def action_width(self) -> int:
        return int(np.prod(self.action_shape, dtype=np.int64)) if self.action_shape else 0


def action_mask(action_counts: ArrayLike, action_dim: int) -> NDArray[np.bool_]:
    """The valid actions of K discrete tasks in the union action space ``Discrete(action_dim)``:
    bool[K, action_dim], row i true on ``[0, action_counts[i])``. The one rule a pool, a
    single-env wrapper and a policy's logit mask share.

    Raises:
        ConfigError: ``action_counts`` is not a 1-D integer array with every entry in
            ``[1, action_dim]``.
    """
    counts = np.asarray(action_counts)
    if counts.ndim != 1 or counts.size == 0 or counts.dtype.kind not in "iu":
        raise ConfigError(f"action_counts must be a 1-D integer array, got {action_counts!r}")
    if np.any((counts < 1) | (counts > action_dim)):
        raise ConfigError(f"action_counts must lie in [1, {action_dim}], got {counts.tolist()}")
    mask: NDArray[np.bool_] = np.arange(action_dim)[None, :] < counts[:, None]
    return mask


class PoolLayout:
    """The layouts of K tasks given by their names and ``(observation, action)`` spaces, and
    the pool's ``obs_dim``, ``action_dim``, ``discrete``, ``action_counts`` and
    ``action_mask``.

    Raises:
        ConfigError: an unsupported space (naming the task), or Box and Discrete action
            spaces mixed.
    """

    def __init__(self, names: Sequence[str], spaces: Sequence[tuple[Any, Any]]) -> None:
        from gymnasium import spaces as gym_spaces

        self.names = tuple(names)
        self.tasks = tuple(TaskLayout(n, o, a) for n, (o, a) in zip(names, spaces, strict=True))
        kinds = {isinstance(a, gym_spaces.Discrete) for _, a in spaces}
        if len(kinds) > 1:
            msg = (
                "every task needs a Box action space, or every task a Discrete one (discrete "
                "and continuous tasks cannot share one task set); got a mix"
            )
            actions = dict(zip(names, (a for _, a in spaces), strict=True))
            raise ConfigError(f"{msg}: {actions}")
        self.discrete = kinds == {True}
        #: int64[K], each task's number of discrete actions (None for continuous tasks).
        self.action_counts: NDArray[np.int64] | None = None
        #: bool[K, action_dim], each task's valid actions (None for continuous tasks).
        self.action_mask: NDArray[np.bool_] | None = None
        if self.discrete:
            counts = np.array([lay.num_actions for lay in self.tasks], np.int64)
            self.action_dim = int(counts.max())
            self.action_counts = counts
            self.action_mask = action_mask(counts, self.action_dim)
        else:
            self.action_dim = max(lay.action_width for lay in self.tasks)
        #: width of the padded raw observation (the task one-hot follows it).
        self.obs_width = max(lay.obs_width for lay in self.tasks)
        self.obs_dim = self.obs_width + len(self.tasks)

    def encode(self, row: NDArray[np.float32], raw: Any, task: int) -> None:
        """Write ``task``'s raw observation and the task one-hot into the zeroed ``row``."""
        lay = self.tasks[task]
        if lay.obs_n:
            row[int(raw)] = 1.0
        else:
            row[: lay.obs_width] = np.asarray(raw, np.float32).ravel()
        row[self.obs_width + task] = 1.0

    def env_action(self, action: NDArray[Any], task: int) -> Any:
        """The action ``task``'s env takes for one row of checked pool actions (an int64
        scalar, or a float32 row in [-1, 1]; see :func:`check_actions`)."""
        lay = self.tasks[task]
        if self.discrete:
            return int(action) + lay.start
        scaled = lay.center + action[: lay.action_width] * lay.half
        return scaled.astype(lay.action_dtype).reshape(lay.action_shape)

    def check_task_actions(self, actions: NDArray[Any], task_ids: NDArray[np.int64]) -> None:
        """InvalidInputError naming the first row whose discrete action is not one of its
        task's (``actions[i] >= action_counts[task_ids[i]]``); ``actions`` already checked by
        :func:`check_actions`. Nothing to check for continuous actions."""
        if self.action_counts is None:
            return
        limit = self.action_counts[task_ids]
        bad = actions >= limit
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            task = int(task_ids[i])
            raise InvalidInputError(
                f"actions[{i}] = {int(actions[i])} is not an action of task {task} "
                f"({self.names[task]!r}, which takes actions in [0, {int(limit[i])}))"
            )


def check_actions(
    actions: ArrayLike, num_slots: int, action_dim: int, discrete: bool
) -> NDArray[Any]:
    """Validated actions: float32[N, action_dim] clipped to [-1, 1], or int64[N] in [0, n).

    Raises:
        InvalidDtypeError: a dtype that cannot be converted safely (e.g. float for discrete).
        InvalidInputError: a wrong shape, NaN or inf, or a discrete action out of range.
    """
    if discrete:
        arr = as_array(actions, "actions", INTEGER_KINDS, np.int64)
        check_shape(arr, (num_slots,), "actions", ("n_slots",))
        bad = (arr < 0) | (arr >= action_dim)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"actions[{i}] = {int(arr[i])} is outside [0, {action_dim})"
            raise InvalidInputError(msg)
        return arr
    arr = as_array(actions, "actions", NUMERIC_KINDS, np.float32)
    check_shape(arr, (num_slots, action_dim), "actions", ("n_slots",))
    check_finite(arr, "actions")
    clipped: NDArray[np.float32] = np.clip(arr, -1.0, 1.0)
    return clipped


def padded_spaces(layout: PoolLayout, spaces: Sequence[tuple[Any, Any]]) -> tuple[Any, Any]:
    """The Gymnasium ``(observation_space, action_space)`` of one row of ``layout``'s arrays,
    given the tasks' ``(observation, action)`` spaces it was built from.

    The observation space is a float32 Box of width ``obs_dim`` whose bounds cover every task's
    (a Discrete observation's one-hot and the task one-hot lie in [0, 1]; a padding entry is
    0); the action space is ``Box(-1, 1, (action_dim,), float32)``, or ``Discrete(n)``.
    """
    from gymnasium import spaces as gym_spaces

    width = layout.obs_width
    low, high = np.zeros(layout.obs_dim), np.ones(layout.obs_dim)
    low[:width], high[:width] = np.inf, -np.inf
    for lay, (obs_space, _) in zip(layout.tasks, spaces, strict=True):
        w = lay.obs_width
        if lay.obs_n:
            task_low, task_high = np.zeros(w), np.ones(w)
        else:
            task_low = np.asarray(obs_space.low, np.float64).ravel()
            task_high = np.asarray(obs_space.high, np.float64).ravel()
        low[:w], high[:w] = np.minimum(low[:w], task_low), np.maximum(high[:w], task_high)
        low[w:width], high[w:width] = np.minimum(low[w:width], 0), np.maximum(high[w:width], 0)
    observation = gym_spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
    if layout.discrete:
        return observation, gym_spaces.Discrete(layout.action_dim)
    action = gym_spaces.Box(-1.0, 1.0, (layout.action_dim,), dtype=np.float32)
    return observation, action


__all__ = ["PoolLayout", "TaskLayout", "action_mask", "check_actions", "padded_spaces"]
