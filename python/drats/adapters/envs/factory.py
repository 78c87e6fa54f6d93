"""One pool factory for every env family, and the backend rule every suite follows.

* :func:`make_family_pool` gives any :class:`~drats.adapters.envs.family.EnvFamily` the
  in-process backend (:class:`~drats.adapters.envs.slot_pool.SlotEnvPool`) or the
  worker-process one (:class:`~drats.adapters.envs.process_pool.ProcessEnvPool`); both give
  identical results for the same seed and actions and share one state-dict layout, so a
  checkpoint taken with one loads into the other.
* :class:`FamilyEnvPool` is the public face of a family pool (the base of
  :class:`~drats.adapters.envs.gym_tasks.GymEnvPool` and
  :class:`~drats.adapters.envs.metaworld.MetaWorldEnvPool`): its subclasses only build their
  family, after every cheap setting is checked (:meth:`PoolOptions.check`).
* :func:`check_backend` is the rule for suites without a worker backend too (the numpy
  GridWorld-4 and PointMass-4 pools): an option that cannot apply is refused with a
  ConfigError naming it, never ignored.

The backend rule:

* ``backend`` is ``"inprocess"`` (the default) or ``"process"``; ``"process"`` is refused for
  a suite that has no worker backend.
* ``num_workers`` is an option of the process backend only: None (the default) means
  ``min(2, num_slots)`` workers there, and any other value given with
  ``backend="inprocess"`` is refused. On the process backend it must lie in
  ``[1, num_slots]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.family import EnvFamily, as_idle_cap
from drats.adapters.envs.process_pool import ProcessEnvPool, as_worker_count
from drats.adapters.envs.slot_pool import SlotEnvPool
from drats.domain.checks import as_flag, as_positive_int, as_seed, as_slot_count
from drats.domain.errors import ConfigError
from drats.domain.ports import EnvPool, StateDict
from drats.domain.types import PoolStep

#: The env-pool backends: all slots stepped in this process, or in worker processes.
BACKENDS = ("inprocess", "process")
#: Worker processes of the process backend when ``num_workers`` is None (at most N).
DEFAULT_WORKERS = 2


def check_backend(
    name: str, backend: object, supports_process: bool, num_workers: object = None
) -> None:
    """Refuse a ``backend`` / ``num_workers`` pair that suite ``name`` cannot honour.

    Args:
        name: the suite, named in the message (e.g. ``"gridworld4"``).
        backend: ``"inprocess"`` or ``"process"``.
        supports_process: whether the suite has a worker-process backend.
        num_workers: None, or the worker count the caller asked for (only the process
            backend takes one; its range is checked where N is known).

    Raises:
        ConfigError: an unknown backend, ``"process"`` for a suite without one, or
            ``num_workers`` given with ``backend="inprocess"``.
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ConfigError(f"backend must be 'inprocess' or 'process', got {backend!r}")
    if backend == "process" and not supports_process:
        raise ConfigError(
            f"backend='process' cannot apply to {name}: its pool has no worker-process "
            "backend (it is stepped in numpy in this process); use backend='inprocess'"
        )
    if num_workers is not None and backend != "process":
        raise ConfigError(
            f"num_workers={num_workers!r} cannot apply to {name} with backend='inprocess': "
            "only backend='process' runs worker processes"
        )


@dataclass(frozen=True)
class PoolOptions:
    """The checked settings of a pool over an env family (build them with :meth:`check`)."""

    #: N >= 1 slots, each able to play any task.
    num_slots: int
    #: ``"inprocess"`` or ``"process"``.
    backend: str
    #: worker processes, in [1, N] on the process backend; 0 in-process.
    num_workers: int
    #: pool seed as an unsigned 64-bit int; slot s draws from ``seed + s``.
    seed: int
    #: truncate episodes after this many steps; None: only the env's own limit.
    max_episode_steps: int | None
    #: end an episode (terminated=True) on its first success step.
    terminate_on_success: bool
    #: idle env instances kept for reuse (per worker on the process backend); None: one per
    #: slot.
    max_idle_envs: int | None

    @classmethod
    def check(
        cls,
        name: str,
        num_slots: int,
        *,
        backend: str = "inprocess",
        num_workers: int | None = None,
        seed: int = 0,
        max_episode_steps: int | None = None,
        terminate_on_success: bool = False,
        max_idle_envs: int | None = None,
    ) -> PoolOptions:
        """The settings of suite ``name`` (named in errors), checked (ConfigError naming the
        setting; see the module's backend rule) without building anything."""
        check_backend(name, backend, True, num_workers)
        n = as_slot_count(num_slots)
        workers = 0
        if backend == "process":
            wanted = min(DEFAULT_WORKERS, n) if num_workers is None else num_workers
            workers = as_worker_count(wanted, n)
        steps = None
        if max_episode_steps is not None:
            steps = as_positive_int(max_episode_steps, "max_episode_steps")
        return cls(
            num_slots=n,
            backend=backend,
            num_workers=workers,
            seed=as_seed(seed),
            max_episode_steps=steps,
            terminate_on_success=as_flag(terminate_on_success, "terminate_on_success"),
            max_idle_envs=as_idle_cap(max_idle_envs),
        )


def build_family_pool(family: EnvFamily, options: PoolOptions) -> SlotEnvPool | ProcessEnvPool:
    """The pool ``options`` describe over ``family``, on ``options.backend``."""
    common: dict[str, Any] = {
        "seed": options.seed,
        "max_episode_steps": options.max_episode_steps,
        "terminate_on_success": options.terminate_on_success,
        "max_idle_envs": options.max_idle_envs,
    }
    if options.backend == "process":
        return ProcessEnvPool(family, options.num_slots, num_workers=options.num_workers, **common)
    return SlotEnvPool(family, options.num_slots, **common)


def make_family_pool(
    family: EnvFamily,
    num_slots: int,
    *,
    backend: str = "inprocess",
    num_workers: int | None = None,
    seed: int = 0,
    max_episode_steps: int | None = None,
    terminate_on_success: bool = False,
    max_idle_envs: int | None = None,
) -> SlotEnvPool | ProcessEnvPool:
    """An EnvPool of ``num_slots`` slots over ``family`` on either backend.

    Args:
        family: the tasks (picklable: the process backend sends it to every worker).
        num_slots: N >= 1.
        backend: ``"inprocess"`` (a :class:`SlotEnvPool`) or ``"process"`` (a
            :class:`ProcessEnvPool`).
        num_workers: worker processes of the process backend, in [1, N]; None means
            ``min(2, N)``. Refused with ``backend="inprocess"``.
        seed: pool seed (slot s draws from ``seed + s`` on both backends).
        max_episode_steps: truncate episodes after this many steps (None: env's own limit).
        terminate_on_success: end an episode (terminated=True) on its first success step.
        max_idle_envs: idle env instances kept for reuse, per worker on the process backend
            (None: one per slot).

    Raises:
        ConfigError: a bad or inapplicable setting, checked before any env or worker starts
            (the message names it). WorkerError: a worker failed to start.
    """
    options = PoolOptions.check(
        family.kind,
        num_slots,
        backend=backend,
        num_workers=num_workers,
        seed=seed,
        max_episode_steps=max_episode_steps,
        terminate_on_success=terminate_on_success,
        max_idle_envs=max_idle_envs,
    )
    return build_family_pool(family, options)


class FamilyEnvPool(EnvPool):
    """An EnvPool over an env family on the backend its options name; every call goes to
    the backend's pool. Subclasses check their options, build their family and call
    ``super().__init__(family, options)``.
    """

    def __init__(self, family: EnvFamily, options: PoolOptions) -> None:
        self._options = options
        self._pool = build_family_pool(family, options)

    @property
    def backend(self) -> str:
        """``"inprocess"`` or ``"process"``."""
        return self._options.backend

    @property
    def num_workers(self) -> int:
        """Worker processes (0 in-process)."""
        return self._options.num_workers

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (empty in-process and once closed)."""
        pool = self._pool
        return pool.worker_pids if isinstance(pool, ProcessEnvPool) else []

    @property
    def envs_created(self) -> int:
        """Env instances built so far, over all workers."""
        return self._pool.envs_created

    @property
    def running(self) -> NDArray[np.bool_]:
        """bool[N], slots with an episode in flight (a copy)."""
        return self._pool.running

    @property
    def num_slots(self) -> int:
        return self._pool.num_slots

    @property
    def num_tasks(self) -> int:
        return self._pool.num_tasks

    @property
    def task_names(self) -> Sequence[str]:
        return self._pool.task_names

    @property
    def obs_dim(self) -> int:
        return self._pool.obs_dim

    @property
    def action_dim(self) -> int:
        return self._pool.action_dim

    @property
    def discrete(self) -> bool:
        return self._pool.discrete

    @property
    def restores_episodes(self) -> bool:
        return False

    @property
    def action_counts(self) -> NDArray[np.int64] | None:
        """int64[K], each task's number of discrete actions; None for continuous tasks."""
        return self._pool.action_counts

    @property
    def reports_success(self) -> NDArray[np.bool_]:
        """bool[K], whether each task reports success."""
        return self._pool.reports_success

    @property
    def task_targets(self) -> NDArray[np.float64] | None:
        """float64[K], the target return each task carries (NaN where none), or None."""
        return self._pool.task_targets

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        return self._pool.reset(task_ids)

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        return self._pool.reset_slots(slots, task_ids)

    def step(self, actions: ArrayLike) -> PoolStep:
        return self._pool.step(actions)

    def close(self) -> None:
        self._pool.close()

    def state_dict(self) -> StateDict:
        """The backend's state dict; both backends use the same layout, so a checkpoint taken
        with one loads into the other (see :meth:`SlotEnvPool.state_dict`)."""
        return self._pool.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore slot RNGs and counters; then ``reset`` every slot before stepping."""
        self._pool.load_state_dict(state)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "BACKENDS",
    "DEFAULT_WORKERS",
    "FamilyEnvPool",
    "PoolOptions",
    "build_family_pool",
    "check_backend",
    "make_family_pool",
]
