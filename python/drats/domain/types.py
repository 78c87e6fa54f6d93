"""Value types that cross the ports. Every field is a numpy array; shapes and dtypes are
given as ``dtype[shape]`` with ``B`` the batch size, ``N`` the number of environment slots and
``E`` the number of finished episodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Batch:
    """Transitions drawn from a :class:`~drats.domain.ports.ReplayBuffer`.

    Fields (``B`` rows, grouped by task in increasing task id):
        obs:        float32[B, *obs_shape]
        actions:    float32[B, *action_shape]
        rewards:    float32[B]
        next_obs:   float32[B, *obs_shape]
        terminated: float32[B], 1.0 where the episode ended in a terminal state (no bootstrap)
        task_ids:   int64[B]
        indices:    int64[B], replay indices to hand back to ``update_priorities``
        weights:    float32[B], importance weights ``(n_t * P(i|t)) ** -beta`` divided by the
                    largest weight in the batch (all ones when ``alpha == 0``)
    """

    obs: NDArray[np.float32]
    actions: NDArray[np.float32]
    rewards: NDArray[np.float32]
    next_obs: NDArray[np.float32]
    terminated: NDArray[np.float32]
    task_ids: NDArray[np.int64]
    indices: NDArray[np.int64]
    weights: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.indices.shape[0])


@dataclass(frozen=True, slots=True)
class EpisodeStats:
    """Finished training episodes, one entry each; what ``TaskSampler.observe`` receives.

    Fields:
        task_ids:  int64[E]
        returns:   float64[E], undiscounted episode return
        lengths:   int64[E], steps in the episode
        successes: bool[E], success at any step of the episode
    """

    task_ids: NDArray[np.int64]
    returns: NDArray[np.float64]
    lengths: NDArray[np.int64]
    successes: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.task_ids.shape[0])


@dataclass(frozen=True, slots=True)
class PoolStep:
    """What ``EnvPool.step`` returns for ``N`` slots.

    Fields:
        obs:        float32[N, obs_dim]; for a slot whose episode just ended this is the final
                    observation of that episode (the slot is *not* reset automatically)
        rewards:    float32[N]
        terminated: bool[N], the episode reached a terminal state
        truncated:  bool[N], the episode hit its time limit
        task_ids:   int64[N], the task each slot played on this step
        episodes:   the episodes that ended on this step, one per ended slot, in increasing
                    slot order (entry j belongs to slot flatnonzero(terminated | truncated)[j])
    """

    obs: NDArray[np.float32]
    rewards: NDArray[np.float32]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    task_ids: NDArray[np.int64]
    episodes: EpisodeStats


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """What ``Policy.act`` returns for ``N`` observations.

    Fields:
        actions: float32[N, *action_shape] (continuous) or int64[N] (discrete)
        extras:  named per-row arrays the learner needs later (e.g. ``log_prob``, ``value``),
                 each with leading dimension ``N``
    """

    actions: NDArray[np.float32] | NDArray[np.int64]
    extras: dict[str, NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class Rollout:
    """``T`` steps of ``N`` environment slots collected under one policy: what an on-policy
    learner's ``Policy.learn`` receives.

    Fields:
        obs:         float32[T, N, obs_dim], the observation each action was taken from
        task_ids:    int64[T, N]
        actions:     float32[T, N, action_dim] (continuous, before clipping) or int64[T, N]
        log_probs:   float32[T, N], log-probability of the action under the acting policy
        values:      float32[T, N], the critic's value of ``obs``
        rewards:     float32[T, N]
        dones:       bool[T, N], the episode ended on this step (terminated or truncated)
        bootstrap:   float32[T, N], the critic's value of the final observation where the
                     episode was truncated (0 elsewhere): the learner adds ``gamma`` times it
                     to the reward, so a time limit is not mistaken for a terminal state
        last_values: float32[N], the critic's value of the observation after step T-1
    """

    obs: NDArray[np.float32]
    task_ids: NDArray[np.int64]
    actions: NDArray[np.float32] | NDArray[np.int64]
    log_probs: NDArray[np.float32]
    values: NDArray[np.float32]
    rewards: NDArray[np.float32]
    dones: NDArray[np.bool_]
    bootstrap: NDArray[np.float32]
    last_values: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.rewards.size)
