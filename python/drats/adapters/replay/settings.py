"""What every per-task replay adapter shares: its validated settings and their properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drats.domain.checks import (
    as_finite_float,
    as_positive_int,
    as_replay_values,
    as_shape,
    as_task_count,
)
from drats.domain.replay_state import replay_state_config


class ReplaySettings:
    """Validated ``(num_tasks, capacity_per_task, obs_shape, action_shape, alpha)`` with the
    read-only properties of the ReplayBuffer port. Adapters call ``_init_settings`` first."""

    def _init_settings(
        self,
        num_tasks: int,
        capacity_per_task: int,
        obs_shape: int | Sequence[int],
        action_shape: int | Sequence[int],
        alpha: float,
    ) -> None:
        self._num_tasks = as_task_count(num_tasks)
        self._capacity = as_positive_int(capacity_per_task, "capacity_per_task")
        self._obs_shape = as_shape(obs_shape, "obs_shape")
        self._action_shape = as_shape(action_shape, "action_shape")
        self._alpha = as_finite_float(alpha, "alpha", minimum=0.0)
        self._values = as_replay_values(
            self._num_tasks, self._capacity, self._obs_shape, self._action_shape
        )

    def _out_of_memory(self) -> MemoryError:
        """The error to raise when this replay's arrays cannot be allocated."""
        gib = (self._values * 4 + self._num_tasks * self._capacity * 8) / 2**30
        return MemoryError(
            f"a replay of {self._num_tasks} tasks x {self._capacity} transitions needs about "
            f"{gib:.1f} GiB, which could not be allocated; lower capacity_per_task"
        )

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

    def _config(self) -> dict[str, Any]:
        """The configuration entries of this replay's state dict."""
        return replay_state_config(
            self._num_tasks, self._capacity, self._obs_shape, self._action_shape, self._alpha
        )
