"""DRATS in your own training loop, through Gymnasium (``pip install 'drats[gym]'``).

* :class:`TaskSwitchingEnv`: one env over K task envs; every episode plays a task drawn from
  its local copy of q and reports the episode's task, return, length and success in ``info``.
* :class:`TaskSamplingVectorWrapper`: wraps a ``SyncVectorEnv`` / ``AsyncVectorEnv`` of them,
  feeds finished episodes to any :class:`~drats.domain.ports.TaskSampler` and sends its q to
  the sub-envs once per window. (For Stable-Baselines3: :class:`drats.sb3.DratsCallback`.)
* :class:`SamplerWindows` and :func:`episodes_in_infos`: the learner's side of that protocol,
  for loops and frameworks of your own (see ``docs/integrations.md``).
* ``import drats.gym`` registers ``drats/GridWorld-v0`` (``wall=1..4``) and
  ``drats/PointMass-v0`` (``task=0..3``): the ``gridworld4`` and ``pointmass`` suites' tasks
  as single-task envs (:mod:`drats.gym.envs`).

Example::

    import gymnasium as gym
    import drats
    from drats.gym import TaskSwitchingEnv, TaskSamplingVectorWrapper

    tasks = [lambda w=w: gym.make("drats/GridWorld-v0", wall=w) for w in (1, 2, 3, 4)]
    envs = gym.vector.AsyncVectorEnv([lambda: TaskSwitchingEnv(tasks)] * 8)
    envs = TaskSamplingVectorWrapper(envs, drats.DratsSampler(4, seed=0), window_steps=2048)
    obs, _ = envs.reset(seed=0)            # sub-env i draws its tasks from seed i
"""

from __future__ import annotations

try:
    import gymnasium
except ImportError as err:  # pragma: no cover - depends on the installation
    raise ImportError(f"drats.gym needs gymnasium: pip install 'drats[gym]' ({err})") from err

from drats.gym.envs import GridWorldEnv, PointMassEnv
from drats.gym.task_switching import TaskSwitchingEnv
from drats.gym.vector import TaskSamplingVectorWrapper, episodes_in_infos
from drats.gym.windows import SamplerWindows

#: The env ids ``import drats.gym`` registers, and their entry points.
ENV_IDS = {
    "drats/GridWorld-v0": "drats.gym.envs:GridWorldEnv",
    "drats/PointMass-v0": "drats.gym.envs:PointMassEnv",
}

for _env_id, _entry_point in ENV_IDS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(id=_env_id, entry_point=_entry_point)

__all__ = [
    "ENV_IDS",
    "GridWorldEnv",
    "PointMassEnv",
    "SamplerWindows",
    "TaskSamplingVectorWrapper",
    "TaskSwitchingEnv",
    "episodes_in_infos",
]
