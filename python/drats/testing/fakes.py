"""Hand-written fakes of the four ports: small, obviously correct stand-ins (numpy only: no
torch, no simulator, no C++ core) that let trainers, evaluation, checkpoints and other adapters
be tested quickly. Each subclasses its port, refuses bad input with the typed errors of
:mod:`drats.domain.errors`, takes a seed and keeps its random stream in its state dict.
FakeTaskSampler, FakeReplayBuffer (uniform: ``prioritized=False``) and FakeEnvPool pass their
ports' checkers like any adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    REAL_KINDS,
    as_array,
    as_count,
    as_finite_float,
    as_flag,
    as_positive_int,
    as_replay_values,
    as_reset_args,
    as_seed,
    as_shape,
    as_slot_count,
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
    ConfigError,
    EmptyTaskError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.limits import MAX_DRAWS, MAX_TASKS
from drats.domain.ports import EnvPool, Policy, ReplayBuffer, StateDict, TaskSampler
from drats.domain.replay_state import check_replay_state, replay_state_config
from drats.domain.rng import CounterRng
from drats.domain.state_tree import (
    as_state_arrays,
    as_state_ints,
    check_finite_tree,
    check_state_config,
)
from drats.domain.types import Batch, EpisodeStats, PolicyStep, PoolStep, Rollout


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
        a = as_state_arrays(state, {"next": ((), "iu"), "updates": ((), "iu")})
        nxt = int(as_state_ints(a["next"], "next", 0, self._k - 1))
        self.updates = int(as_state_ints(a["updates"], "updates", 0))
        self._next = nxt


class FakeReplayBuffer(ReplayBuffer):
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
        self._num_tasks = as_task_count(num_tasks)
        self._capacity = as_positive_int(capacity_per_task, "capacity_per_task")
        self._obs_shape = as_shape(obs_shape, "obs_shape")
        self._action_shape = as_shape(action_shape, "action_shape")
        if as_finite_float(alpha, "alpha") != 0.0:
            raise ConfigError(f"alpha: FakeReplayBuffer is uniform, alpha must be 0, got {alpha}")
        as_replay_values(self._num_tasks, self._capacity, self._obs_shape, self._action_shape)
        k, cap, obs, act = self._num_tasks, self._capacity, self._obs_shape, self._action_shape
        self._shapes = {
            "obs": obs,
            "actions": act,
            "rewards": (),
            "next_obs": obs,
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
        as_count(int(np.minimum(c, MAX_DRAWS + 1).sum()), "counts total")
        task_ids = np.repeat(np.arange(self._num_tasks, dtype=np.int64), c)
        u = self._rng.uniform(task_ids.size) if task_ids.size else np.zeros(0)
        slots = np.minimum((u * self._sizes[task_ids]).astype(np.int64), self._sizes[task_ids] - 1)
        return Batch(
            **{name: column[task_ids, slots] for name, column in self._data.items()},
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

    def _config(self) -> StateDict:
        """The configuration entries of the state dict (those of the numpy replay)."""
        return replay_state_config(
            self._num_tasks, self._capacity, self._obs_shape, self._action_shape, 0.0
        )

    def state_dict(self) -> StateDict:
        state = self._config()
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
        new = check_replay_state(state, self._config())  # every check before anything changes
        self._data = {name: new[name] for name in self._shapes}
        self._leaves, self._max_priority = new["priorities"], new["max_priority"]
        self._sizes, self._positions = new["sizes"], new["positions"]
        self._rng.set_state(new["rng"])


class FakeEnvPool(EnvPool):
    """K toy tasks with 2-d continuous actions; task t's episodes last ``t + 2`` steps.

    The observation is ``[start, steps / 10]`` plus the task one-hot, where ``start`` is drawn
    from the slot's counter-based stream at each reset (so seeds matter). A step's reward is
    ``1 - |a_0 - start|``; an episode succeeds when its last reward exceeds 0.5; it ends as
    terminated on even tasks and truncated on odd ones. Everything is in ``state_dict``, so a
    restored pool continues its episodes exactly.
    """

    discrete = False
    restores_episodes = True

    def __init__(self, num_slots: int, *, num_tasks: int = 3, seed: int = 0) -> None:
        self._n = as_slot_count(num_slots)
        self._k = as_task_count(num_tasks)
        self._seed = as_seed(seed)
        self._rngs = [CounterRng(self._seed + slot) for slot in range(self._n)]
        self._start = np.zeros(self._n)
        self._tasks = np.zeros(self._n, dtype=np.int64)
        self._steps = np.zeros(self._n, dtype=np.int64)
        self._returns = np.zeros(self._n)
        self._live = np.zeros(self._n, dtype=bool)
        self.assigned: list[int] = []  # task ids of every episode started, in order

    @property
    def num_slots(self) -> int:
        return self._n

    @property
    def num_tasks(self) -> int:
        return self._k

    @property
    def task_names(self) -> Sequence[str]:
        return [f"fake-{t}" for t in range(self._k)]

    @property
    def obs_dim(self) -> int:
        return 2 + self._k

    @property
    def action_dim(self) -> int:
        return 2

    def _obs(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        obs = np.zeros((slots.size, self.obs_dim), dtype=np.float32)
        obs[:, 0] = self._start[slots]
        obs[:, 1] = self._steps[slots] / 10.0
        obs[np.arange(slots.size), 2 + self._tasks[slots]] = 1.0
        return obs

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        return self.reset_slots(np.arange(self._n), task_ids)

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        where, ids = as_reset_args(slots, task_ids, self._n, self._k)
        for slot in where.tolist():
            self._start[slot] = 2.0 * self._rngs[slot].uniform(1)[0] - 1.0
        self._tasks[where], self._steps[where], self._returns[where] = ids, 0, 0.0
        self._live[where] = True
        self.assigned += ids.tolist()
        return self._obs(where)

    def step(self, actions: ArrayLike) -> PoolStep:
        act = as_array(actions, "actions", NUMERIC_KINDS, np.float32)
        check_shape(act, (self._n, 2), "actions", symbols=("num_slots",))
        check_finite(act, "actions")
        if not self._live.all():
            raise InvalidInputError("a slot whose episode ended was stepped; reset it first")
        rewards = 1.0 - np.abs(np.clip(act[:, 0], -1, 1) - self._start)
        self._steps += 1
        self._returns += rewards
        ended_mask = self._steps >= self._tasks + 2
        even = self._tasks % 2 == 0
        ended = np.flatnonzero(ended_mask)
        episodes = EpisodeStats(
            task_ids=self._tasks[ended].copy(),
            returns=self._returns[ended].copy(),
            lengths=self._steps[ended].copy(),
            successes=rewards[ended] > 0.5,
        )
        self._live[ended] = False
        return PoolStep(
            obs=self._obs(np.arange(self._n)),
            rewards=rewards.astype(np.float32),
            terminated=ended_mask & even,
            truncated=ended_mask & ~even,
            task_ids=self._tasks.copy(),
            episodes=episodes,
        )

    def close(self) -> None:
        """Nothing to release."""

    def state_dict(self) -> StateDict:
        return {
            "kind": "fake",
            "num_slots": self._n,
            "num_tasks": self._k,
            "rngs": np.stack([r.get_state() for r in self._rngs]),
            "start": self._start.copy(),
            "tasks": self._tasks.copy(),
            "steps": self._steps.copy(),
            "returns": self._returns.copy(),
            "live": self._live.copy(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        n, k = self._n, self._k
        check_state_config(state, {"kind": "fake", "num_slots": n, "num_tasks": k})
        spec = {"rngs": ((n, 2), "u"), "start": ((n,), "f"), "returns": ((n,), "f")}
        spec.update(tasks=((n,), "iu"), steps=((n,), "iu"), live=((n,), "b"))
        a = as_state_arrays(state, spec)
        check_finite_tree({"start": a["start"], "returns": a["returns"]})
        tasks = as_state_ints(a["tasks"], "tasks", 0, k - 1)
        steps = as_state_ints(a["steps"], "steps", 0)
        for slot, rng in enumerate(self._rngs):
            rng.set_state(a["rngs"][slot])
        self._tasks, self._steps, self._live = tasks, steps, a["live"].astype(bool)
        self._start, self._returns = a["start"].astype(np.float64), a["returns"].astype(np.float64)


class FakePolicy(Policy):
    """Acts with uniform random actions from its own counter-based stream; ``learn`` records
    what it was given (``learned`` holds the number of samples of each call) and, for
    off-policy trainers, reports ``last_td_errors`` = 1 + the row's reward magnitude.

    It knows no ``obs_dim`` or ``num_tasks``, so ``act`` checks only what it can: real, finite,
    2-D observations with one row per task id, and non-negative integer task ids.
    """

    def __init__(self, action_dim: int, *, discrete: bool = False, seed: int = 0) -> None:
        self.action_dim = as_positive_int(action_dim, "action_dim")
        self.discrete = as_flag(discrete, "discrete")
        self._rng = CounterRng(as_seed(seed))
        self.learned: list[int] = []
        self.last_td_errors = np.zeros(0, np.float32)

    def act(
        self, obs: NDArray[np.float32], task_ids: NDArray[np.int64], *, deterministic: bool = False
    ) -> PolicyStep:
        x = as_array(obs, "obs", REAL_KINDS, np.float32)
        ids = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        check_shape(x, (ids.size, x.shape[1] if x.ndim == 2 else 1), "obs", symbols=("n",))
        check_finite(x, "obs")
        check_ids(ids, MAX_TASKS, "task_ids")
        n = ids.size
        u = self._rng.uniform(n * (1 if self.discrete else self.action_dim))
        if deterministic:
            u = np.full_like(u, 0.75)
        extras = {"log_prob": np.zeros(n, np.float32), "value": np.zeros(n, np.float32)}
        if self.discrete:
            return PolicyStep((u * self.action_dim).astype(np.int64), extras)
        actions = (2.0 * u - 1.0).astype(np.float32).reshape(n, self.action_dim)
        return PolicyStep(actions, extras)

    def learn(self, data: Batch | Rollout) -> dict[str, float]:
        if not isinstance(data, Batch | Rollout):
            raise InvalidInputError(f"data must be a Batch or a Rollout, got {type(data)!r}")
        self.learned.append(len(data))
        if isinstance(data, Batch):
            self.last_td_errors = (1.0 + np.abs(data.rewards)).astype(np.float32)
        return {"loss": float(len(self.learned))}

    def state_dict(self) -> StateDict:
        return {"kind": "fake-policy", "rng": self._rng.get_state(), "learned": len(self.learned)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(state, {"kind": "fake-policy"})
        a = as_state_arrays(state, {"rng": ((2,), "u"), "learned": ((), "iu")})
        learned = int(as_state_ints(a["learned"], "learned", 0))
        self._rng.set_state(a["rng"])
        self.learned = [0] * learned
