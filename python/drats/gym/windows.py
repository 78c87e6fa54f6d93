"""The sampler side of the bring-your-own-loop protocol, shared by the Gymnasium vector
wrapper and the Stable-Baselines3 callback: feed finished episodes to a
:class:`~drats.domain.ports.TaskSampler` and close a window every ``window_steps`` env steps.

A window closes at the first vector step that brings its env steps (summed over the sub-envs)
to ``window_steps`` or more, as drats's own trainers count them (``ceil(window_steps / N)``
vector steps of N sub-envs); the episodes that end on that step belong to the window it closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import as_positive_int
from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.state_tree import as_state_arrays, as_state_ints, check_state_config

#: The sampler's entries in a state dict are ``SAMPLER_PREFIX + key``.
SAMPLER_PREFIX = "sampler."


class SamplerWindows:
    """A sampler and the counters of its windows.

    Args:
        sampler: any :class:`~drats.domain.ports.TaskSampler`.
        window_steps: env steps per window, >= 1.

    Raises:
        ConfigError: ``sampler`` is not a TaskSampler, or a bad ``window_steps``.
    """

    def __init__(self, sampler: TaskSampler, window_steps: int) -> None:
        if not isinstance(sampler, TaskSampler):
            raise ConfigError(
                f"sampler must be a drats TaskSampler (sample, observe, update, probs, gaps, "
                f"num_tasks, state_dict, load_state_dict), got {type(sampler).__name__}"
            )
        self.sampler = sampler
        self.window_steps = as_positive_int(window_steps, "window_steps")
        #: env steps in all, in the open window, episodes observed, windows closed
        self.env_steps = self.window_env_steps = self.episodes = self.windows = 0

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        """Feed one batch of finished episodes to the sampler (nothing if it is empty)."""
        ids = np.asarray(task_ids, np.int64)
        if ids.size:
            self.sampler.observe(ids, np.asarray(returns, np.float64), np.asarray(successes, bool))
            self.episodes += int(ids.size)

    def advance(self, env_steps: int) -> NDArray[np.float64] | None:
        """Count ``env_steps`` more env steps; when they close the window, ``sampler.update()``
        and return the new q (else None)."""
        self.env_steps += env_steps
        self.window_env_steps += env_steps
        if self.window_env_steps < self.window_steps:
            return None
        q = np.asarray(self.sampler.update(), np.float64)
        self.window_env_steps = 0
        self.windows += 1
        return q

    # ------------------------------------------------------------------------ state

    _COUNTERS = ("env_steps", "window_env_steps", "episodes", "windows")

    def state_dict(self) -> StateDict:
        """``window_steps``, the counters and the sampler's state under ``sampler.``."""
        state: StateDict = {"window_steps": self.window_steps}
        state.update({key: getattr(self, key) for key in self._COUNTERS})
        for key, value in self.sampler.state_dict().items():
            state[SAMPLER_PREFIX + key] = value
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the counters and the sampler; a refused state (CheckpointError, or the
        sampler's own error) changes nothing."""
        check_state_config(state, {"window_steps": self.window_steps})
        a = as_state_arrays(state, {key: ((), "iu") for key in self._COUNTERS})
        counts = {key: int(as_state_ints(a[key], key, 0)) for key in self._COUNTERS}
        if counts["window_env_steps"] >= self.window_steps:
            raise CheckpointError(
                f"state dict 'window_env_steps' must be < window_steps = {self.window_steps}, "
                f"got {counts['window_env_steps']}"
            )
        n = len(SAMPLER_PREFIX)
        self.sampler.load_state_dict(
            {key[n:]: value for key, value in state.items() if key.startswith(SAMPLER_PREFIX)}
        )
        for key, value in counts.items():
            setattr(self, key, value)


__all__ = ["SAMPLER_PREFIX", "SamplerWindows"]
