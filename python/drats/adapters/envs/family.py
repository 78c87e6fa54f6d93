"""Env families and what both backends of a pool over one share.

An :class:`EnvFamily` describes K tasks (their spaces and how to build and start their envs);
:class:`~drats.adapters.envs.slot_pool.SlotEnvPool` steps N slots over it in this process and
:class:`~drats.adapters.envs.process_pool.ProcessEnvPool` in worker processes. Both derive from
:class:`FamilyPool` (the port's members, ``reset``, the "no episode in flight" check) and
share the state-dict layout checked by :func:`check_slot_state`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.layouts import PoolLayout
from drats.domain.checks import INTEGER_KINDS, as_vector, check_shape
from drats.domain.errors import CheckpointError, ConfigError, DratsError, InvalidInputError
from drats.domain.ports import EnvPool
from drats.domain.state_tree import as_state_arrays, as_state_ints

#: state-dict keys holding one row per slot; a multi-process pool concatenates them.
SLOT_KEYS = ("slot_rng", "slot_task", "slot_episodes", "slot_steps")


class EnvError(DratsError, RuntimeError):
    """An env raised inside ``reset_slots`` or ``step`` (the message names the slot, the task
    and the env's own error, chained as ``__cause__``); the pool is closed afterwards."""


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

    @property
    def reports_success(self) -> tuple[bool, ...]:
        """K flags: whether each task's env reports success (``info["success"]`` or
        ``info["is_success"]``); a task that does not has its success "not reported" rather
        than 0. The default says every task does (Meta-World)."""
        return (True,) * len(self.task_names)

    @property
    def task_targets(self) -> tuple[float | None, ...] | None:
        """A target return per task that the tasks themselves carry (None where a task has
        none), or None when the family carries none (the default)."""
        return None

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


def as_idle_cap(value: object) -> int | None:
    """``max_idle_envs`` (idle env instances kept for reuse): None or an int >= 0."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ConfigError(f"max_idle_envs must be an integer >= 0, got {value!r}")
    return value


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


class FamilyPool(EnvPool):
    """The part of an EnvPool over an :class:`EnvFamily` that does not depend on where the
    envs run: the port's members (from the family's spaces, see
    :class:`~drats.adapters.envs.layouts.PoolLayout`; ``action_counts``, ``reports_success``
    and ``task_targets`` included), ``reset``, the check that every slot has an episode in
    flight before ``step`` and the check that each slot's discrete action is one of its
    task's.

    Args:
        family: the tasks.
        num_slots: N, already checked.
        first_slot: global index of slot 0 (named in errors).
    """

    def __init__(self, family: EnvFamily, num_slots: int, first_slot: int = 0) -> None:
        self._names = tuple(family.task_names)
        self._layout = PoolLayout(self._names, family.spaces)
        self._reports = np.array(family.reports_success, np.bool_)
        targets = family.task_targets
        self._targets = (
            None
            if targets is None
            else np.array([np.nan if t is None else float(t) for t in targets], np.float64)
        )
        self._n, self._first = num_slots, first_slot
        self._running = np.zeros(num_slots, np.bool_)
        self._task = np.full(num_slots, -1, np.int64)  # task each slot plays (-1: never reset)

    @property
    def num_slots(self) -> int:
        return self._n

    @property
    def num_tasks(self) -> int:
        return len(self._names)

    @property
    def task_names(self) -> Sequence[str]:
        return self._names

    @property
    def obs_dim(self) -> int:
        return self._layout.obs_dim

    @property
    def action_dim(self) -> int:
        return self._layout.action_dim

    @property
    def discrete(self) -> bool:
        return self._layout.discrete

    @property
    def restores_episodes(self) -> bool:
        return False

    @property
    def action_counts(self) -> NDArray[np.int64] | None:
        """int64[K], each task's number of discrete actions (a copy); None for continuous
        tasks. Actions ``>= action_counts[task]`` are refused by ``step``."""
        counts = self._layout.action_counts
        return None if counts is None else counts.copy()

    @property
    def reports_success(self) -> NDArray[np.bool_]:
        """bool[K], whether each task reports success (see :attr:`EnvFamily.reports_success`)."""
        return self._reports.copy()

    @property
    def task_targets(self) -> NDArray[np.float64] | None:
        """float64[K], the target return each task carries (NaN where it has none), or None."""
        return None if self._targets is None else self._targets.copy()

    @property
    def running(self) -> NDArray[np.bool_]:
        """bool[N], slots with an episode in flight (a copy)."""
        return self._running.copy()

    def reset(self, task_ids: ArrayLike) -> NDArray[np.float32]:
        """Start a new episode in every slot, slot i playing ``task_ids[i]``; an episode in
        flight is dropped without statistics."""
        t = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        check_shape(t, (self._n,), "task_ids", ("n_slots",))
        return self.reset_slots(np.arange(self._n, dtype=np.int64), t)

    def _check_running(self, actions: NDArray[Any]) -> None:
        """Before ``step`` moves anything: InvalidInputError naming the first slot without an
        episode in flight, or the first whose (checked) discrete action is not one of its
        task's."""
        if not self._running.all():
            slot = int(np.flatnonzero(~self._running)[0])
            raise InvalidInputError(
                f"slot {self._first + slot} has no episode in flight (it ended, or was never "
                "reset, or a state dict was loaded); call reset_slots on it before step"
            )
        self._layout.check_task_actions(actions, self._task)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["SLOT_KEYS", "EnvError", "EnvFamily", "FamilyPool", "as_idle_cap", "check_slot_state"]
