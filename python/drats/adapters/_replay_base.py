"""What every per-task replay adapter shares: its validated settings and their properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drats.adapters._checks import as_shape, finite_float, positive_int, replay_state_config


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
        self._num_tasks = positive_int(num_tasks, "num_tasks")
        self._capacity = positive_int(capacity_per_task, "capacity_per_task")
        self._obs_shape = as_shape(obs_shape, "obs_shape")
        self._action_shape = as_shape(action_shape, "action_shape")
        self._alpha = finite_float(alpha, "alpha", minimum=0.0)

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
