"""The four ports of drats. Adapters subclass these Protocols explicitly.

Every array that crosses a port is a numpy array; ``K`` is the number of tasks, ``N`` the
number of environment slots, ``B`` a batch size. torch, gymnasium and the C++ core live behind
adapters and never appear here.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.errors import ConfigError
from drats.domain.types import Batch, EpisodeStats, PolicyStep, PoolStep

#: A state dict holds only numpy arrays, Python scalars and strings, so it can be written to
#: ``.npz`` and read back without unpickling.
StateDict = dict[str, Any]


@runtime_checkable
class TaskSampler(Protocol):
    """Decides which task an environment slot plays next.

    Call sequence::

        ids = sampler.sample(n)                      # at episode resets: int64[n] in [0, K)
        sampler.observe(task_ids, returns, successes)  # once per batch of finished episodes
        q = sampler.update()                         # at the end of each window: float64[K]

    The easy thing to get wrong: ``observe`` takes *training* episodes only, and ``update``
    starts a new window (its statistics are reset), so call it exactly once per window.

    Members:
        num_tasks: K.
        probs: float64[K], the current sampling distribution q (a copy).
        gaps: float64[K], the normalised return gaps used by the last ``update`` (zeros before).
    """

    @property
    def num_tasks(self) -> int: ...

    @property
    def probs(self) -> NDArray[np.float64]: ...

    @property
    def gaps(self) -> NDArray[np.float64]: ...

    def sample(self, n: int) -> NDArray[np.int64]:
        """Draw ``n`` task ids i.i.d. from ``probs``."""
        ...

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        """Record finished episodes: int[E] task ids, float[E] returns, bool[E] successes."""
        ...

    def update(self) -> NDArray[np.float64]:
        """Close the window: recompute ``gaps``, move ``probs``, reset the window; return probs."""
        ...

    def state_dict(self) -> StateDict: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class ReplayBuffer(Protocol):
    """Per-task prioritized replay: one FIFO ring and one priority tree per task.

    Call sequence::

        buf.add(task_ids, obs, actions, rewards, next_obs, terminated)  # each vector-env step
        batch = buf.sample(counts, beta=0.4)   # counts: int[K], rows wanted from each task
        buf.update_priorities(batch.indices, td_errors)                 # raw priorities > 0

    The easy thing to get wrong: priorities are *raw* (e.g. ``|td| + 1e-6``); the buffer raises
    them to ``alpha`` itself. New transitions enter with the largest raw priority seen so far in
    their task (1.0 at start). A replay index is ``task * capacity_per_task + slot``.

    Shapes: ``add`` takes int[B] task ids, float[B, *obs_shape] obs and next_obs,
    float[B, *action_shape] actions, float[B] rewards and bool/float[B] terminated.
    """

    @property
    def num_tasks(self) -> int: ...

    @property
    def capacity_per_task(self) -> int: ...

    @property
    def obs_shape(self) -> tuple[int, ...]: ...

    @property
    def action_shape(self) -> tuple[int, ...]: ...

    @property
    def alpha(self) -> float: ...

    def add(
        self,
        task_ids: ArrayLike,
        obs: ArrayLike,
        actions: ArrayLike,
        rewards: ArrayLike,
        next_obs: ArrayLike,
        terminated: ArrayLike,
    ) -> None: ...

    def sample(self, counts: ArrayLike, *, beta: float = 0.4) -> Batch:
        """Draw ``counts[t]`` transitions from each task t in one call (stratified by priority)."""
        ...

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None: ...

    def size(self, task_id: int) -> int:
        """Transitions currently held for ``task_id``."""
        ...

    def sizes(self) -> NDArray[np.int64]:
        """int64[K], transitions currently held for every task."""
        ...

    def __len__(self) -> int: ...

    def state_dict(self) -> StateDict: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class EnvPool(Protocol):
    """K-task environment pool with N slots; every slot can host any task.

    Call sequence::

        obs = pool.reset(task_ids)             # int64[N] -> float32[N, obs_dim]
        out = pool.step(actions)               # PoolStep; ended slots are NOT reset
        done = np.flatnonzero(out.terminated | out.truncated)
        sampler.observe(out.episodes.task_ids, out.episodes.returns, out.episodes.successes)
        obs = out.obs.copy()
        obs[done] = pool.reset_slots(done, sampler.sample(len(done)))

    The easy thing to get wrong: ``out.obs`` of an ended slot is the *final* observation of
    that episode (needed to bootstrap on truncation), not the first one of the next; the task
    one-hot inside the observation follows the task the slot is playing.

    Actions: float32[N, action_dim] in [-1, 1] when ``discrete`` is False (the pool rescales
    to each task's bounds), int64[N] in [0, action_dim) when it is True.

    Members:
        num_slots: N.   num_tasks: K.   task_names: K names.
        obs_dim: width of an observation, task one-hot included.
        action_dim: continuous action width, or the number of discrete actions.
        discrete: whether actions are discrete.
        restores_episodes: True when ``load_state_dict`` restores the episodes in flight
            exactly; False when the simulators cannot be snapshotted (MuJoCo), in which case
            the caller must ``reset`` every slot after loading (the RNG state is restored, so
            the resets are reproducible).

    Optional members (a pool without them keeps the meaning in brackets; read them with
    :func:`action_counts_of`, :func:`reports_success_of` and :func:`task_targets_of`):
        action_counts: int64[K] or None, each task's number of discrete actions when tasks
            have different ones; task i takes only ``[0, action_counts[i])`` of the union
            space ``[0, action_dim)``, the policy masks the rest out and ``step`` refuses them
            [every action valid for every task].
        reports_success: bool[K], whether each task has a success signal; a task without one
            has its success "not reported" (None in logs, never 0) [every task reports].
        task_targets: float64[K] or None, a target return each task carries (NaN where it has
            none), e.g. a Gymnasium spec's ``reward_threshold`` [none].
    """

    @property
    def num_slots(self) -> int: ...

    @property
    def num_tasks(self) -> int: ...

    @property
    def task_names(self) -> Sequence[str]: ...

    @property
    def obs_dim(self) -> int: ...

    @property
    def action_dim(self) -> int: ...

    @property
    def discrete(self) -> bool: ...

    @property
    def restores_episodes(self) -> bool: ...

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        """Start a new episode in every slot, slot i playing ``task_ids[i]``."""
        ...

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        """Start new episodes in ``slots`` playing ``task_ids``; return their first obs."""
        ...

    def step(self, actions: ArrayLike) -> PoolStep:
        """Advance every slot one step. Stepping a slot whose episode ended raises."""
        ...

    def close(self) -> None:
        """Release simulators and worker processes; safe to call twice."""
        ...

    def state_dict(self) -> StateDict: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def action_counts_of(pool: EnvPool) -> NDArray[np.int64] | None:
    """``pool.action_counts`` checked (int64[K], each in ``[1, action_dim]``), or None when the
    pool has none (continuous actions, or every action valid for every task).

    Raises:
        ConfigError: the pool's ``action_counts`` does not fit its ``num_tasks`` and
            ``action_dim``, or is given for continuous actions.
    """
    counts = getattr(pool, "action_counts", None)
    if counts is None:
        return None
    arr = np.asarray(counts)
    k, a = pool.num_tasks, pool.action_dim
    if (
        not pool.discrete
        or arr.shape != (k,)
        or arr.dtype.kind not in "iu"
        or np.any((arr < 1) | (arr > a))
    ):
        raise ConfigError(
            f"the pool's action_counts must be int[{k}] in [1, {a}] for discrete actions, "
            f"got {counts!r}"
        )
    return arr.astype(np.int64)


def reports_success_of(pool: EnvPool) -> NDArray[np.bool_]:
    """``pool.reports_success`` checked (bool[K]); all True when the pool has none."""
    flags = getattr(pool, "reports_success", None)
    k = pool.num_tasks
    if flags is None:
        return np.ones(k, np.bool_)
    arr = np.asarray(flags)
    if arr.shape != (k,) or arr.dtype != np.bool_:
        raise ConfigError(f"the pool's reports_success must be bool[{k}], got {flags!r}")
    return arr.copy()


def defers_values(policy: Policy) -> bool:
    """Whether ``policy`` offers batched critic values: a ``values(obs, task_ids)`` method and
    an ``act`` that takes ``value=False`` (see :class:`Policy`)."""
    if not callable(getattr(policy, "values", None)):
        return False
    try:
        params = inspect.signature(policy.act).parameters
    except (TypeError, ValueError):
        return False
    return "value" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def task_targets_of(pool: EnvPool) -> NDArray[np.float64] | None:
    """``pool.task_targets`` checked (float64[K], NaN where a task has none), or None."""
    targets = getattr(pool, "task_targets", None)
    if targets is None:
        return None
    arr = np.asarray(targets, dtype=np.float64)
    if arr.shape != (pool.num_tasks,) or np.any(np.isinf(arr)):
        raise ConfigError(
            f"the pool's task_targets must be float[{pool.num_tasks}] (NaN where a task has "
            f"none), got {targets!r}"
        )
    return arr


@runtime_checkable
class Policy(Protocol):
    """A multi-task agent: acts from observations plus task ids and learns from data.

    Call sequence::

        step = policy.act(obs, task_ids)            # float32[N, obs_dim], int64[N] -> PolicyStep
        ...collect a rollout or fill a replay...
        metrics = policy.learn(data)                # one update; data is the learner's own type
        policy.act(obs, task_ids, deterministic=True)   # evaluation

    An on-policy policy whose ``act`` returns a ``value`` extra may also offer batched values
    (see :func:`defers_values`): ``act(obs, task_ids, value=False)`` leaves the extra out and
    ``values(obs, task_ids)`` returns float32[N] for any number of rows; the on-policy loop
    then asks for a rollout's values in one call instead of one per step.

    The easy thing to get wrong: ``act`` takes and returns numpy arrays; tensors, devices and
    pinned memory stay inside the adapter.
    """

    def act(
        self, obs: NDArray[np.float32], task_ids: NDArray[np.int64], *, deterministic: bool = False
    ) -> PolicyStep: ...

    def learn(self, data: Batch | Any) -> dict[str, float]: ...

    def state_dict(self) -> StateDict: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class MetricsSink(Protocol):
    """Somewhere the rows of a run's log also go (TensorBoard, say).

    Call sequence::

        sink.write(env_steps, {"eval_mean_success": 0.8, "q/0": 0.25, ...})   # once per row
        sink.close()                                                           # at the end

    The easy thing to get wrong: ``write`` receives only finite scalars, with list entries
    flattened to ``name/index``; the JSONL log (always written) keeps the full row.
    """

    def write(self, step: int, scalars: Mapping[str, float]) -> None: ...

    def close(self) -> None: ...


__all__ = [
    "EnvPool",
    "EpisodeStats",
    "MetricsSink",
    "Policy",
    "ReplayBuffer",
    "StateDict",
    "TaskSampler",
    "action_counts_of",
    "defers_values",
    "reports_success_of",
    "task_targets_of",
]
