"""ReplayBuffer adapter over the C++ per-task prioritized replay (``drats._core``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats import _core
from drats.adapters.replay.settings import ReplaySettings
from drats.domain.checks import as_seed, as_task_id, as_unit
from drats.domain.errors import CheckpointError
from drats.domain.ports import ReplayBuffer, StateDict
from drats.domain.replay_state import check_replay_state
from drats.domain.types import Batch


class CppPerTaskReplay(ReplaySettings, ReplayBuffer):
    """Per-task prioritized replay in C++: one FIFO ring and one fanout-8 sum tree per task.

    Transitions are stored as packed float32 rows, so a batch is one row read per transition.
    ``sample`` draws every task's share in one call with the GIL released. Semantics, errors
    and the state-dict layout are those of :class:`drats.NumpyPerTaskReplay`.

    Args:
        num_tasks: K >= 1.
        capacity_per_task: transitions kept per task (oldest overwritten first).
        obs_shape: shape of one observation (int or tuple).
        action_shape: shape of one (continuous) action.
        alpha: priority exponent, >= 0; 0 is uniform replay.
        seed: seed of the sampling stream.
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
        try:
            self._core = _core.PerTaskReplay(
                self._num_tasks,
                self._capacity,
                list(self._obs_shape),
                list(self._action_shape),
                self._alpha,
                as_seed(seed),
            )
        except MemoryError:
            raise self._out_of_memory() from None

    def add(
        self,
        task_ids: ArrayLike,
        obs: ArrayLike,
        actions: ArrayLike,
        rewards: ArrayLike,
        next_obs: ArrayLike,
        terminated: ArrayLike,
    ) -> None:
        self._core.add(task_ids, obs, actions, rewards, next_obs, terminated)

    def sample(self, counts: ArrayLike, *, beta: float = 0.4) -> Batch:
        return Batch(*self._core.sample(counts, as_unit(beta, "beta")))

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None:
        self._core.update_priorities(indices, priorities)

    def size(self, task_id: int) -> int:
        return int(self._core.size(as_task_id(task_id, self._num_tasks)))

    def sizes(self) -> NDArray[np.int64]:
        return self._core.sizes()

    def __len__(self) -> int:
        return len(self._core)

    def state_dict(self) -> StateDict:
        state: StateDict = self._config()
        state.update(self._core.get_state())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        arrays = check_replay_state(state, self._config())  # the numpy twin's checks
        try:
            self._core.set_state(arrays)
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"invalid replay state: {err}") from None
