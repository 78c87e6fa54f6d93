"""ReplayBuffer adapter in pure numpy: the oracle for the C++ replay, and a swap-in where a
compiled extension is unwelcome. Same constructor, semantics, errors and state-dict layout as
:class:`drats.CppPerTaskReplay`; sampling searches a cumulative sum (O(capacity) per task and
call) where the C++ version descends a sum tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters._arrays import INTEGER, NUMERIC, as_array, check_finite, check_shape, one_dim
from drats.adapters._config import (
    as_seed,
    as_shape,
    check_state_arrays,
    check_state_config,
    positive_int,
    replay_state_spec,
)
from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    EmptyTaskError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import ReplayBuffer, StateDict
from drats.domain.rng import CounterRng
from drats.domain.types import Batch

_TINY = np.finfo(np.float64).tiny  # DBL_MIN: the smallest leaf, so no filled slot has mass 0


class NumpyPerTaskReplay(ReplayBuffer):
    """Per-task prioritized replay in numpy (see :class:`drats.CppPerTaskReplay`)."""

    def __init__(
        self,
        num_tasks: int,
        capacity_per_task: int,
        obs_shape: int | Sequence[int],
        action_shape: int | Sequence[int],
        *,
        alpha: float = 0.6,
        seed: int = 0,
    ) -> None:
        self._num_tasks = positive_int(num_tasks, "num_tasks")
        self._capacity = positive_int(capacity_per_task, "capacity_per_task")
        self._obs_shape = as_shape(obs_shape, "obs_shape")
        self._action_shape = as_shape(action_shape, "action_shape")
        self._alpha = float(alpha)
        if not np.isfinite(self._alpha) or self._alpha < 0:
            raise ConfigError(f"alpha must be finite and >= 0, got {alpha!r}")
        k, c = self._num_tasks, self._capacity
        self._obs = np.zeros((k, c, *self._obs_shape), dtype=np.float32)
        self._actions = np.zeros((k, c, *self._action_shape), dtype=np.float32)
        self._rewards = np.zeros((k, c), dtype=np.float32)
        self._next_obs = np.zeros((k, c, *self._obs_shape), dtype=np.float32)
        self._terminated = np.zeros((k, c), dtype=np.float32)
        self._leaves = np.zeros((k, c), dtype=np.float64)
        self._positions = np.zeros(k, dtype=np.int64)
        self._sizes = np.zeros(k, dtype=np.int64)
        self._max_priority = np.ones(k, dtype=np.float64)
        self._rng = CounterRng(as_seed(seed))

    @property
    def num_tasks(self) -> int:
        return self._num_tasks

    @property
    def capacity_per_task(self) -> int:
        return self._capacity

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return self._obs_shape

    @property
    def action_shape(self) -> tuple[int, ...]:
        return self._action_shape

    @property
    def alpha(self) -> float:
        return self._alpha

    def _leaf(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        if self._alpha == 0.0:
            return np.ones_like(raw)
        powered = raw if self._alpha == 1.0 else raw**self._alpha
        return np.maximum(powered, _TINY)

    def _check_task_ids(self, ids: NDArray[np.int64]) -> None:
        bad = (ids < 0) | (ids >= self._num_tasks)
        if bad.any():
            raise UnknownTaskError(
                f"task_ids: task id {int(ids[bad][0])} is outside [0, {self._num_tasks})"
            )

    def add(
        self,
        task_ids: ArrayLike,
        obs: ArrayLike,
        actions: ArrayLike,
        rewards: ArrayLike,
        next_obs: ArrayLike,
        terminated: ArrayLike,
    ) -> None:
        ids = one_dim(task_ids, "task_ids", INTEGER, np.int64)
        n = ids.shape[0]
        fields = {
            "obs": (obs, (n, *self._obs_shape)),
            "actions": (actions, (n, *self._action_shape)),
            "rewards": (rewards, (n,)),
            "next_obs": (next_obs, (n, *self._obs_shape)),
            "terminated": (terminated, (n,)),
        }
        arrays = {}
        for name, (value, shape) in fields.items():
            arr = as_array(value, name, NUMERIC, np.float32)
            check_shape(arr, shape, name)
            arrays[name] = arr
        self._check_task_ids(ids)
        for name in ("obs", "next_obs", "actions", "rewards"):
            check_finite(arrays[name], name)
        done = arrays["terminated"]
        if np.any((done != 0) & (done != 1)):
            raise InvalidInputError("terminated must be 0 or 1")
        # Everything checked; write task by task, rows in their order.
        cap = self._capacity
        for t in np.unique(ids):
            rows = np.flatnonzero(ids == t)
            m = rows.size
            slots = (self._positions[t] + np.arange(m)) % cap
            if m > cap:  # the earlier rows would be overwritten within this very call
                rows, slots = rows[-cap:], slots[-cap:]
            self._obs[t, slots] = arrays["obs"][rows]
            self._actions[t, slots] = arrays["actions"][rows]
            self._rewards[t, slots] = arrays["rewards"][rows]
            self._next_obs[t, slots] = arrays["next_obs"][rows]
            self._terminated[t, slots] = done[rows]
            self._leaves[t, slots] = self._leaf(np.array([self._max_priority[t]]))[0]
            self._positions[t] = (self._positions[t] + m) % cap
            self._sizes[t] = min(cap, self._sizes[t] + m)

    def sample(self, counts: ArrayLike, *, beta: float = 0.4) -> Batch:
        c = as_array(counts, "counts", INTEGER, np.int64)
        check_shape(c, (self._num_tasks,), "counts")
        if not 0.0 <= float(beta) <= 1.0:
            raise InvalidInputError(f"beta must be in [0, 1], got {beta}")
        if np.any(c < 0):
            t = int(np.flatnonzero(c < 0)[0])
            raise InvalidInputError(f"counts must be >= 0, got {int(c[t])} for task {t}")
        empty = (c > 0) & (self._sizes == 0)
        if empty.any():
            t = int(np.flatnonzero(empty)[0])
            raise EmptyTaskError(
                f"cannot sample {int(c[t])} transitions from task {t}: it holds none"
            )
        total = int(c.sum())
        u = self._rng.uniform(total) if total > 0 else np.zeros(0)
        task_ids = np.repeat(np.arange(self._num_tasks, dtype=np.int64), c)
        slots = np.empty(total, dtype=np.int64)
        weights = np.empty(total, dtype=np.float64)
        begin = 0
        for task in np.flatnonzero(c).tolist():
            n = int(c[task])
            cum = np.cumsum(self._leaves[task])
            mass = cum[-1]
            x = (np.arange(n) + u[begin : begin + n]) * (mass / n)
            found = np.searchsorted(cum, x, side="right")
            last_positive = int(np.flatnonzero(self._leaves[task] > 0)[-1])
            found = np.minimum(found, last_positive)
            slots[begin : begin + n] = found
            prob = self._leaves[task, found] / mass
            weights[begin : begin + n] = (self._sizes[task] * prob) ** (-float(beta))
            begin += n
        if total:
            weights /= weights.max()
        return Batch(
            obs=self._obs[task_ids, slots],
            actions=self._actions[task_ids, slots],
            rewards=self._rewards[task_ids, slots],
            next_obs=self._next_obs[task_ids, slots],
            terminated=self._terminated[task_ids, slots],
            task_ids=task_ids,
            indices=task_ids * self._capacity + slots,
            weights=weights.astype(np.float32),
        )

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None:
        idx = one_dim(indices, "indices", INTEGER, np.int64)
        pri = as_array(priorities, "priorities", NUMERIC, np.float64)
        check_shape(pri, idx.shape, "priorities")
        limit = self._num_tasks * self._capacity
        outside = (idx < 0) | (idx >= limit)
        if outside.any():
            raise UnknownTaskError(f"indices: index {int(idx[outside][0])} is outside [0, {limit})")
        tasks, slots = np.divmod(idx, self._capacity)
        unused = slots >= self._sizes[tasks]
        if unused.any():
            raise UnknownTaskError(f"indices: index {int(idx[unused][0])} points at an empty slot")
        bad = ~(np.isfinite(pri) & (pri > 0))
        if bad.any():
            raise InvalidInputError(f"priorities must be finite and > 0, got {pri[bad][0]}")
        # The last occurrence of a repeated index wins.
        _, first_from_end = np.unique(idx[::-1], return_index=True)
        keep = idx.size - 1 - first_from_end
        self._leaves[tasks[keep], slots[keep]] = self._leaf(pri[keep])
        np.maximum.at(self._max_priority, tasks, pri)

    def size(self, task_id: int) -> int:
        t = int(task_id)
        if not 0 <= t < self._num_tasks:
            raise UnknownTaskError(f"task id {t} is outside [0, {self._num_tasks})")
        return int(self._sizes[t])

    def sizes(self) -> NDArray[np.int64]:
        return self._sizes.copy()

    def __len__(self) -> int:
        return int(self._sizes.sum())

    def _config(self) -> dict[str, Any]:
        return {
            "num_tasks": self._num_tasks,
            "capacity_per_task": self._capacity,
            "obs_shape": np.asarray(self._obs_shape, dtype=np.int64),
            "action_shape": np.asarray(self._action_shape, dtype=np.int64),
            "alpha": self._alpha,
        }

    def state_dict(self) -> StateDict:
        state: StateDict = self._config()
        state.update(
            obs=self._obs.copy(),
            actions=self._actions.copy(),
            rewards=self._rewards.copy(),
            next_obs=self._next_obs.copy(),
            terminated=self._terminated.copy(),
            priorities=self._leaves.copy(),
            positions=self._positions.copy(),
            sizes=self._sizes.copy(),
            max_priority=self._max_priority.copy(),
            rng=self._rng.get_state(),
        )
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(state, self._config())
        spec = replay_state_spec(
            self._num_tasks, self._capacity, self._obs_shape, self._action_shape
        )
        a = check_state_arrays(state, spec)
        cap = self._capacity
        for name in ("obs", "actions", "rewards", "next_obs", "priorities", "max_priority"):
            if not np.all(np.isfinite(a[name])):
                raise CheckpointError(f"state dict {name!r} must be finite")
        sizes, positions = a["sizes"].astype(np.int64), a["positions"].astype(np.int64)
        if np.any((sizes < 0) | (sizes > cap)):
            raise CheckpointError("state dict 'sizes' must lie in [0, capacity_per_task]")
        consistent = np.where(sizes < cap, positions == sizes, (positions >= 0) & (positions < cap))
        if not consistent.all():
            raise CheckpointError("state dict 'positions' is inconsistent with 'sizes'")
        filled = np.arange(cap)[None, :] < sizes[:, None]
        leaves = a["priorities"]
        if np.any(filled & ~(leaves > 0)) or np.any(~filled & (leaves != 0)):
            raise CheckpointError(
                "state dict 'priorities' must be > 0 on filled slots and 0 on empty ones"
            )
        if np.any(a["max_priority"] <= 0):
            raise CheckpointError("state dict 'max_priority' must be > 0")
        done = a["terminated"]
        if np.any((done != 0) & (done != 1)):
            raise CheckpointError("state dict 'terminated' must be 0 or 1")
        # Everything checked: replace the contents.
        self._obs = a["obs"].astype(np.float32, copy=True)
        self._actions = a["actions"].astype(np.float32, copy=True)
        self._rewards = a["rewards"].astype(np.float32, copy=True)
        self._next_obs = a["next_obs"].astype(np.float32, copy=True)
        self._terminated = done.astype(np.float32, copy=True)
        self._leaves = leaves.astype(np.float64, copy=True)
        self._positions, self._sizes = positions.copy(), sizes.copy()
        self._max_priority = a["max_priority"].astype(np.float64, copy=True)
        self._rng.set_state(a["rng"])
