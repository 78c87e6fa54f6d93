"""``TaskSamplingVectorWrapper``: a Gymnasium 1.x vector wrapper that runs a drats
:class:`~drats.domain.ports.TaskSampler` over a ``SyncVectorEnv`` or ``AsyncVectorEnv`` of
:class:`~drats.gym.TaskSwitchingEnv` s.

The sampler stays in this process. What crosses to the sub-envs is q, once per window
(``envs.call("set_task_probs", q)``); what comes back is each finished episode's task, return
and success in the step infos. Where they are depends on the vector env's autoreset mode:

* ``NEXT_STEP`` (the default) and ``DISABLED``: in the infos of the step that ends the episode
  (``infos["episode_return"]`` where ``infos["_episode_return"]`` is True). Under
  ``NEXT_STEP`` the following step of that sub-env is its reset: it reports only the new
  ``task_id`` and is not an env step (no transition), so it is not counted.
* ``SAME_STEP``: the sub-env is reset within the step that ends the episode; the episode's
  infos are under ``infos["final_info"]`` (mask ``infos["_final_info"]``), the top level holds
  the new episode's reset info.

Each finished episode is observed exactly once, on the step it ends, whatever the mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium.vector import (
    AsyncVectorEnv,
    AutoresetMode,
    SyncVectorEnv,
    VectorEnv,
    VectorWrapper,
)
from numpy.typing import NDArray

from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.state_tree import check_state_config
from drats.gym.task_switching import CONFIG_KEYS, as_task_probs, check_sampling_state
from drats.gym.windows import SamplerWindows

#: Sub-env ``i``'s entries in the wrapper's state dict are ``f"{ENV_PREFIX}{i}.{key}"``.
ENV_PREFIX = "env."


def episodes_in_infos(
    infos: Mapping[str, Any],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
    """The ``(task_ids, returns, successes)`` of the episodes that end in one vector step's
    ``infos``, in sub-env order, whatever the autoreset mode (see the module)."""
    parts = [infos]
    final = infos.get("final_info")
    if isinstance(final, Mapping):
        parts.append(final)
    ids, returns, successes = [], [], []
    for part in parts:
        mask = part.get("_episode_return")
        if mask is None or not np.any(mask):
            continue
        mask = np.asarray(mask, bool)
        ids.append(np.asarray(part["task_id"])[mask].astype(np.int64))
        returns.append(np.asarray(part["episode_return"])[mask].astype(np.float64))
        successes.append(np.asarray(part["success"])[mask].astype(bool))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    if len(ids) == 1:
        return ids[0], returns[0], successes[0]
    return np.concatenate(ids), np.concatenate(returns), np.concatenate(successes)


def check_sub_envs(num_tasks: list[Any] | tuple[Any, ...], sampler: TaskSampler) -> int:
    """The common ``num_tasks`` of the sub-envs; ConfigError unless they all have the
    sampler's."""
    ks = {int(k) for k in num_tasks}
    if len(ks) != 1:
        raise ConfigError(f"envs: the sub-envs have different task counts {sorted(ks)}")
    k = ks.pop()
    if k != sampler.num_tasks:
        raise ConfigError(
            f"sampler has num_tasks = {sampler.num_tasks} but the sub-envs have {k} tasks"
        )
    return k


class TaskSamplingVectorWrapper(VectorWrapper):
    """Feeds finished episodes to ``sampler`` and sends its q to every sub-env once a window.

    Per ``step``: the episodes that ended go to ``sampler.observe`` in one call; the step's
    env steps (sub-envs that moved: all of them, less those doing a ``NEXT_STEP`` autoreset)
    are counted, and when a window of ``window_steps`` is complete, ``sampler.update()`` runs
    and its q goes to every sub-env in one ``envs.call("set_task_probs", q)``. At construction
    the sampler's current q is sent, so episodes follow it from the first reset on.

    Args:
        envs: a Gymnasium 1.x ``SyncVectorEnv`` or ``AsyncVectorEnv`` (any autoreset mode,
            possibly under vector wrappers that keep the infos' keys) whose sub-envs are
            :class:`~drats.gym.TaskSwitchingEnv` s (possibly under Gymnasium wrappers).
        sampler: any :class:`~drats.domain.ports.TaskSampler` with the sub-envs' K.
        window_steps: env steps (summed over the sub-envs) per sampler window, >= 1.

    Raises:
        ConfigError: ``envs`` not a vector env of TaskSwitchingEnvs, a sampler that is not a
            TaskSampler or whose ``num_tasks`` differs, or a bad ``window_steps``; nothing is
            sent to the sub-envs.
    """

    def __init__(self, envs: VectorEnv, sampler: TaskSampler, *, window_steps: int) -> None:
        base = envs.unwrapped if isinstance(envs, VectorEnv) else envs
        if not isinstance(base, SyncVectorEnv | AsyncVectorEnv):
            raise ConfigError(
                "envs must be a Gymnasium SyncVectorEnv or AsyncVectorEnv (possibly under "
                f"vector wrappers), got {type(envs).__name__}"
            )
        windows = SamplerWindows(sampler, window_steps)
        try:
            ks = base.get_attr("num_tasks")
        except AttributeError as err:
            raise ConfigError(
                f"envs: every sub-env must be a drats.gym.TaskSwitchingEnv ({err})"
            ) from err
        k = check_sub_envs(ks, sampler)
        q = as_task_probs(sampler.probs, k, "the sampler's q")
        super().__init__(envs)
        self._windows, self._k, self._base = windows, k, base
        self._mode = AutoresetMode(base.autoreset_mode)
        #: sub-envs whose next step is a NEXT_STEP autoreset
        self._pending = np.zeros(envs.num_envs, bool)
        base.call("set_task_probs", q)

    # ------------------------------------------------------------------------ description

    @property
    def sampler(self) -> TaskSampler:
        return self._windows.sampler

    @property
    def window_steps(self) -> int:
        return self._windows.window_steps

    @property
    def env_steps(self) -> int:
        """Env steps counted so far (transitions, summed over the sub-envs)."""
        return self._windows.env_steps

    @property
    def episodes_observed(self) -> int:
        return self._windows.episodes

    @property
    def windows_closed(self) -> int:
        return self._windows.windows

    @property
    def autoreset_mode(self) -> AutoresetMode:
        return self._mode

    # ------------------------------------------------------------------------ loop

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the sub-envs (all of them, or ``options["reset_mask"]``'s); the episodes they
        were playing are dropped, never observed."""
        mask = None if options is None else options.get("reset_mask")
        obs, infos = self.env.reset(seed=seed, options=options)
        if mask is None:
            self._pending[:] = False
        else:
            self._pending[np.asarray(mask, bool)] = False
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        moved = self.num_envs
        if self._mode == AutoresetMode.NEXT_STEP:
            moved -= int(self._pending.sum())
            self._pending = np.logical_or(terminated, truncated)
        self._windows.observe(*episodes_in_infos(infos))
        q = self._windows.advance(moved)
        if q is not None:
            self._send(q)
        return obs, rewards, terminated, truncated, infos

    def _send(self, q: Any) -> None:
        """q to every sub-env, checked here first (an error inside an AsyncVectorEnv worker
        shuts the worker down)."""
        self._base.call("set_task_probs", as_task_probs(q, self._k, "the sampler's q"))

    # ------------------------------------------------------------------------ state

    def _config(self) -> dict[str, Any]:
        return {"kind": "task-sampling-vector", "num_envs": self.num_envs}

    def state_dict(self) -> StateDict:
        """The counters, the sampler's state (``sampler.<key>``) and every sub-env's
        (``env.<i>.<key>``): enough to resume task sampling exactly after a ``reset``."""
        state: StateDict = {**self._config(), **self._windows.state_dict()}
        for i, sub in enumerate(self._base.get_attr("sampling_state")):
            state.update({f"{ENV_PREFIX}{i}.{key}": value for key, value in sub.items()})
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the sampler, the counters and every sub-env's q and task stream. Episodes in
        flight are not restored: call ``reset()`` next (without a seed, to continue the
        restored streams). A refused state changes nothing.

        Raises:
            CheckpointError (or the sampler's own error): a state of another configuration or
                a bad entry.
        """
        check_state_config(state, self._config())
        subs: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for key, value in state.items():
            if key.startswith(ENV_PREFIX):
                index, _, rest = key[len(ENV_PREFIX) :].partition(".")
                if not index.isdigit() or int(index) >= self.num_envs:
                    raise CheckpointError(f"state dict entry {key!r} names no sub-env")
                subs[int(index)][rest] = value
        for i, (sub, current) in enumerate(
            zip(subs, self._base.get_attr("sampling_state"), strict=True)
        ):
            try:  # checked here: an error inside an AsyncVectorEnv worker shuts it down
                check_sampling_state(sub, {key: current[key] for key in CONFIG_KEYS})
            except CheckpointError as err:
                raise CheckpointError(f"sub-env {i}: {err}") from err
        self._windows.load_state_dict(state)
        self._base.set_attr("sampling_state", subs)
        self._pending[:] = False


__all__ = ["ENV_PREFIX", "TaskSamplingVectorWrapper", "check_sub_envs", "episodes_in_infos"]
