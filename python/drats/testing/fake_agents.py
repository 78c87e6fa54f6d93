"""Fakes of the EnvPool and Policy ports: dependency-free stand-ins (no torch, no simulator)
that let the trainer, evaluation and checkpoints be tested quickly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import (
    NUMERIC_KINDS,
    as_array,
    as_positive_int,
    as_reset_args,
    as_seed,
    check_finite,
    check_shape,
)
from drats.domain.errors import InvalidInputError
from drats.domain.ports import EnvPool, Policy, StateDict
from drats.domain.rng import CounterRng
from drats.domain.state_tree import as_state_arrays, check_state_config
from drats.domain.types import EpisodeStats, PolicyStep, PoolStep


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
        self._n = as_positive_int(num_slots, "num_slots")
        self._k = as_positive_int(num_tasks, "num_tasks")
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
        check_state_config(state, {"kind": "fake", "num_slots": self._n, "num_tasks": self._k})
        n = self._n
        a = as_state_arrays(
            state,
            {
                "rngs": ((n, 2), "u"),
                "start": ((n,), "f"),
                "tasks": ((n,), "iu"),
                "steps": ((n,), "iu"),
                "returns": ((n,), "f"),
                "live": ((n,), "b"),
            },
        )
        for slot, rng in enumerate(self._rngs):
            rng.set_state(a["rngs"][slot])
        self._start = a["start"].astype(np.float64)
        self._tasks = a["tasks"].astype(np.int64)
        self._steps = a["steps"].astype(np.int64)
        self._returns = a["returns"].astype(np.float64)
        self._live = a["live"].astype(bool)


class FakePolicy(Policy):
    """Acts with uniform random actions from its own counter-based stream; ``learn`` records
    what it was given (``learned`` holds the number of samples of each call) and, for
    off-policy trainers, reports ``last_td_errors`` = 1 + the row's reward magnitude."""

    def __init__(self, action_dim: int, *, discrete: bool = False, seed: int = 0) -> None:
        self.action_dim = as_positive_int(action_dim, "action_dim")
        self.discrete = discrete
        self._rng = CounterRng(as_seed(seed))
        self.learned: list[int] = []
        self.last_td_errors = np.zeros(0, np.float32)

    def act(
        self, obs: NDArray[np.float32], task_ids: NDArray[np.int64], *, deterministic: bool = False
    ) -> PolicyStep:
        n = int(np.asarray(obs).shape[0])
        check_shape(np.asarray(task_ids), (n,), "task_ids", symbols=("n",))
        u = self._rng.uniform(n * (1 if self.discrete else self.action_dim))
        if deterministic:
            u = np.full_like(u, 0.75)
        extras = {"log_prob": np.zeros(n, np.float32), "value": np.zeros(n, np.float32)}
        if self.discrete:
            return PolicyStep((u * self.action_dim).astype(np.int64), extras)
        actions = (2.0 * u - 1.0).astype(np.float32).reshape(n, self.action_dim)
        return PolicyStep(actions, extras)

    def learn(self, data: Any) -> dict[str, float]:
        self.learned.append(len(data))
        rewards = getattr(data, "rewards", None)
        if rewards is not None and np.ndim(rewards) == 1:
            self.last_td_errors = (1.0 + np.abs(rewards)).astype(np.float32)
        return {"loss": float(len(self.learned))}

    def state_dict(self) -> StateDict:
        return {"kind": "fake-policy", "rng": self._rng.get_state(), "learned": len(self.learned)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(state, {"kind": "fake-policy"})
        arrays = as_state_arrays(state, {"rng": ((2,), "u")})
        self._rng.set_state(arrays["rng"])
        self.learned = [0] * int(state["learned"])
