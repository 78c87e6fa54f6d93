"""Hand-written fakes of the ports: small, obviously correct, dependency-free stand-ins that let
trainers and other adapters be tested without the C++ core. Each honours its port's contract
(``drats.testing.contracts`` checks them like any adapter)."""

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
    count_arg,
    positive_int,
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
from drats.domain.types import Batch


class FakeTaskSampler(TaskSampler):
    """Deals tasks round-robin (starting at ``seed % K``) with uniform ``probs``.

    It records what it is told: ``episodes`` lists every observed ``(task, return, success)``
    and ``updates`` counts the calls to ``update``.
    """

    def __init__(self, num_tasks: int, *, seed: int = 0) -> None:
        self._k = positive_int(num_tasks, "num_tasks")
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
        count = count_arg(n, "n")
        ids = (self._next + np.arange(count, dtype=np.int64)) % self._k
        self._next = (self._next + count) % self._k
        return ids

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        ids = one_dim(task_ids, "task_ids", INTEGER, np.int64)
        ret = one_dim(returns, "returns", NUMERIC, np.float64)
        ok = one_dim(successes, "successes", "biu", np.int64)
        check_shape(ret, ids.shape, "returns")
        check_shape(ok, ids.shape, "successes")
        if np.any((ids < 0) | (ids >= self._k)):
            raise UnknownTaskError(f"task_ids must lie in [0, {self._k})")
        check_finite(ret, "returns")
        if np.any((ok != 0) & (ok != 1)):
            raise InvalidInputError("successes must be bool or 0/1")
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


class FakeReplayBuffer(ReplayBuffer):
    """Uniform per-task FIFO replay in a few lines of numpy (``alpha`` must be 0).

    Priorities are validated and then ignored, as uniform replay allows; indices are
    ``task * capacity_per_task + slot``; every weight is 1.
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
            raise ConfigError(f"FakeReplayBuffer is uniform: alpha must be 0, got {alpha}")
        self._k = positive_int(num_tasks, "num_tasks")
        self._cap = positive_int(capacity_per_task, "capacity_per_task")
        self._obs_shape = as_shape(obs_shape, "obs_shape")
        self._action_shape = as_shape(action_shape, "action_shape")
        width = 2 * int(np.prod(self._obs_shape)) + int(np.prod(self._action_shape)) + 2
        self._rows = np.zeros((self._k, self._cap, width), dtype=np.float32)
        self._count = np.zeros(self._k, dtype=np.int64)  # transitions ever added per task
        self._rng = CounterRng(as_seed(seed))

    @property
    def num_tasks(self) -> int:
        return self._k

    @property
    def capacity_per_task(self) -> int:
        return self._cap

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return self._obs_shape

    @property
    def action_shape(self) -> tuple[int, ...]:
        return self._action_shape

    @property
    def alpha(self) -> float:
        return 0.0

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
        parts = []
        for name, value, shape in (
            ("obs", obs, self._obs_shape),
            ("actions", actions, self._action_shape),
            ("rewards", rewards, ()),
            ("next_obs", next_obs, self._obs_shape),
            ("terminated", terminated, ()),
        ):
            arr = as_array(value, name, NUMERIC, np.float32)
            check_shape(arr, (n, *shape), name)
            parts.append(arr.reshape(n, -1))
        if np.any((ids < 0) | (ids >= self._k)):
            raise UnknownTaskError(f"task_ids must lie in [0, {self._k})")
        for name, part in zip(("obs", "actions", "rewards", "next_obs"), parts, strict=False):
            check_finite(part, name)
        if np.any((parts[4] != 0) & (parts[4] != 1)):
            raise InvalidInputError("terminated must be 0 or 1")
        rows = np.concatenate(parts, axis=1)
        for i, t in enumerate(ids.tolist()):
            self._rows[t, self._count[t] % self._cap] = rows[i]
            self._count[t] += 1

    def sample(self, counts: ArrayLike, *, beta: float = 0.4) -> Batch:
        c = as_array(counts, "counts", INTEGER, np.int64)
        check_shape(c, (self._k,), "counts")
        if not 0.0 <= float(beta) <= 1.0:
            raise InvalidInputError(f"beta must be in [0, 1], got {beta}")
        if np.any(c < 0):
            raise InvalidInputError("counts must be >= 0")
        sizes = self.sizes()
        if np.any((c > 0) & (sizes == 0)):
            raise EmptyTaskError(
                f"cannot sample from empty task {int(np.argmax((c > 0) & (sizes == 0)))}"
            )
        task_ids = np.repeat(np.arange(self._k, dtype=np.int64), c)
        u = self._rng.uniform(task_ids.size)
        slots = (u * sizes[task_ids]).astype(np.int64)
        rows = self._rows[task_ids, slots]
        od, ad = int(np.prod(self._obs_shape)), int(np.prod(self._action_shape))
        b = task_ids.size
        return Batch(
            obs=rows[:, :od].reshape(b, *self._obs_shape).copy(),
            actions=rows[:, od : od + ad].reshape(b, *self._action_shape).copy(),
            rewards=rows[:, od + ad].copy(),
            next_obs=rows[:, od + ad + 1 : 2 * od + ad + 1].reshape(b, *self._obs_shape).copy(),
            terminated=rows[:, -1].copy(),
            task_ids=task_ids,
            indices=task_ids * self._cap + slots,
            weights=np.ones(b, dtype=np.float32),
        )

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None:
        idx = one_dim(indices, "indices", INTEGER, np.int64)
        pri = as_array(priorities, "priorities", NUMERIC, np.float64)
        check_shape(pri, idx.shape, "priorities")
        tasks, slots = np.divmod(idx, self._cap)
        if np.any((idx < 0) | (idx >= self._k * self._cap)) or np.any(slots >= self.sizes()[tasks]):
            raise UnknownTaskError("indices must point at stored transitions")
        if not np.all(np.isfinite(pri) & (pri > 0)):
            raise InvalidInputError("priorities must be finite and > 0")

    def size(self, task_id: int) -> int:
        if not 0 <= int(task_id) < self._k:
            raise UnknownTaskError(f"task id {task_id} is outside [0, {self._k})")
        return int(min(self._count[int(task_id)], self._cap))

    def sizes(self) -> NDArray[np.int64]:
        return np.minimum(self._count, self._cap)

    def __len__(self) -> int:
        return int(self.sizes().sum())

    def state_dict(self) -> StateDict:
        return {
            "kind": "fake_replay",
            "num_tasks": self._k,
            "capacity_per_task": self._cap,
            "rows": self._rows.copy(),
            "count": self._count.copy(),
            "rng": self._rng.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(
            state, {"kind": "fake_replay", "num_tasks": self._k, "capacity_per_task": self._cap}
        )
        a = check_state_arrays(
            state,
            {"rows": (self._rows.shape, "f"), "count": ((self._k,), "iu"), "rng": ((2,), "u")},
        )
        if np.any(a["count"] < 0) or not np.all(np.isfinite(a["rows"])):
            raise CheckpointError("state dict 'count' or 'rows' out of range")
        self._rows = a["rows"].astype(np.float32, copy=True)
        self._count = a["count"].astype(np.int64, copy=True)
        self._rng.set_state(a["rng"])
