"""The in-process backend of every env family (Gymnasium ids, Meta-World): an EnvPool whose
N slots can each play any of K tasks, stepped one env at a time. The worker-process backend
(:class:`~drats.adapters.envs.process_pool.ProcessEnvPool`) hosts one of these per worker;
:func:`~drats.adapters.envs.factory.make_family_pool` builds either.

* **Lazy env instances.** Every slot can play any task, but no N x K grid of simulators is
  built: each task keeps a free list of idle env instances. A slot that switches to task i
  hands its old instance back to its old task's free list and borrows an idle instance of
  task i, creating one only when none is idle. A slot that stays on its task keeps its env.
* **No autoreset.** Each env is stepped on its own (never through a Gymnasium vector env), so
  the step that ends an episode returns that episode's real final observation, reward and info.
* **Explicit seeding.** Slot ``s`` owns a :class:`~drats.domain.rng.CounterRng` seeded with
  ``seed + s``; every episode start draws two 64-bit numbers from it: the first seeds
  ``env.reset`` and the second picks the goal variant (Meta-World). Episodes therefore depend
  only on the pool seed, the slot, the slot's episode count, the task and the actions, not on
  which env instance a slot borrowed or on how slots are split over worker processes.
* **Episode statistics.** Each finished episode reports its task, undiscounted return, length
  and success at any step (``info["success"]`` or ``info["is_success"]`` truthy).
* **Env failures.** An exception raised by env code (``make_env``, ``start_episode``,
  ``env.step``, or a raw observation that does not fit the task's space) is re-raised as
  :class:`~drats.adapters.envs.family.EnvError` naming the slot and the task. Other slots may
  already have moved, so the pool is closed first: every later ``reset`` / ``reset_slots`` /
  ``step`` / ``load_state_dict`` raises InvalidInputError ("closed"), as after a
  :class:`~drats.adapters.envs.process_pool.WorkerError` of the process backend.
* **Checkpoints.** ``state_dict`` holds the slot RNG states and counters (numpy arrays, Python
  scalars and strings only). Simulators are not snapshotted (``restores_episodes`` is False):
  after ``load_state_dict`` every slot counts as ended and the caller must ``reset`` it; the
  restored RNG states make those resets reproducible.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.family import (
    EnvError,
    EnvFamily,
    FamilyPool,
    as_idle_cap,
    check_slot_state,
)
from drats.adapters.envs.layouts import check_actions
from drats.domain.checks import as_flag, as_positive_int, as_reset_args, as_seed, as_slot_count
from drats.domain.errors import ConfigError, InvalidInputError
from drats.domain.ports import StateDict
from drats.domain.rng import CounterRng
from drats.domain.state_tree import check_state_config
from drats.domain.types import EpisodeStats, PoolStep


class SlotEnvPool(FamilyPool):
    """N slots over the K tasks of an :class:`~drats.adapters.envs.family.EnvFamily`, all
    stepped in this process.

    Observations are the raw observation flattened (a Discrete one one-hot encoded), padded
    with zeros to the widest task, then the K-wide task one-hot: ``obs_dim = max width + K``.
    Continuous actions are float32[N, action_dim] with ``action_dim`` the widest task's; each
    row is clipped to [-1, 1], its first ``width`` entries rescaled to the task's Box bounds and
    the rest ignored. Discrete actions are int64[N] in [0, A), A the largest task's n; an action
    outside the slot's own task's [0, n) is refused (InvalidInputError, nothing moves). The
    rule is :class:`~drats.adapters.envs.layouts.PoolLayout`'s.

    Args:
        family: the tasks.
        num_slots: N >= 1.
        seed: pool seed; slot s draws from ``CounterRng(seed + first_slot + s)``.
        max_episode_steps: truncate episodes after this many steps (None: only the env's own
            time limit).
        terminate_on_success: end an episode (terminated=True) on its first success step
            (True or False).
        first_slot: global index of this pool's slot 0 (a worker of
            :class:`~drats.adapters.envs.process_pool.ProcessEnvPool` hosts slots
            ``first_slot .. first_slot + num_slots - 1``).
        max_idle_envs: idle instances kept for reuse over all tasks (None: ``num_slots``);
            beyond it the least recently parked one is closed, so a pool holds at most
            ``num_slots + max_idle_envs`` envs however often slots switch task.

    Raises:
        ConfigError: a bad setting (``num_slots`` above
            :data:`~drats.domain.checks.MAX_SLOTS` included).
    """

    def __init__(
        self,
        family: EnvFamily,
        num_slots: int,
        *,
        seed: int = 0,
        max_episode_steps: int | None = None,
        terminate_on_success: bool = False,
        first_slot: int = 0,
        max_idle_envs: int | None = None,
    ) -> None:
        n = as_slot_count(num_slots)
        cap = as_idle_cap(max_idle_envs)
        self._max_idle = n if cap is None else cap
        self._parked: list[tuple[int, Any]] = []  # idle envs, least recently parked first
        self._family = family
        self._seed = as_seed(seed)
        self._max_steps = (
            0
            if max_episode_steps is None
            else as_positive_int(max_episode_steps, "max_episode_steps")
        )
        self._terminate_on_success = as_flag(terminate_on_success, "terminate_on_success")
        if isinstance(first_slot, bool) or not isinstance(first_slot, int) or first_slot < 0:
            raise ConfigError(f"first_slot must be an integer >= 0, got {first_slot!r}")
        super().__init__(family, n, first_slot)
        self._k = len(self._names)
        self._rngs = [CounterRng(self._seed + first_slot + s) for s in range(n)]
        self._idle: list[list[Any]] = [[] for _ in range(self._k)]  # free lists per task
        self._envs: list[Any] = [None] * n
        self._env_task = np.full(n, -1, np.int64)  # task of the env each slot holds
        self._returns = np.zeros(n, np.float64)
        self._lengths = np.zeros(n, np.int64)
        self._success = np.zeros(n, np.bool_)
        self._episodes = np.zeros(n, np.int64)  # episodes started per slot
        self._steps = np.zeros(n, np.int64)  # env steps per slot
        self._envs_made = 0
        self._closed = False

    @property
    def envs_created(self) -> int:
        """Env instances built so far (at most one per slot and task ever played)."""
        return self._envs_made

    # --------------------------------------------------------------------------- resets

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        """Start new episodes in ``slots`` playing ``task_ids``: float32[M, obs_dim].

        A slot switching task returns its env to its old task's free list and borrows one of
        the new task (built if none is idle). An episode still in flight is dropped.

        Raises:
            EnvError: building or resetting an env raised; the pool is closed.
        """
        self._check_open()
        s, t = as_reset_args(slots, task_ids, self._n, self._k)
        out = np.zeros((len(s), self.obs_dim), np.float32)
        for row, (slot, task) in enumerate(zip(s.tolist(), t.tolist(), strict=True)):
            try:
                env = self._borrow(slot, task)
                draws = self._rngs[slot].next_u64(2)
                raw = self._family.start_episode(env, task, draws)
                self._layout.encode(out[row], raw, task)
            except Exception as err:
                self._env_failed("reset_slots", slot, task, err)
            self._task[slot] = task
            self._running[slot] = True
            self._returns[slot] = 0.0
            self._lengths[slot] = 0
            self._success[slot] = False
            self._episodes[slot] += 1
        return out

    def _borrow(self, slot: int, task: int) -> Any:
        env = self._envs[slot]
        if env is not None and self._env_task[slot] == task:
            return env
        old, old_task = env, int(self._env_task[slot])
        if self._idle[task]:  # take the new env before parking the old one (no churn)
            env = self._idle[task].pop()
            self._parked = [(t, e) for t, e in self._parked if e is not env]
        else:
            env = self._family.make_env(task)
            self._envs_made += 1
        if old is not None:
            self._park(old_task, old)
        self._envs[slot], self._env_task[slot] = env, task
        return env

    def _park(self, task: int, env: Any) -> None:
        """Put ``env`` on its task's free list; beyond ``max_idle_envs`` idle instances the
        least recently parked one is closed (each Meta-World env holds ~21 MB of model)."""
        self._idle[task].append(env)
        self._parked.append((task, env))
        while len(self._parked) > self._max_idle:
            old_task, old = self._parked.pop(0)
            self._idle[old_task] = [e for e in self._idle[old_task] if e is not old]
            old.close()

    def _env_failed(self, call: str, slot: int, task: int, err: Exception) -> NoReturn:
        """Close the pool (other slots may already have moved) and raise EnvError."""
        with contextlib.suppress(Exception):  # the env's own error is the one to report
            self.close()
        raise EnvError(
            f"{call}: the env of slot {self._first + slot} (task {task}, "
            f"{self._family.task_names[task]!r}) raised {type(err).__name__}: {err}; "
            f"{type(self).__name__} is closed"
        ) from err

    # ----------------------------------------------------------------------------- step

    def step(self, actions: ArrayLike) -> PoolStep:
        """Advance every slot one step (see the port). Raises InvalidInputError, before any
        env moves, if a slot's episode has ended (or never started) and was not reset or its
        discrete action is not one of its task's, and
        EnvError if an env raises (or returns an observation that does not fit): slots before
        it have already moved, so the pool is closed."""
        self._check_open()
        a = check_actions(actions, self._n, self.action_dim, self.discrete)
        self._check_running(a)
        n = self._n
        obs = np.zeros((n, self.obs_dim), np.float32)
        rewards = np.zeros(n, np.float32)
        terminated = np.zeros(n, np.bool_)
        truncated = np.zeros(n, np.bool_)
        for slot in range(n):
            task = int(self._task[slot])
            act = self._layout.env_action(a[slot], task)
            try:
                raw, reward, term, trunc, info = self._envs[slot].step(act)
                self._layout.encode(obs[slot], raw, task)
                reward = float(reward)
                success = bool(info.get("success") or info.get("is_success"))
                term, trunc = bool(term), bool(trunc)
            except Exception as err:
                self._env_failed("step", slot, task, err)
            rewards[slot] = reward
            self._returns[slot] += reward
            self._lengths[slot] += 1
            if success:
                self._success[slot] = True
                term = term or self._terminate_on_success
            if self._max_steps and self._lengths[slot] >= self._max_steps:
                trunc = True
            terminated[slot], truncated[slot] = term, trunc
        self._steps += 1
        done = terminated | truncated
        self._running &= ~done
        ended = np.flatnonzero(done)
        episodes = EpisodeStats(
            task_ids=self._task[ended].copy(),
            returns=self._returns[ended].copy(),
            lengths=self._lengths[ended].copy(),
            successes=self._success[ended].copy(),
        )
        return PoolStep(obs, rewards, terminated, truncated, self._task.copy(), episodes)

    # --------------------------------------------------------------------------- close

    def close(self) -> None:
        """Close every env instance; safe to call twice. The pool cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        envs = [e for e in self._envs if e is not None] + [e for idle in self._idle for e in idle]
        self._envs = [None] * self._n
        self._idle = [[] for _ in range(self._k)]
        self._parked = []
        first: Exception | None = None
        for env in envs:  # close them all even if one raises; then re-raise the first error
            try:
                env.close()
            except Exception as err:
                first = first or err
        if first is not None:
            raise first

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidInputError(f"{type(self).__name__} is closed")

    # ----------------------------------------------------------------------- checkpoint

    def _config(self) -> dict[str, Any]:
        return {
            "family": self._family.kind,
            "task_names": np.asarray(self._family.task_names, dtype=np.str_),
            "num_slots": self._n,
            "first_slot": self._first,
            "max_episode_steps": self._max_steps,
            "terminate_on_success": self._terminate_on_success,
            "obs_dim": self.obs_dim,
            "action_dim": self.action_dim,
            "discrete": self.discrete,
        }

    def state_dict(self) -> StateDict:
        """Configuration, then per slot (``slot_*``, one row each): RNG state uint64[N, 2],
        task int64[N] (-1 if never reset), episodes started int64[N], env steps int64[N].
        ``max_episode_steps`` is 0 for "no limit of the pool's own"."""
        state = self._config()
        state["seed"] = self._seed
        state["slot_rng"] = np.stack([r.get_state() for r in self._rngs])
        state["slot_task"] = self._task.copy()
        state["slot_episodes"] = self._episodes.copy()
        state["slot_steps"] = self._steps.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the seed, RNG states and counters. Episodes in flight are not restored:
        every slot counts as ended, and the caller must ``reset`` (or ``reset_slots``) all
        slots. A state saved under another seed is accepted (the seed is part of the state).
        A refused state (CheckpointError naming the entry: e.g. a negative counter) changes
        nothing."""
        self._check_open()
        check_state_config(state, self._config())
        seed, arrays = check_slot_state(state, self._n, self._k)
        family = self._family.reseed(seed) if seed != self._seed else self._family
        for rng, row in zip(self._rngs, arrays["slot_rng"], strict=True):
            rng.set_state(row)
        self._family, self._seed = family, seed
        self._task = arrays["slot_task"]
        self._episodes = arrays["slot_episodes"]
        self._steps = arrays["slot_steps"]
        self._running[:] = False


__all__ = ["SlotEnvPool"]
