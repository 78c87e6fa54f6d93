"""Hand-written fakes of the ports: small, obviously correct, dependency-free stand-ins that let
trainers and other adapters be tested without the C++ core. Each honours its port's contract
(``drats.testing.contracts`` checks them like any adapter)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.replay.settings import ReplaySettings, check_replay_state
from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_array,
    as_count,
    as_seed,
    as_task_count,
    as_task_id,
    as_unit,
    as_vector,
    check_binary,
    check_finite,
    check_ids,
    check_shape,
)
from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    EmptyTaskError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import ReplayBuffer, StateDict, TaskSampler
from drats.domain.rng import CounterRng
from drats.domain.state_tree import check_state_config
from drats.domain.types import Batch


class FakeTaskSampler(TaskSampler):
    """Deals tasks round-robin (starting at ``seed % K``) with uniform ``probs``.

    It records what it is told: ``episodes`` lists every observed ``(task, return, success)``
    and ``updates`` counts the calls to ``update``.
    """

    def __init__(self, num_tasks: int, *, seed: int = 0) -> None:
        self._k = as_task_count(num_tasks)
        self._next = as_seed(seed) % self._k
        self.episodes: list[tuple[int, float, bool]] = []
        self.updates = 0

    @property
    def num_tasks(self) -> int:
        return self._k

    @property
    def probs(self) -> NDArray[np.float64]:
        return np.full(self._k, 1.0 / self._k)

    @property
    def gaps(self) -> NDArray[np.float64]:
        return np.zeros(self._k)

    def sample(self, n: int) -> NDArray[np.int64]:
        count = as_count(n, "n")
        ids = (self._next + np.arange(count, dtype=np.int64)) % self._k
        self._next = (self._next + count) % self._k
        return ids

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        ids = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        ret = as_vector(returns, "returns", NUMERIC_KINDS, np.float64)
        ok = as_vector(successes, "successes", "biu", np.int64)
        check_shape(ret, ids.shape, "returns", symbols=("n",))
        check_shape(ok, ids.shape, "successes", symbols=("n",))
        check_binary(ok, "successes")
        check_ids(ids, self._k, "task_ids")
        check_finite(ret, "returns")
        self.episodes += list(
            zip(ids.tolist(), ret.tolist(), ok.astype(bool).tolist(), strict=True)
        )

    def update(self) -> NDArray[np.float64]:
        self.updates += 1
        return self.probs

    def state_dict(self) -> StateDict:
        return {"kind": "fake", "num_tasks": self._k, "next": self._next, "updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(state, {"kind": "fake", "num_tasks": self._k})
        for key in ("next", "updates"):
            if key not in state:
                raise CheckpointError(f"state dict has no {key!r} entry")
        nxt, updates = int(state["next"]), int(state["updates"])
        if not 0 <= nxt < self._k or updates < 0:
            raise CheckpointError("state dict 'next' or 'updates' out of range")
        self._next, self.updates = nxt, updates


class FakeReplayBuffer(ReplaySettings, ReplayBuffer):
    """Uniform per-task FIFO replay in a few lines of numpy (``alpha`` must be 0).

    Row ``i`` of task ``t`` goes to slot ``positions[t]``, the oldest once the task is full;
    a draw is slot ``floor(u * size)`` of its task, tasks in increasing id, weights all 1.
    Priorities are validated and then ignored, as uniform replay allows (only the largest raw
    one is kept, for the state dict). The state dict has the layout of
    :class:`drats.NumpyPerTaskReplay`, so states move between the two at ``alpha = 0``.
    """

    def __init__(
        self,
        num_tasks: int,
        capacity_per_task: int,
        obs_shape: int | Sequence[int],
        action_shape: int | Sequence[int],
        *,
        alpha: float = 0.0,
        seed: int = 0,
    ) -> None:
        if alpha != 0.0:
            raise ConfigError(f"alpha: FakeReplayBuffer is uniform, alpha must be 0, got {alpha}")
        self._init_settings(num_tasks, capacity_per_task, obs_shape, action_shape, alpha)
        k, cap = self._num_tasks, self._capacity
        self._shapes = {
            "obs": self._obs_shape,
            "actions": self._action_shape,
            "rewards": (),
            "next_obs": self._obs_shape,
            "terminated": (),
        }
        self._data = {
            name: np.zeros((k, cap, *shape), dtype=np.float32)
            for name, shape in self._shapes.items()
        }
        self._leaves = np.zeros((k, cap))  # 1 on filled slots (raw ** 0)
        self._positions = np.zeros(k, dtype=np.int64)
        self._sizes = np.zeros(k, dtype=np.int64)
        self._max_priority = np.ones(k)
        self._rng = CounterRng(as_seed(seed))

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
        given = dict(zip(self._shapes, (obs, actions, rewards, next_obs, terminated), strict=True))
        rows = {
            name: as_array(value, name, NUMERIC_KINDS, np.float32) for name, value in given.items()
        }
        for name, shape in self._shapes.items():
            check_shape(rows[name], (ids.size, *shape), name, symbols=("n",))
        check_ids(ids, self._num_tasks, "task_ids")
        for name in ("obs", "next_obs", "actions", "rewards"):
            check_finite(rows[name], name)
        check_binary(rows["terminated"], "terminated")
        for i, t in enumerate(ids.tolist()):  # one row at a time, in order
            slot = int(self._positions[t])
            for name, column in rows.items():
                self._data[name][t, slot] = column[i]
            self._leaves[t, slot] = 1.0
            self._positions[t] = (slot + 1) % self._capacity
            self._sizes[t] = min(self._capacity, int(self._sizes[t]) + 1)

    def sample(self, counts: ArrayLike, *, beta: float = 0.4) -> Batch:
        c = as_array(counts, "counts", INTEGER_KINDS, np.int64)
        check_shape(c, (self._num_tasks,), "counts", symbols=("K",))
        as_unit(beta, "beta")
        if np.any(c < 0):
            raise InvalidInputError(f"counts must be >= 0, got {c.tolist()}")
        for t in range(self._num_tasks):
            if c[t] > 0 and self._sizes[t] == 0:
                raise EmptyTaskError(f"counts asks {int(c[t])} transitions of empty task {t}")
        task_ids = np.repeat(np.arange(self._num_tasks, dtype=np.int64), c)
        u = self._rng.uniform(task_ids.size) if task_ids.size else np.zeros(0)
        slots = np.minimum((u * self._sizes[task_ids]).astype(np.int64), self._sizes[task_ids] - 1)
        return Batch(
            obs=self._data["obs"][task_ids, slots],
            actions=self._data["actions"][task_ids, slots],
            rewards=self._data["rewards"][task_ids, slots],
            next_obs=self._data["next_obs"][task_ids, slots],
            terminated=self._data["terminated"][task_ids, slots],
            task_ids=task_ids,
            indices=task_ids * self._capacity + slots,
            weights=np.ones(task_ids.size, dtype=np.float32),
        )

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None:
        idx = as_vector(indices, "indices", INTEGER_KINDS, np.int64)
        pri = as_array(priorities, "priorities", NUMERIC_KINDS, np.float64)
        check_shape(pri, idx.shape, "priorities", symbols=("n",))
        for i, (index, p) in enumerate(zip(idx.tolist(), pri.tolist(), strict=True)):
            if not 0 <= index < self._num_tasks * self._capacity:
                raise UnknownTaskError(f"indices: replay index {index} is outside the buffer")
            if index % self._capacity >= self._sizes[index // self._capacity]:
                raise UnknownTaskError(f"indices: replay index {index} points at an empty slot")
            if not (np.isfinite(p) and p > 0):
                raise InvalidInputError(f"priorities must be finite and > 0, got {p} at {i}")
        np.maximum.at(self._max_priority, idx // self._capacity, pri)

    def size(self, task_id: int) -> int:
        return int(self._sizes[as_task_id(task_id, self._num_tasks)])

    def sizes(self) -> NDArray[np.int64]:
        return self._sizes.copy()

    def __len__(self) -> int:
        return int(self._sizes.sum())

    def state_dict(self) -> StateDict:
        state: StateDict = self._config()
        state.update({name: column.copy() for name, column in self._data.items()})
        state.update(
            priorities=self._leaves.copy(),
            positions=self._positions.copy(),
            sizes=self._sizes.copy(),
            max_priority=self._max_priority.copy(),
            rng=self._rng.get_state(),
        )
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        new = check_replay_state(state, self._config())  # raises before anything changes
        self._data = {name: new[name] for name in self._shapes}
        self._leaves, self._max_priority = new["priorities"], new["max_priority"]
        self._positions, self._sizes = new["positions"], new["sizes"]
        self._rng.set_state(new["rng"])
