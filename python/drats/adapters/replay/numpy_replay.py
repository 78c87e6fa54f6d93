"""ReplayBuffer adapter in pure numpy: the exact oracle for the C++ replay
(``cpp/include/drats/per_task_replay.h``), and a swap-in where a compiled extension is
unwelcome. Same constructor, semantics, random stream, errors and state-dict layout as
:class:`drats.CppPerTaskReplay`; sampling searches a cumulative sum (O(capacity) per task and
call) where the C++ version descends a sum tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.replay.settings import ReplaySettings
from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_array,
    as_seed,
    as_task_id,
    as_unit,
    as_vector,
    check_binary,
    check_finite,
    check_ids,
    check_shape,
)
from drats.domain.errors import EmptyTaskError, InvalidInputError, UnknownTaskError
from drats.domain.limits import MAX_DRAWS
from drats.domain.ports import ReplayBuffer, StateDict
from drats.domain.replay_state import check_replay_state
from drats.domain.rng import CounterRng
from drats.domain.types import Batch

_TINY = np.finfo(np.float64).tiny  # DBL_MIN: the smallest leaf, so no filled slot has mass 0
_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")


class NumpyPerTaskReplay(ReplaySettings, ReplayBuffer):
    """Per-task prioritized replay in numpy: one FIFO ring of ``capacity_per_task``
    transitions and one array of leaves ``raw_priority ** alpha`` per task.

    Args:
        num_tasks: K >= 1.
        capacity_per_task: transitions kept per task (oldest overwritten first).
        obs_shape: shape of one observation (an int or a tuple of ints >= 1).
        action_shape: shape of one (continuous) action.
        alpha: priority exponent, finite and >= 0; 0 is uniform replay.
        seed: seed of the sampling stream (a :class:`~drats.domain.rng.CounterRng`).
    """

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
        self._init_settings(num_tasks, capacity_per_task, obs_shape, action_shape, alpha)
        k, c = self._num_tasks, self._capacity
        try:
            self._obs = np.zeros((k, c, *self._obs_shape), dtype=np.float32)
            self._actions = np.zeros((k, c, *self._action_shape), dtype=np.float32)
            self._rewards = np.zeros((k, c), dtype=np.float32)
            self._next_obs = np.zeros((k, c, *self._obs_shape), dtype=np.float32)
            self._terminated = np.zeros((k, c), dtype=np.float32)
            self._leaves = np.zeros((k, c), dtype=np.float64)  # 0 exactly on empty slots
        except MemoryError:
            raise self._out_of_memory() from None
        self._positions = np.zeros(k, dtype=np.int64)  # next ring slot of each task
        self._sizes = np.zeros(k, dtype=np.int64)
        self._max_priority = np.ones(k, dtype=np.float64)  # raw, not raised to alpha
        self._rng = CounterRng(as_seed(seed))

    # ---------------------------------------------------------------------------------- sizes

    def size(self, task_id: int) -> int:
        return int(self._sizes[as_task_id(task_id, self._num_tasks)])

    def sizes(self) -> NDArray[np.int64]:
        return self._sizes.copy()

    def __len__(self) -> int:
        return int(self._sizes.sum())

    def _leaf(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """The leaf of raw priorities: ``max(raw ** alpha, DBL_MIN)``."""
        return np.maximum(raw**self._alpha, _TINY)

    # ------------------------------------------------------------------------------------ add

    def add(
        self,
        task_ids: ArrayLike,
        obs: ArrayLike,
        actions: ArrayLike,
        rewards: ArrayLike,
        next_obs: ArrayLike,
        terminated: ArrayLike,
    ) -> None:
        ids = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        n = ids.shape[0]
        values = dict(zip(_FIELDS, (obs, actions, rewards, next_obs, terminated), strict=True))
        shapes = {
            "obs": self._obs_shape,
            "actions": self._action_shape,
            "rewards": (),
            "next_obs": self._obs_shape,
            "terminated": (),
        }
        # The order of the C++ binding: every dtype, then every shape, then the values.
        arrays = {name: as_array(values[name], name, NUMERIC_KINDS, np.float32) for name in _FIELDS}
        for name in _FIELDS:
            check_shape(arrays[name], (n, *shapes[name]), name, symbols=("n",))
        check_ids(ids, self._num_tasks, "task_ids")
        for name in ("obs", "next_obs", "actions", "rewards"):
            check_finite(arrays[name], name)
        check_binary(arrays["terminated"], "terminated")
        # Everything checked. Rows of one task land on consecutive ring slots in row order, so
        # each task's rows can be written at once (only the last `cap` of them survive).
        cap = self._capacity
        for t in np.unique(ids).tolist():
            rows = np.flatnonzero(ids == t)
            m = rows.size
            slots = (self._positions[t] + np.arange(m)) % cap
            if m > cap:
                rows, slots = rows[-cap:], slots[-cap:]
            self._obs[t, slots] = arrays["obs"][rows]
            self._actions[t, slots] = arrays["actions"][rows]
            self._rewards[t, slots] = arrays["rewards"][rows]
            self._next_obs[t, slots] = arrays["next_obs"][rows]
            self._terminated[t, slots] = arrays["terminated"][rows]
            self._leaves[t, slots] = self._leaf(self._max_priority[t : t + 1])[0]
            self._positions[t] = (self._positions[t] + m) % cap
            self._sizes[t] = min(cap, int(self._sizes[t]) + m)

    # --------------------------------------------------------------------------------- sample

    def _check_counts(self, counts: ArrayLike, beta: float) -> NDArray[np.int64]:
        # The order of the C++ twin: counts' dtype and shape, beta, then the counts themselves.
        c = as_array(counts, "counts", INTEGER_KINDS, np.int64)
        check_shape(c, (self._num_tasks,), "counts", symbols=("K",))
        as_unit(beta, "beta")
        if np.any(c < 0):
            t = int(np.flatnonzero(c < 0)[0])
            raise InvalidInputError(f"counts must be >= 0, got {int(c[t])} for task {t}")
        total = np.cumsum(np.minimum(c, MAX_DRAWS + 1))  # no overflow: K <= MAX_TASKS
        if total[-1] > MAX_DRAWS:
            t = int(np.flatnonzero(total > MAX_DRAWS)[0])
            raise InvalidInputError(
                f"counts ask for more than {MAX_DRAWS} draws in one call (reached at task {t})"
            )
        empty = (c > 0) & (self._sizes == 0)
        if empty.any():
            t = int(np.flatnonzero(empty)[0])
            raise EmptyTaskError(f"counts asks {int(c[t])} transitions of task {t}, which is empty")
        return c

    def sample(self, counts: ArrayLike, *, beta: float = 0.4) -> Batch:
        """Stratified proportional draws: task by task in increasing id, ``counts[t]`` equal
        segments of task t's priority mass with one uniform each (one stream, in order)."""
        c = self._check_counts(counts, beta)
        total = int(c.sum())
        u = self._rng.uniform(total) if total > 0 else np.zeros(0)
        task_ids = np.repeat(np.arange(self._num_tasks, dtype=np.int64), c)
        slots = np.empty(total, dtype=np.int64)
        weights = np.empty(total, dtype=np.float64)
        begin = 0
        for task in np.flatnonzero(c).tolist():
            n = int(c[task])
            leaves = self._leaves[task]
            cum = np.cumsum(leaves)
            mass = float(cum[-1])
            x = (np.arange(n) + u[begin : begin + n]) * (mass / n)
            found = np.searchsorted(cum, x, side="right")
            found[found >= self._capacity] = int(np.flatnonzero(leaves > 0)[-1])  # rounding
            prob = leaves[found] / mass
            slots[begin : begin + n] = found
            weights[begin : begin + n] = (float(self._sizes[task]) * prob) ** (-float(beta))
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

    # ----------------------------------------------------------------------------- priorities

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None:
        idx = as_vector(indices, "indices", INTEGER_KINDS, np.int64)
        pri = as_array(priorities, "priorities", NUMERIC_KINDS, np.float64)
        check_shape(pri, idx.shape, "priorities", symbols=("n",))
        # Checked index by index in order, as the C++ twin does: range, empty slot, value.
        limit = self._num_tasks * self._capacity
        outside = (idx < 0) | (idx >= limit)
        tasks, slots = np.divmod(np.where(outside, 0, idx), self._capacity)
        unused = ~outside & (slots >= self._sizes[tasks])
        bad = ~(np.isfinite(pri) & (pri > 0))
        failed = np.flatnonzero(outside | unused | bad)
        if failed.size:
            i = int(failed[0])
            if outside[i]:
                raise UnknownTaskError(
                    f"indices: replay index {int(idx[i])} is outside [0, {limit})"
                )
            if unused[i]:
                raise UnknownTaskError(
                    f"indices: replay index {int(idx[i])} points at an empty slot"
                )
            raise InvalidInputError(
                f"priorities must be finite and > 0, got {pri[i]} at position {i}"
            )
        # Everything checked. The last occurrence of a repeated index wins.
        _, first_from_end = np.unique(idx[::-1], return_index=True)
        keep = idx.size - 1 - first_from_end
        self._leaves[tasks[keep], slots[keep]] = self._leaf(pri[keep])
        np.maximum.at(self._max_priority, tasks, pri)

    # ----------------------------------------------------------------------------- state dict

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
        new = check_replay_state(state, self._config())  # raises before anything changes
        self._obs, self._actions = new["obs"], new["actions"]
        self._rewards, self._next_obs = new["rewards"], new["next_obs"]
        self._terminated, self._leaves = new["terminated"], new["priorities"]
        self._positions, self._sizes = new["positions"], new["sizes"]
        self._max_priority = new["max_priority"]
        self._rng.set_state(new["rng"])
