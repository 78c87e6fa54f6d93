"""What every per-task replay adapter shares: its validated settings and their properties."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from drats.domain.checks import (
    MAX_REPLAY_VALUES,
    as_shape,
    finite_float,
    positive_int,
    replay_state_config,
    task_count,
)
from drats.domain.errors import ConfigError


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
        self._num_tasks = task_count(num_tasks)
        self._capacity = positive_int(capacity_per_task, "capacity_per_task")
        self._obs_shape = as_shape(obs_shape, "obs_shape")
        self._action_shape = as_shape(action_shape, "action_shape")
        self._alpha = finite_float(alpha, "alpha", minimum=0.0)
        # One row per transition: obs, action, reward, next obs, terminated (exact ints here,
        # so a huge shape cannot wrap around as it would in C++).
        row = 2 * math.prod(self._obs_shape) + math.prod(self._action_shape) + 2
        self._values = self._num_tasks * self._capacity * row
        if self._values > MAX_REPLAY_VALUES:
            raise ConfigError(
                f"num_tasks * capacity_per_task * row size must be at most {MAX_REPLAY_VALUES} "
                f"float32 values, got {self._num_tasks} * {self._capacity} * {row}"
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
