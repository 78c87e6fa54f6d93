"""DRATS for Stable-Baselines3 (``pip install 'drats[sb3]'``): :class:`DratsCallback` runs a
drats :class:`~drats.domain.ports.TaskSampler` over a ``DummyVecEnv`` or ``SubprocVecEnv`` of
:class:`~drats.gym.TaskSwitchingEnv` s.

Stable-Baselines3 vector envs reset an ended sub-env within the step that ends its episode; the
ending step's ``info`` (with ``terminal_observation``) is the one the env returned, so it holds
the episode's ``task_id``, ``episode_return`` and ``success``. The callback reads them from
``self.locals["infos"]`` after every vector step, feeds them to the sampler (one ``observe``
per step), closes a window every ``window_steps`` env steps (``sampler.update()``) and sends the
new q to every sub-env in one ``env_method("set_task_probs", q)``.

Example::

    import gymnasium as gym
    import drats
    from drats.gym import TaskSwitchingEnv
    from drats.sb3 import DratsCallback
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    tasks = [lambda w=w: gym.make("drats/GridWorld-v0", wall=w) for w in (1, 2, 3, 4)]
    env = make_vec_env(lambda: TaskSwitchingEnv(tasks), n_envs=4, seed=0)
    callback = DratsCallback(drats.DratsSampler(4, seed=0), window_steps=2048)
    PPO("MlpPolicy", env, seed=0).learn(100_000, callback=callback)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    from stable_baselines3.common.callbacks import BaseCallback
except ImportError as err:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"drats.sb3 needs stable-baselines3: pip install 'drats[sb3]' ({err})"
    ) from err

from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.state_tree import check_state_config
from drats.gym.task_switching import CONFIG_KEYS, as_task_probs, check_sampling_state
from drats.gym.vector import ENV_PREFIX, check_sub_envs
from drats.gym.windows import SamplerWindows


def episodes_in_step_infos(
    infos: Sequence[Mapping[str, Any]],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
    """The ``(task_ids, returns, successes)`` of the episodes that end in one SB3 vector step
    (its per-env ``infos`` list), in sub-env order."""
    ended = [info for info in infos if "episode_return" in info]
    return (
        np.array([int(info["task_id"]) for info in ended], np.int64),
        np.array([float(info["episode_return"]) for info in ended], np.float64),
        np.array([bool(info["success"]) for info in ended], bool),
    )


class DratsCallback(BaseCallback):
    """Runs ``sampler`` over the training env of a Stable-Baselines3 model.

    Args:
        sampler: any :class:`~drats.domain.ports.TaskSampler`, with the sub-envs' K.
        window_steps: env steps (summed over the sub-envs) per sampler window, >= 1.
        verbose: Stable-Baselines3's verbosity.

    At the start of training (``init_callback``) the sub-envs' task count is checked against
    the sampler's (ConfigError) and the sampler's q is sent to them. At every window's end the
    callback records ``drats/q_<i>``, ``drats/gap_<i>`` and ``drats/windows`` in the model's
    logger (written out at the algorithm's own logging cadence).

    Raises:
        ConfigError: a sampler that is not a TaskSampler, or a bad ``window_steps``.
    """

    def __init__(self, sampler: TaskSampler, *, window_steps: int, verbose: int = 0) -> None:
        windows = SamplerWindows(sampler, window_steps)
        super().__init__(verbose)
        self._windows = windows
        self._k = sampler.num_tasks

    @property
    def sampler(self) -> TaskSampler:
        return self._windows.sampler

    @property
    def env_steps(self) -> int:
        """Env steps counted so far (summed over the sub-envs)."""
        return self._windows.env_steps

    @property
    def episodes_observed(self) -> int:
        return self._windows.episodes

    @property
    def windows_closed(self) -> int:
        return self._windows.windows

    def _init_callback(self) -> None:
        env = self.training_env
        try:
            ks = env.get_attr("num_tasks")
        except (AttributeError, EOFError, BrokenPipeError) as err:
            raise ConfigError(
                f"the training env's sub-envs must be drats.gym.TaskSwitchingEnvs ({err!r})"
            ) from err
        self._k = check_sub_envs(ks, self.sampler)
        self._send(self.sampler.probs)

    def _send(self, q: Any) -> None:
        """q to every sub-env, checked here first (an error in a SubprocVecEnv worker ends it)."""
        self.training_env.env_method("set_task_probs", as_task_probs(q, self._k, "the sampler's q"))

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        self._windows.observe(*episodes_in_step_infos(infos))
        q = self._windows.advance(len(infos))
        if q is not None:
            self._send(q)
            for i, (value, gap) in enumerate(zip(q, self.sampler.gaps, strict=True)):
                self.logger.record(f"drats/q_{i}", float(value))
                self.logger.record(f"drats/gap_{i}", float(gap))
            self.logger.record("drats/windows", self._windows.windows)
        return True

    # ------------------------------------------------------------------------ state

    def state_dict(self) -> StateDict:
        """The counters and the sampler's state (``sampler.<key>``), plus every sub-env's
        (``env.<i>.<key>``) once the callback is attached to a model."""
        state: StateDict = {"kind": "drats-sb3-callback", **self._windows.state_dict()}
        if getattr(self, "model", None) is not None:
            for i, sub in enumerate(self.training_env.env_method("state_dict")):
                state.update({f"{ENV_PREFIX}{i}.{key}": value for key, value in sub.items()})
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the sampler and the counters and, once the callback is attached to a model
        (``init_callback(model)``), every sub-env's q and task stream from ``env.<i>.``
        entries, and drops the reset seeds the model's env holds for its next reset (a model
        seeds its env when built or loaded), so that the next reset continues the restored
        streams. To resume: build or load the model on a fresh env, ``init_callback(model)``,
        ``load_state_dict(state)``, then ``model.learn(...)``, whose opening reset draws each
        sub-env's next task from its restored stream. A refused state (CheckpointError, or the
        sampler's own error) changes nothing."""
        check_state_config(state, {"kind": "drats-sb3-callback"})
        subs: dict[int, dict[str, Any]] = {}
        for key, value in state.items():
            if key.startswith(ENV_PREFIX):
                index, _, rest = key[len(ENV_PREFIX) :].partition(".")
                if not index.isdigit():
                    raise CheckpointError(f"state dict entry {key!r} names no sub-env")
                subs.setdefault(int(index), {})[rest] = value
        current: list[Any] = []
        if subs:
            if getattr(self, "model", None) is None:
                raise CheckpointError(
                    "the state holds sub-env states: attach the callback first (init_callback)"
                )
            current = self.training_env.env_method("state_dict")
            if sorted(subs) != list(range(len(current))):
                raise CheckpointError(
                    f"the state holds sub-envs {sorted(subs)}, the training env has {len(current)}"
                )
            for i, sub in subs.items():
                try:
                    check_sampling_state(sub, {key: current[i][key] for key in CONFIG_KEYS})
                except CheckpointError as err:
                    raise CheckpointError(f"sub-env {i}: {err}") from err
        self._windows.load_state_dict(state)
        for i, sub in subs.items():
            self.training_env.env_method("load_state_dict", sub, indices=[i])
        if subs:
            _drop_pending_seeds(self.training_env)


def _drop_pending_seeds(env: Any) -> None:
    """Forget the seeds ``env`` (and the vec envs it wraps) would pass to its sub-envs at the
    next reset. A model seeds its env when it is built (``PPO(seed=)``, ``PPO.load``), and SB3
    passes those seeds at the next reset, which would restart the restored task streams."""
    while env is not None:
        reset_seeds = getattr(env, "_reset_seeds", None)
        if callable(reset_seeds):
            reset_seeds()
        env = getattr(env, "venv", None)


__all__ = ["DratsCallback", "episodes_in_step_infos"]
