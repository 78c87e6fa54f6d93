"""The slot machinery shared by every env family (Gymnasium ids, Meta-World): an in-process
EnvPool whose N slots can each play any of K tasks, stepped one env at a time.

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
  :class:`EnvError` naming the slot and the task. Other slots may already have moved, so the
  pool is closed first: every later ``reset`` / ``reset_slots`` / ``step`` /
  ``load_state_dict`` raises InvalidInputError ("closed"), as after a
  :class:`~drats.adapters.envs.process_pool.WorkerError` of the process backend.
* **Checkpoints.** ``state_dict`` holds the slot RNG states and counters (numpy arrays, Python
  scalars and strings only). Simulators are not snapshotted (``restores_episodes`` is False):
  after ``load_state_dict`` every slot counts as ended and the caller must ``reset`` it; the
  restored RNG states make those resets reproducible.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_array,
    as_flag,
    as_positive_int,
    as_reset_args,
    as_seed,
    as_slot_count,
    as_vector,
    check_finite,
    check_shape,
)
from drats.domain.errors import CheckpointError, ConfigError, DratsError, InvalidInputError
from drats.domain.ports import EnvPool, StateDict
from drats.domain.rng import CounterRng
from drats.domain.state_tree import as_state_arrays, as_state_ints, check_state_config
from drats.domain.types import EpisodeStats, PoolStep

#: state-dict keys holding one row per slot; a multi-process pool concatenates them.
SLOT_KEYS = ("slot_rng", "slot_task", "slot_episodes", "slot_steps")


class EnvError(DratsError, RuntimeError):
    """An env raised inside ``reset_slots`` or ``step`` (the message names the slot, the task
    and the env's own error, chained as ``__cause__``); the pool is closed afterwards."""


# ---------------------------------------------------------------------------- input checks


def check_actions(
    actions: ArrayLike, num_slots: int, action_dim: int, discrete: bool
) -> NDArray[Any]:
    """Validated actions: float32[N, action_dim] clipped to [-1, 1], or int64[N] in [0, n).

    Raises:
        InvalidDtypeError: a dtype that cannot be converted safely (e.g. float for discrete).
        InvalidInputError: a wrong shape, NaN or inf, or a discrete action out of range.
    """
    if discrete:
        arr = as_array(actions, "actions", INTEGER_KINDS, np.int64)
        check_shape(arr, (num_slots,), "actions", ("n_slots",))
        bad = (arr < 0) | (arr >= action_dim)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"actions[{i}] = {int(arr[i])} is outside [0, {action_dim})"
            raise InvalidInputError(msg)
        return arr
    arr = as_array(actions, "actions", NUMERIC_KINDS, np.float32)
    check_shape(arr, (num_slots, action_dim), "actions", ("n_slots",))
    check_finite(arr, "actions")
    clipped: NDArray[np.float32] = np.clip(arr, -1.0, 1.0)
    return clipped


def check_slot_state(
    state: Mapping[str, Any], num_slots: int, num_tasks: int
) -> tuple[int, dict[str, NDArray[Any]]]:
    """The seed and the ``slot_*`` arrays of a slot-pool state dict over ``num_slots`` slots,
    checked (CheckpointError naming the entry) and converted: ``slot_rng`` uint64[N, 2],
    ``slot_task`` int64[N] in [-1, K), ``slot_episodes`` and ``slot_steps`` int64[N] >= 0."""
    seed = np.asarray(state.get("seed", -1))
    if seed.ndim != 0 or seed.dtype.kind not in "iu" or not 0 <= int(seed) < 2**64:
        raise CheckpointError(f"state dict 'seed' must be an integer >= 0, got {seed!r}")
    n = num_slots
    spec = {
        "slot_rng": ((n, 2), "u"),
        "slot_task": ((n,), "iu"),
        "slot_episodes": ((n,), "iu"),
        "slot_steps": ((n,), "iu"),
    }
    arrays = as_state_arrays(state, spec)
    return int(seed), {
        "slot_rng": arrays["slot_rng"].astype(np.uint64, copy=True),
        "slot_task": as_state_ints(arrays["slot_task"], "slot_task", -1, num_tasks - 1),
        "slot_episodes": as_state_ints(arrays["slot_episodes"], "slot_episodes", 0),
        "slot_steps": as_state_ints(arrays["slot_steps"], "slot_steps", 0),
    }


# ------------------------------------------------------------------------------ env families


class EnvFamily(ABC):
    """A picklable description of K tasks: their spaces and how to build and start their envs.

    A worker process receives the family and builds its own env instances from it, so a
    family holds only picklable data (names, spaces, task descriptions), never an env.
    """

    #: Short name of the family, stored in state dicts (e.g. ``"gym"``, ``"metaworld-mt10"``).
    kind: str = "family"

    @property
    @abstractmethod
    def task_names(self) -> tuple[str, ...]:
        """K task names, in task-id order."""

    @property
    @abstractmethod
    def spaces(self) -> tuple[tuple[Any, Any], ...]:
        """K ``(observation_space, action_space)`` pairs (Gymnasium spaces)."""

    @abstractmethod
    def make_env(self, task: int) -> Any:
        """A new env instance for ``task`` with the Gymnasium ``reset`` / ``step`` API."""

    def reseed(self, seed: int) -> EnvFamily:
        """The family a pool seeded with ``seed`` uses (for a loaded state dict's seed).

        Families whose tasks depend on the pool seed (Meta-World's goal variants) return a new
        family; the default returns ``self``.
        """
        return self

    @abstractmethod
    def start_episode(self, env: Any, task: int, draws: NDArray[np.uint64]) -> Any:
        """Start a new episode of ``task`` in ``env``; return its first raw observation.

        ``draws`` are two fresh 64-bit numbers from the slot's RNG: ``draws[0]`` seeds the
        reset, ``draws[1]`` picks a goal variant where the family has several.
        """


# --------------------------------------------------------------------------- task layouts


class _TaskLayout:
    """How one task's raw observations and actions map to the pool's padded arrays."""

    __slots__ = ("action_dtype", "action_shape", "center", "half", "obs_n", "obs_width", "start")

    def __init__(self, name: str, obs_space: Any, action_space: Any) -> None:
        from gymnasium import spaces

        if isinstance(obs_space, spaces.Box):
            self.obs_n, self.obs_width = 0, int(np.prod(obs_space.shape, dtype=np.int64))
        elif isinstance(obs_space, spaces.Discrete):  # one-hot encoded
            self.obs_n = self.obs_width = int(obs_space.n)
        else:
            msg = f"env {name!r} has observation space {obs_space}; need a Box or Discrete"
            raise ConfigError(msg)
        self.start = 0
        self.center = self.half = np.zeros(0)
        if isinstance(action_space, spaces.Box):
            self.action_shape = tuple(int(d) for d in action_space.shape)
            self.action_dtype = action_space.dtype
            low = np.asarray(action_space.low, np.float64).ravel()
            high = np.asarray(action_space.high, np.float64).ravel()
            finite = np.isfinite(low) & np.isfinite(high)  # unbounded dims get the raw action
            self.center = np.where(finite, (low + high) / 2, 0.0)
            self.half = np.where(finite, (high - low) / 2, 1.0)
        elif isinstance(action_space, spaces.Discrete):
            self.action_shape = ()
            self.action_dtype = np.dtype(np.int64)
            self.start = int(action_space.start)
        else:
            raise ConfigError(
                f"env {name!r} has action space {action_space}; every task needs a Box "
                "action space, or every task a Discrete one with the same n"
            )

    @property
    def action_width(self) -> int:
        return int(np.prod(self.action_shape, dtype=np.int64)) if self.action_shape else 0


def _layouts(family: EnvFamily) -> tuple[list[_TaskLayout], int, bool]:
    """Per-task layouts, the pool's action_dim and whether actions are discrete."""
    from gymnasium import spaces

    names = family.task_names
    layouts = [_TaskLayout(n, o, a) for n, (o, a) in zip(names, family.spaces, strict=True)]
    kinds = {isinstance(a, spaces.Discrete) for _, a in family.spaces}
    if len(kinds) > 1:
        msg = "every task needs a Box action space, or every task a Discrete one; got a mix"
        raise ConfigError(f"{msg}: {dict(zip(names, (a for _, a in family.spaces), strict=True))}")
    if kinds == {True}:
        sizes = {int(a.n) for _, a in family.spaces}
        if len(sizes) > 1:
            raise ConfigError(f"every Discrete action space needs the same n, got {sorted(sizes)}")
        return layouts, sizes.pop(), True
    return layouts, max(lay.action_width for lay in layouts), False


def pool_dims(family: EnvFamily) -> tuple[int, int, bool]:
    """``(obs_dim, action_dim, discrete)`` of a pool over ``family``, without building envs."""
    layouts, action_dim, discrete = _layouts(family)
    return max(lay.obs_width for lay in layouts) + len(layouts), action_dim, discrete


# ------------------------------------------------------------------------------- the pool


class SlotEnvPool(EnvPool):
    """N slots over the K tasks of an :class:`EnvFamily`, all stepped in this process.

    Observations are the raw observation flattened (a Discrete one one-hot encoded), padded
    with zeros to the widest task, then the K-wide task one-hot: ``obs_dim = max width + K``.
    Continuous actions are float32[N, action_dim] with ``action_dim`` the widest task's; each
    row is clipped to [-1, 1], its first ``width`` entries rescaled to the task's Box bounds and
    the rest ignored. Discrete actions are int64[N] in [0, n) (every task has the same n).

    Args:
        family: the tasks.
        num_slots: N >= 1.
        seed: pool seed; slot s draws from ``CounterRng(seed + first_slot + s)``.
        max_episode_steps: truncate episodes after this many steps (None: only the env's own
            time limit).
        terminate_on_success: end an episode (terminated=True) on its first success step
            (True or False).
        first_slot: global index of this pool's slot 0 (a worker of :class:`ProcessEnvPool`
            hosts slots ``first_slot .. first_slot + num_slots - 1``).
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
        if max_idle_envs is not None and (
            isinstance(max_idle_envs, bool)
            or not isinstance(max_idle_envs, int)
            or max_idle_envs < 0
        ):
            raise ConfigError(f"max_idle_envs must be an integer >= 0, got {max_idle_envs!r}")
        self._max_idle = n if max_idle_envs is None else max_idle_envs
        self._parked: list[tuple[int, Any]] = []  # idle envs, least recently parked first
        self._family = family
        self._n, self._k = n, len(family.task_names)
        self._seed = as_seed(seed)
        self._max_steps = (
            0
            if max_episode_steps is None
            else as_positive_int(max_episode_steps, "max_episode_steps")
        )
        self._terminate_on_success = as_flag(terminate_on_success, "terminate_on_success")
        if isinstance(first_slot, bool) or not isinstance(first_slot, int) or first_slot < 0:
            raise ConfigError(f"first_slot must be an integer >= 0, got {first_slot!r}")
        self._first = first_slot
        self._layouts, self._action_dim, self._discrete = _layouts(family)
        self._obs_width = max(lay.obs_width for lay in self._layouts)
        self._rngs = [CounterRng(self._seed + first_slot + s) for s in range(n)]
        self._idle: list[list[Any]] = [[] for _ in range(self._k)]  # free lists per task
        self._envs: list[Any] = [None] * n
        self._env_task = np.full(n, -1, np.int64)  # task of the env each slot holds
        self._task = np.full(n, -1, np.int64)  # task each slot plays (-1: never reset)
        self._running = np.zeros(n, np.bool_)
        self._returns = np.zeros(n, np.float64)
        self._lengths = np.zeros(n, np.int64)
        self._success = np.zeros(n, np.bool_)
        self._episodes = np.zeros(n, np.int64)  # episodes started per slot
        self._steps = np.zeros(n, np.int64)  # env steps per slot
        self._envs_made = 0
        self._closed = False

    # -------------------------------------------------------------------------- members

    @property
    def num_slots(self) -> int:
        return self._n

    @property
    def num_tasks(self) -> int:
        return self._k

    @property
    def task_names(self) -> Sequence[str]:
        return self._family.task_names

    @property
    def obs_dim(self) -> int:
        return self._obs_width + self._k

    @property
    def action_dim(self) -> int:
        return self._action_dim

    @property
    def discrete(self) -> bool:
        return self._discrete

    @property
    def restores_episodes(self) -> bool:
        return False

    @property
    def envs_created(self) -> int:
        """Env instances built so far (at most one per slot and task ever played)."""
        return self._envs_made

    @property
    def running(self) -> NDArray[np.bool_]:
        """bool[N], slots with an episode in flight (a copy)."""
        return self._running.copy()

    # --------------------------------------------------------------------------- resets

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        """Start a new episode in every slot, slot i playing ``task_ids[i]``; an episode in
        flight is dropped without statistics."""
        t = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        check_shape(t, (self._n,), "task_ids", ("n_slots",))
        return self.reset_slots(np.arange(self._n, dtype=np.int64), t)

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
                self._encode(out[row], raw, task)
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

    def _encode(self, row: NDArray[np.float32], raw: Any, task: int) -> None:
        lay = self._layouts[task]
        if lay.obs_n:
            row[int(raw)] = 1.0
        else:
            row[: lay.obs_width] = np.asarray(raw, np.float32).ravel()
        row[self._obs_width + task] = 1.0

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
        env moves, if a slot's episode has ended (or never started) and was not reset, and
        EnvError if an env raises (or returns an observation that does not fit): slots before
        it have already moved, so the pool is closed."""
        self._check_open()
        a = check_actions(actions, self._n, self._action_dim, self._discrete)
        if not self._running.all():
            slot = int(np.flatnonzero(~self._running)[0])
            raise InvalidInputError(
                f"slot {self._first + slot} has no episode in flight (it ended, or was never "
                "reset, or a state dict was loaded); call reset_slots on it before step"
            )
        n = self._n
        obs = np.zeros((n, self.obs_dim), np.float32)
        rewards = np.zeros(n, np.float32)
        terminated = np.zeros(n, np.bool_)
        truncated = np.zeros(n, np.bool_)
        for slot in range(n):
            task = int(self._task[slot])
            lay = self._layouts[task]
            if self._discrete:
                act: Any = int(a[slot]) + lay.start
            else:
                scaled = lay.center + a[slot, : lay.action_width] * lay.half
                act = scaled.astype(lay.action_dtype).reshape(lay.action_shape)
            try:
                raw, reward, term, trunc, info = self._envs[slot].step(act)
                self._encode(obs[slot], raw, task)
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
            "action_dim": self._action_dim,
            "discrete": self._discrete,
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
