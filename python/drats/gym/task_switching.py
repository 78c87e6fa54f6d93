"""``TaskSwitchingEnv``: one Gymnasium env over K task envs that picks the task of every
episode from its local copy of the sampling distribution q.

What runs where: a training loop's sampler (any :class:`~drats.domain.ports.TaskSampler`)
lives in the learner's process; each ``TaskSwitchingEnv`` (in a vector env's worker, say) holds
only q, set by :meth:`TaskSwitchingEnv.set_task_probs` once per sampler window, and reports each
finished episode's task, return, length and success in the ``info`` of the step that ends it.
:class:`~drats.gym.TaskSamplingVectorWrapper` and :class:`~drats.sb3.DratsCallback` close the
loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.layouts import PoolLayout, check_actions, padded_spaces
from drats.domain.checks import REAL_KINDS, as_array, as_flag, as_seed, as_task_id
from drats.domain.errors import CheckpointError, ConfigError, DratsError, InvalidInputError
from drats.domain.limits import MAX_TASKS
from drats.domain.ports import StateDict
from drats.domain.rng import CounterRng
from drats.domain.state_tree import as_state_arrays, as_state_ints, check_state_config

#: How far from 1 the entries of a q may sum.
PROBS_TOL = 1e-6

TaskEnv = str | Callable[[], Any]


def as_task_probs(
    q: ArrayLike, num_tasks: int, name: str = "q", error: type[DratsError] = InvalidInputError
) -> NDArray[np.float64]:
    """``q`` as a fresh float64[K], checked: finite, >= 0, summing to 1 within
    :data:`PROBS_TOL` (draws follow ``q / sum(q)``). ``error`` (InvalidInputError for a call,
    CheckpointError for a state) names ``name``; a non-real dtype raises InvalidDtypeError."""
    arr = as_array(q, name, REAL_KINDS, np.float64)
    if arr.shape != (num_tasks,):
        raise error(f"{name} must have shape ({num_tasks},), one entry per task, got {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise error(f"{name} must be finite and >= 0, got {arr}")
    total = float(arr.sum())
    if abs(total - 1.0) > PROBS_TOL:
        raise error(f"{name} must sum to 1 (within {PROBS_TOL}), got a sum of {total!r}")
    out: NDArray[np.float64] = arr.copy()
    return out


def _task_envs(task_envs: object) -> tuple[tuple[TaskEnv, ...], tuple[str, ...]]:
    """``task_envs`` checked (ConfigError naming it), and a name per task."""
    msg = "task_envs must be a non-empty sequence of env ids or zero-argument env constructors"
    if isinstance(task_envs, str | bytes) or not isinstance(task_envs, Sequence):
        raise ConfigError(f"{msg}, got {task_envs!r}")
    items = tuple(task_envs)
    if not 1 <= len(items) <= MAX_TASKS:
        raise ConfigError(f"{msg} (1 to {MAX_TASKS} of them), got {len(items)}")
    names = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            names.append(item)
        elif callable(item):
            name = getattr(item, "__name__", "<lambda>")
            names.append(f"task-{i}" if name == "<lambda>" else str(name))
        else:
            raise ConfigError(f"{msg}; task_envs[{i}] is {item!r}")
    return items, tuple(names)


class TaskSwitchingEnv(gym.Env[NDArray[np.float32], Any]):
    """A Gymnasium env that plays one of K task envs per episode, the task drawn from q.

    At every ``reset`` the env draws two 64-bit numbers from its own
    :class:`~drats.domain.rng.CounterRng`, as a slot of drats's env pools does: the first (its
    top 32 bits) seeds the task env's ``reset``, the second picks the task from q (unless
    ``reset(options={"task": i})`` names one). ``reset(seed=s)`` restarts the stream at seed
    ``s``; without a seed it continues, so the episodes depend only on the seed, the episode
    count, q and the actions. Give every sub-env of a vector env its own seed
    (``envs.reset(seed=s)`` does: ``s + i``).

    Observations and actions follow the ``gym:`` suite's rule
    (:class:`~drats.adapters.envs.layouts.PoolLayout`): a task's observation (Box, flattened;
    Discrete, one-hot) zero-padded to the widest task's, then the K-wide task one-hot (unless
    ``one_hot=False``), as float32; actions are float32[action_dim] in [-1, 1], rescaled to
    each task's Box bounds (extra entries ignored), or, when every task has a Discrete action
    space, an integer in the union ``[0, max n_i)``. Tasks with different action counts take
    only their own ``[0, n_i)``: ``action_masks()`` and, for such tasks, ``info["action_mask"]``
    (reset and step) give the current task's valid actions, bool[max n_i] (the pools' rule,
    :func:`~drats.adapters.envs.layouts.action_mask`), and another action is refused before
    the task env sees it.

    Every ``info`` (reset and step) carries ``task_id``, the task env's own keys passed
    through. The step that ends an episode adds ``episode_return``, ``episode_length`` and
    ``success`` (the task env's ``info["success"]`` or ``info["is_success"]`` truthy at any
    step of the episode), which overrides a task env's per-step ``success`` on that step.

    Args:
        task_envs: K Gymnasium env ids (built with ``gymnasium.make``) or zero-argument
            callables returning a Gymnasium env, in task-id order.
        seed: seed of the task stream (any integer; see above).
        one_hot: append the task one-hot to the observation.
        spaces: the K tasks' ``(observation_space, action_space)``, if known. Given, no task
            env is built before its task is first played (a ConfigError then if its spaces
            differ); omitted, every task env is built at construction to read its spaces (and
            kept for its episodes).

    Raises:
        ConfigError: bad ``task_envs`` (an unknown env id, spaces that cannot be padded
            together: a Box and a Discrete action space mixed, say), ``seed``, ``one_hot`` or
            ``spaces``.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention

    def __init__(
        self,
        task_envs: Sequence[TaskEnv],
        *,
        seed: int = 0,
        one_hot: bool = True,
        spaces: Sequence[tuple[Any, Any]] | None = None,
    ) -> None:
        self._makers, self._names = _task_envs(task_envs)
        self._seed = as_seed(seed)
        self._one_hot = as_flag(one_hot, "one_hot")
        k = len(self._makers)
        self._envs: list[Any] = [None] * k
        try:
            if spaces is None:
                self._spaces = tuple(self._read_spaces(t) for t in range(k))
            else:
                self._spaces = tuple((o, a) for o, a in spaces)
                if len(self._spaces) != k:
                    raise ConfigError(f"spaces has {len(self._spaces)} entries, task_envs {k}")
            self._layout = PoolLayout(self._names, self._spaces)
        except ConfigError as err:
            self.close()
            raise ConfigError(f"task_envs: {err}") from err
        except (TypeError, ValueError) as err:
            self.close()
            raise ConfigError(f"spaces must be K (observation, action) pairs: {err}") from err
        obs_space, self.action_space = padded_spaces(self._layout, self._spaces)
        width = self._layout.obs_dim if self._one_hot else self._layout.obs_width
        self.observation_space = gym.spaces.Box(
            obs_space.low[:width], obs_space.high[:width], dtype=np.float32
        )
        self._probs = np.full(k, 1.0 / k)
        self._cdf = _cdf(self._probs)
        self._rng = CounterRng(self._seed)
        self._task = -1
        self._running = False
        self._return, self._length, self._success = 0.0, 0, False

    def _build(self, task: int) -> Any:
        if self._envs[task] is not None:
            return self._envs[task]
        maker = self._makers[task]
        if isinstance(maker, str):
            try:
                env = gym.make(maker, disable_env_checker=True)
            except gym.error.Error as err:
                raise ConfigError(f"cannot make Gymnasium env {maker!r}: {err}") from err
        else:
            env = maker()
        given = getattr(self, "_spaces", None)  # None while the constructor reads them
        if given is not None and (env.observation_space, env.action_space) != given[task]:
            env.close()
            raise ConfigError(
                f"spaces[{task}] is {given[task]}, but task {task} ({self._names[task]!r}) has "
                f"({env.observation_space}, {env.action_space})"
            )
        self._envs[task] = env
        return env

    def _read_spaces(self, task: int) -> tuple[Any, Any]:
        env = self._build(task)
        return env.observation_space, env.action_space

    # ------------------------------------------------------------------------ description

    @property
    def num_tasks(self) -> int:
        """K."""
        return len(self._makers)

    @property
    def task_names(self) -> tuple[str, ...]:
        """The env ids, or the constructors' ``__name__`` (``task-i`` for a lambda or a
        callable without one)."""
        return self._names

    @property
    def task(self) -> int:
        """The task of the current (or last) episode; -1 before the first reset."""
        return self._task

    @property
    def probs(self) -> NDArray[np.float64]:
        """float64[K], the local copy of q (a copy)."""
        return self._probs.copy()

    @property
    def layout(self) -> PoolLayout:
        """The padding / one-hot rule of this env's tasks."""
        return self._layout

    def set_task_probs(self, q: ArrayLike) -> None:
        """Replace the local q with float[K] ``q`` (finite, >= 0, summing to 1 within 1e-6).

        Raises:
            InvalidInputError / InvalidDtypeError: a bad ``q`` (named); nothing changes.
        """
        probs = as_task_probs(q, self.num_tasks)
        self._probs, self._cdf = probs, _cdf(probs)

    # ------------------------------------------------------------------------ episodes

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Start an episode: of ``options["task"]`` if given, else of a task drawn from q.

        Raises:
            ConfigError: a bad ``seed``.
            UnknownTaskError / InvalidDtypeError: a bad ``options["task"]`` (nothing changes).
            ConfigError (an env id that cannot be made) or the task env's own error.
        """
        rest = dict(options or {})
        forced = None
        if "task" in rest:
            forced = as_task_id(rest.pop("task"), self.num_tasks, 'options["task"]')
        if seed is not None:
            key = as_seed(seed)
            super().reset(seed=key)
            self._rng = CounterRng(key)
        draws = self._rng.next_u64(2)
        task = self._draw(draws[1]) if forced is None else forced
        env = self._build(task)
        kwargs: dict[str, Any] = {"options": rest} if rest else {}
        raw, info = env.reset(seed=int(draws[0] >> np.uint64(32)), **kwargs)
        self._task, self._running = task, True
        self._return, self._length, self._success = 0.0, 0, False
        out = dict(info)
        out["task_id"] = task
        self._add_mask(out, task)
        return self._encode(raw, task), out

    def _draw(self, bits: np.uint64) -> int:
        """The task whose q-interval holds the uniform double of 64 random ``bits``."""
        u = float(bits >> np.uint64(11)) * 2.0**-53
        return int(np.searchsorted(self._cdf, u, "right"))

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """Step the current task env with ``action`` (see the class for the action rule).

        Raises:
            InvalidInputError / InvalidDtypeError: a bad action (one outside the current
                task's actions included), or a step after the episode ended (or before the
                first reset); nothing changes.
        """
        lay = self._layout
        shape = () if lay.discrete else (lay.action_dim,)
        arr = np.asarray(action)
        if arr.shape != shape:
            raise InvalidInputError(f"action must have shape {shape}, got {arr.shape}")
        checked = check_actions(arr.reshape(1, *shape), 1, lay.action_dim, lay.discrete)[0]
        if not self._running:
            raise InvalidInputError("the episode has ended (or never started); call reset")
        task = self._task
        if lay.discrete:  # one of the task's own actions
            lay.check_task_actions(checked.reshape(1), np.array([task], np.int64))
        raw, reward, terminated, truncated, info = self._envs[task].step(
            lay.env_action(checked, task)
        )
        self._return += float(reward)
        self._length += 1
        self._success = self._success or _success(info)
        out = dict(info)
        out["task_id"] = task
        self._add_mask(out, task)
        if terminated or truncated:
            self._running = False
            out["episode_return"] = self._return
            out["episode_length"] = self._length
            out["success"] = self._success
        return self._encode(raw, task), float(reward), bool(terminated), bool(truncated), out

    def action_masks(self) -> NDArray[np.bool_]:
        """bool[action_dim], the actions of the current episode's task (discrete tasks; all
        true when every task takes every action).

        Raises:
            InvalidInputError: continuous actions, or no episode started yet.
        """
        mask = self._layout.action_mask
        if mask is None:
            raise InvalidInputError("action_masks applies to discrete actions only")
        if self._task < 0:
            raise InvalidInputError("no episode has started; call reset")
        row: NDArray[np.bool_] = mask[self._task].copy()
        return row

    def _add_mask(self, info: dict[str, Any], task: int) -> None:
        """``info["action_mask"]``: the task's valid actions, when tasks take different ones."""
        counts = self._layout.action_counts
        if (
            counts is not None
            and self._layout.action_mask is not None
            and counts.min() < counts.max()
        ):
            info["action_mask"] = self._layout.action_mask[task].copy()

    def _encode(self, raw: Any, task: int) -> NDArray[np.float32]:
        row = np.zeros(self._layout.obs_dim, np.float32)
        self._layout.encode(row, raw, task)
        return row if self._one_hot else row[: self._layout.obs_width].copy()

    def close(self) -> None:
        """Close every task env built so far; safe to call twice."""
        envs, self._envs = self._envs, [None] * len(self._envs)
        for env in envs:
            if env is not None:
                env.close()

    # ------------------------------------------------------------------------ state

    def _config(self) -> dict[str, Any]:
        return {
            "kind": "task-switching-env",
            "num_tasks": self.num_tasks,
            "task_names": np.asarray(self._names, dtype=np.str_),
            "one_hot": self._one_hot,
        }

    def state_dict(self) -> StateDict:
        """q (``probs``), the task stream's ``rng`` state uint64[2] and the current ``task``
        (-1 before the first reset). Task envs are not snapshotted."""
        return {
            **self._config(),
            "probs": self._probs.copy(),
            "rng": self._rng.get_state(),
            "task": self._task,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore q, the stream and the task. The episode in flight is not restored: call
        ``reset`` next (without a seed, to continue the restored stream).

        Raises:
            CheckpointError: a state of another configuration or a bad entry (named);
                nothing changes.
        """
        probs, rng, task = check_sampling_state(state, self._config())
        self._probs, self._cdf = probs, _cdf(probs)
        self._rng = CounterRng(0)
        self._rng.set_state(rng)
        self._task, self._running = task, False

    @property
    def sampling_state(self) -> StateDict:
        """:meth:`state_dict`; setting it calls :meth:`load_state_dict` (so a vector env's
        ``set_attr("sampling_state", states)`` restores each sub-env its own state)."""
        return self.state_dict()

    @sampling_state.setter
    def sampling_state(self, state: Mapping[str, Any]) -> None:
        self.load_state_dict(state)


def check_sampling_state(
    state: Mapping[str, Any], config: Mapping[str, Any]
) -> tuple[NDArray[np.float64], NDArray[np.uint64], int]:
    """``(probs, rng state, task)`` of a :class:`TaskSwitchingEnv` state dict checked against
    ``config`` (the configuration entries of the env's own state dict), without an env: so a
    vector wrapper can check its sub-envs' states before sending them.

    Raises:
        CheckpointError: another configuration or a bad entry (named).
    """
    check_state_config(state, config)
    k = int(config["num_tasks"])
    a = as_state_arrays(state, {"probs": ((k,), "f"), "rng": ((2,), "u"), "task": ((), "iu")})
    probs = as_task_probs(a["probs"], k, "state dict 'probs'", CheckpointError)
    task = int(as_state_ints(a["task"], "task", -1, k - 1))
    return probs, a["rng"].astype(np.uint64), task


#: The configuration entries of a TaskSwitchingEnv state dict.
CONFIG_KEYS = ("kind", "num_tasks", "task_names", "one_hot")


def _cdf(probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """The cumulative sums of ``probs``, the last exactly 1 (so a task of probability 0 is
    never drawn, wherever it stands)."""
    cdf = np.cumsum(probs)
    out: NDArray[np.float64] = cdf / cdf[-1]
    return out


def _success(info: Mapping[str, Any]) -> bool:
    return bool(info.get("success") or info.get("is_success"))


__all__ = [
    "CONFIG_KEYS",
    "PROBS_TOL",
    "TaskSwitchingEnv",
    "as_task_probs",
    "check_sampling_state",
]
