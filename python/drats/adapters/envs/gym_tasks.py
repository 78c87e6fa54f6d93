"""EnvPool over a list of Gymnasium env ids (``GymEnvPool``): observations padded to the widest
task plus the task one-hot, actions in [-1, 1] rescaled to each task's bounds; the slot
machinery (lazy env reuse, no autoreset, explicit seeding) is :class:`SlotEnvPool`'s, in this
process or, with ``backend="process"``, in worker processes
(:func:`~drats.adapters.envs.factory.make_family_pool`).

Call sequence (the :class:`~drats.domain.ports.EnvPool` port's)::

    pool = GymEnvPool(["Pendulum-v1", "MountainCarContinuous-v0"], num_slots=4, seed=0)
    obs = pool.reset(task_ids)                 # float32[N, obs_dim]
    out = pool.step(actions)                   # ended slots keep their final obs
    done = np.flatnonzero(out.terminated | out.truncated)
    obs = out.obs.copy()
    obs[done] = pool.reset_slots(done, sampler.sample(len(done)))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from drats.adapters.envs.factory import FamilyEnvPool, PoolOptions
from drats.adapters.envs.family import EnvFamily
from drats.domain.errors import ConfigError

#: The info keys whose truthy value is a success step.
SUCCESS_KEYS = ("success", "is_success")


class GymFamily(EnvFamily):
    """Tasks given by Gymnasium env ids, built with ``gymnasium.make``.

    What each task carries besides its spaces, read once here (on a throwaway instance):

    * ``reports_success``: whether its env reports success. A task reports success when the
      info of ``reset`` or of one step after it (the middle of a Box action space, or a
      Discrete one's first action) holds a ``success`` or ``is_success`` key, whatever its
      value (Gymnasium-Robotics, Meta-World and most success-aware envs put it in every
      step's info). Classic control and MuJoCo envs do not: their success is "not reported".
      An env that announces success only at some later step counts as not reporting it.
    * ``task_targets``: its spec's ``reward_threshold`` (CartPole-v1 475, Acrobot-v1 -100,
      MountainCarContinuous-v0 90; None for Pendulum-v1 and most MuJoCo envs).

    Args:
        env_ids: one registered env id (a string) per task, each listed once.
        max_episode_steps: passed to ``gymnasium.make`` (None keeps each env's default).

    Raises:
        ConfigError: not a non-empty sequence of strings, an id listed twice, an unknown env
            id (with Gymnasium's message), a make that fails, or an env that raises on its
            first reset or step.
    """

    kind = "gym"

    def __init__(self, env_ids: Sequence[str], max_episode_steps: int | None = None) -> None:
        self._ids = _env_ids(env_ids)
        self._max_steps = max_episode_steps
        spaces, reports, targets = [], [], []
        for task in range(len(self._ids)):
            env = self.make_env(task)
            try:
                spaces.append((env.observation_space, env.action_space))
                reports.append(_probe_success(env, self._ids[task]))
                threshold = getattr(env.spec, "reward_threshold", None)
                targets.append(None if threshold is None else float(threshold))
            finally:
                env.close()
        self._spaces = tuple(spaces)
        self._reports = tuple(reports)
        self._targets = tuple(targets)

    @property
    def reports_success(self) -> tuple[bool, ...]:
        return self._reports

    @property
    def task_targets(self) -> tuple[float | None, ...]:
        return self._targets

    @property
    def task_names(self) -> tuple[str, ...]:
        return self._ids

    @property
    def spaces(self) -> tuple[tuple[Any, Any], ...]:
        return self._spaces

    def make_env(self, task: int) -> Any:
        import gymnasium as gym

        env_id = self._ids[task]
        try:
            return gym.make(env_id, max_episode_steps=self._max_steps, disable_env_checker=True)
        except gym.error.Error as err:
            raise ConfigError(f"cannot make Gymnasium env {env_id!r}: {err}") from err

    def start_episode(self, env: Any, task: int, draws: NDArray[np.uint64]) -> Any:
        obs, _ = env.reset(seed=int(draws[0] >> np.uint64(32)))
        return obs


def _probe_success(env: Any, env_id: str) -> bool:
    """Whether ``env`` puts a success key in the info of ``reset`` or of one step after it
    (a fixed action: the middle of a Box space, a Discrete space's first action)."""
    from gymnasium import spaces

    space = env.action_space
    if isinstance(space, spaces.Box):
        action: Any = np.clip(np.zeros(space.shape), space.low, space.high).astype(space.dtype)
    elif isinstance(space, spaces.Discrete):
        action = int(space.start)
    else:  # the layout refuses this space, naming the task
        return False
    try:
        _, info = env.reset(seed=0)
        infos = [info, env.step(action)[-1]]
    except Exception as err:
        raise ConfigError(
            f"Gymnasium env {env_id!r} raised on its first reset or step "
            f"({type(err).__name__}: {err})"
        ) from err
    return any(isinstance(i, dict) and any(k in i for k in SUCCESS_KEYS) for i in infos)


def _env_ids(env_ids: object) -> tuple[str, ...]:
    """``env_ids`` as a tuple of distinct strings (ConfigError naming the argument)."""
    msg = f"env_ids must be a non-empty sequence of env id strings, got {env_ids!r}"
    if isinstance(env_ids, str | bytes) or not isinstance(env_ids, Sequence | np.ndarray):
        raise ConfigError(msg)
    ids = tuple(env_ids)
    if not ids or not all(isinstance(e, str) for e in ids):
        raise ConfigError(msg)
    seen: set[str] = set()
    for env_id in ids:
        if env_id in seen:
            raise ConfigError(
                f"env_ids lists {env_id!r} more than once; each task needs its own env id"
            )
        seen.add(env_id)
    return tuple(str(e) for e in ids)


class GymEnvPool(FamilyEnvPool):
    """EnvPool over a list of Gymnasium env ids, one task per id.

    Every env must have a Box action space (actions float32[N, max width] in [-1, 1],
    rescaled to each env's bounds, extra entries ignored), or every env a Discrete action
    space (``discrete`` is True, actions int64[N] in [0, A) with A the largest n; task i takes
    only [0, n_i), ``action_counts`` lists each n_i and a larger action is refused with
    InvalidInputError). Observations (Box, flattened, or Discrete, one-hot encoded) are
    zero-padded to the widest task, followed by the K-wide task one-hot. Success is
    ``info["success"]`` or ``info["is_success"]`` truthy at any step of the episode;
    ``reports_success`` says which tasks report it at all and ``task_targets`` holds each
    env spec's ``reward_threshold`` (see :class:`GymFamily`).

    Args:
        env_ids: K registered Gymnasium env ids, in task-id order.
        num_slots: N >= 1 slots, each able to play any task.
        seed: pool seed (slot s draws its reset seeds from ``seed + s``).
        max_episode_steps: episode time limit for every task (None: each env's default).
        terminate_on_success: end an episode (terminated=True) on its first success step
            (True or False).
        backend: ``"inprocess"`` (all slots stepped here) or ``"process"`` (``num_workers``
            worker processes, each hosting a contiguous share of the slots); both give the
            same results for the same seed and actions.
        num_workers: worker processes of the process backend, in [1, N]; None means
            ``min(2, N)``. Refused with ``backend="inprocess"``.
        max_idle_envs: idle env instances kept for reuse, per worker on the process backend
            (None: one per slot).

    Raises:
        ConfigError: an unknown or repeated env id (with Gymnasium's message for an unknown
            one), an unsupported space (naming the env id) or a bad or inapplicable setting
            (``num_slots`` above :data:`~drats.domain.checks.MAX_SLOTS` included). The cheap
            settings are checked before any env is built.
    """

    def __init__(
        self,
        env_ids: Sequence[str],
        num_slots: int,
        *,
        seed: int = 0,
        max_episode_steps: int | None = None,
        terminate_on_success: bool = False,
        backend: Literal["inprocess", "process"] = "inprocess",
        num_workers: int | None = None,
        max_idle_envs: int | None = None,
    ) -> None:
        options = PoolOptions.check(  # before any env is built
            GymFamily.kind,
            num_slots,
            backend=backend,
            num_workers=num_workers,
            seed=seed,
            max_episode_steps=max_episode_steps,
            terminate_on_success=terminate_on_success,
            max_idle_envs=max_idle_envs,
        )
        super().__init__(GymFamily(env_ids, options.max_episode_steps), options)


__all__ = ["GymEnvPool", "GymFamily"]
