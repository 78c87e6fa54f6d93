"""The plumbing of a vectorised numpy EnvPool (GridWorld-4, PointMass-4): all N slots live in
arrays of this process and step together.

:class:`ArrayEnvPool` keeps what every such suite shares: the slot count, the closed state,
``reset`` -> ``reset_slots`` with their checks, every slot's task, step count, running return
and live flag, the step bookkeeping (returns, truncation at ``HORIZON``, episode statistics,
ended slots), and the state dict's configuration check and common entries. A subclass adds
only its dynamics, its observation and its own state entries, through the hooks below.

State dicts restore the episodes in flight exactly (``restores_episodes`` is True). After
``close`` every call but ``close`` and ``state_dict`` raises InvalidInputError.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import as_reset_args, as_slot_count
from drats.domain.errors import CheckpointError, InvalidInputError
from drats.domain.ports import EnvPool, StateDict
from drats.domain.state_tree import as_state_arrays, check_state_config
from drats.domain.types import EpisodeStats, PoolStep

#: What a step reports when no episode ends (its arrays are empty, so sharing it is safe).
NO_EPISODES = EpisodeStats(
    task_ids=np.zeros(0, np.int64),
    returns=np.zeros(0),
    lengths=np.zeros(0, np.int64),
    successes=np.zeros(0, bool),
)

#: ``(shape, dtype kinds)`` of one state-dict array entry.
EntrySpec = tuple[tuple[int, ...], str]


class ArrayEnvPool(EnvPool):
    """N slots of a numpy suite stepped together; any slot plays any task.

    Subclasses set the class attributes and implement the hooks:

    * ``KIND`` (the state dict's ``kind``), ``TASK_NAMES``, ``HORIZON`` (an episode is
      truncated at this step unless it terminated), ``discrete``, ``obs_dim``,
      ``action_dim``;
    * :meth:`_check_actions`, :meth:`_start`, :meth:`_move`, :meth:`_observe`;
    * optionally :meth:`_config`, :meth:`_state_arrays`, :meth:`_state_spec`,
      :meth:`_out_of_range` and :meth:`_restore` for their own state entries (each calls
      ``super()`` and keeps the entries' order: its first entries, the common ones, its last).

    Args:
        num_slots: N >= 1 environment slots (at most :data:`~drats.domain.checks.MAX_SLOTS`).
    """

    KIND: str
    TASK_NAMES: tuple[str, ...]
    HORIZON: int
    restores_episodes = True

    def __init__(self, num_slots: int) -> None:
        self._n = as_slot_count(num_slots)
        self._closed = False
        n = self._n
        self._tasks = np.zeros(n, dtype=np.int64)
        self._steps = np.zeros(n, dtype=np.int64)
        self._returns = np.zeros(n, dtype=np.float64)
        self._live = np.zeros(n, dtype=bool)

    # ------------------------------------------------------------------------ description

    @property
    def num_slots(self) -> int:
        return self._n

    @property
    def num_tasks(self) -> int:
        return len(self.TASK_NAMES)

    @property
    def task_names(self) -> Sequence[str]:
        return list(self.TASK_NAMES)

    # ------------------------------------------------------------------------ hooks

    @abstractmethod
    def _check_actions(self, actions: ArrayLike) -> NDArray[Any]:
        """The checked actions (InvalidDtypeError / InvalidInputError naming them)."""

    @abstractmethod
    def _start(self, slots: NDArray[np.int64], tasks: NDArray[np.int64]) -> None:
        """Put the suite's own state of ``slots`` at the start of an episode of ``tasks``
        (the common state is set after this call)."""

    @abstractmethod
    def _move(
        self, actions: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[np.bool_], NDArray[np.bool_]]:
        """Move every slot with the checked ``actions``; return the rewards (float, added to
        the returns as they are), ``terminated`` and the episodes' success flags, bool[N]
        each. The step counts are incremented after this call."""

    @abstractmethod
    def _observe(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        """float32[len(slots), obs_dim]: the observations of ``slots``."""

    def _observe_all(self) -> NDArray[np.float32]:
        """float32[N, obs_dim]: every slot's observation (override when it can be cheaper)."""
        return self._observe(np.arange(self._n))

    # ------------------------------------------------------------------------ episodes

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidInputError(f"{type(self).__name__} is closed")

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        return self.reset_slots(np.arange(self._n), task_ids)

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        self._check_open()
        where, ids = as_reset_args(slots, task_ids, self._n, self.num_tasks)
        self._start(where, ids)
        self._tasks[where] = ids
        self._steps[where] = 0
        self._returns[where] = 0.0
        self._live[where] = True
        return self._observe(where)

    def step(self, actions: ArrayLike) -> PoolStep:
        self._check_open()
        act = self._check_actions(actions)
        if not self._live.all():
            stale = np.flatnonzero(~self._live).tolist()
            raise InvalidInputError(
                f"slots {stale} have ended their episodes; call reset_slots before stepping"
            )
        rewards, terminated, successes = self._move(act)
        self._steps += 1
        self._returns += rewards
        truncated = ~terminated & (self._steps >= self.HORIZON)
        done = terminated | truncated
        if done.any():
            ended = np.flatnonzero(done)
            episodes = EpisodeStats(
                task_ids=self._tasks[ended],
                returns=self._returns[ended],
                lengths=self._steps[ended],
                successes=successes[ended],
            )
            self._live[ended] = False
        else:
            episodes = NO_EPISODES
        return PoolStep(
            obs=self._observe_all(),
            rewards=rewards.astype(np.float32),
            terminated=terminated,
            truncated=truncated,
            task_ids=self._tasks.copy(),
            episodes=episodes,
        )

    def close(self) -> None:
        """Nothing to release; later calls (but ``close`` and ``state_dict``) raise
        InvalidInputError, as with the other pools. Safe to call twice."""
        self._closed = True

    # ------------------------------------------------------------------------ state

    def _config(self) -> dict[str, Any]:
        """The state dict's configuration entries, which a loaded state must match."""
        return {"kind": self.KIND, "num_slots": self._n}

    def _state_arrays(self) -> dict[str, NDArray[Any]]:
        """The state dict's array entries (copies), in order."""
        return {
            "tasks": self._tasks.copy(),
            "steps": self._steps.copy(),
            "returns": self._returns.copy(),
            "live": self._live.copy(),
        }

    def _state_spec(self) -> dict[str, EntrySpec]:
        """``(shape, dtype kinds)`` of every array entry, in the order of the state dict."""
        n = self._n
        return {
            "tasks": ((n,), "iu"),
            "steps": ((n,), "iu"),
            "returns": ((n,), "f"),
            "live": ((n,), "b"),
        }

    def _out_of_range(self, a: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.bool_]]:
        """Per checked entry, where its values are out of range."""
        return {
            "tasks": (a["tasks"] < 0) | (a["tasks"] >= self.num_tasks),
            "steps": (a["steps"] < 0) | (a["steps"] > self.HORIZON),
            "returns": ~np.isfinite(a["returns"]),
        }

    def _restore(self, a: Mapping[str, NDArray[Any]]) -> None:
        """Take the checked entries ``a`` (fresh copies, cast to this pool's dtypes)."""
        self._tasks = a["tasks"].astype(np.int64, copy=True)
        self._steps = a["steps"].astype(np.int64, copy=True)
        self._returns = a["returns"].astype(np.float64, copy=True)
        self._live = a["live"].astype(bool, copy=True)

    def state_dict(self) -> StateDict:
        return {**self._config(), **self._state_arrays()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore every slot's episode exactly. A refused state (CheckpointError naming the
        entry: a configuration that differs, a missing entry, a wrong shape or dtype, a value
        out of range) changes nothing."""
        self._check_open()
        check_state_config(state, self._config())
        a = as_state_arrays(state, self._state_spec())
        for key, bad in self._out_of_range(a).items():
            if np.any(bad):
                raise CheckpointError(f"state dict {key!r} is out of range: {a[key]}")
        self._restore(a)


__all__ = ["NO_EPISODES", "ArrayEnvPool", "EntrySpec"]
