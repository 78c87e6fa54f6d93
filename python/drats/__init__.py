"""drats: multi-task reinforcement learning with Distributionally Robust Adaptive Task Sampling.

``import drats`` is light: the public names below are resolved on first use, so neither the
C++ core nor any optional dependency (torch, gymnasium, metaworld) is imported up front.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # DRATS math (pure numpy)
    "mirror_ascent_step": "drats.domain.drats_math",
    "project_floor": "drats.domain.drats_math",
    "hedge_step": "drats.domain.drats_math",
    # ports and value types
    "Policy": "drats.domain.ports",
    "TaskSampler": "drats.domain.ports",
    "ReplayBuffer": "drats.domain.ports",
    "EnvPool": "drats.domain.ports",
    "Batch": "drats.domain.types",
    "EpisodeStats": "drats.domain.types",
    "PoolStep": "drats.domain.types",
    "PolicyStep": "drats.domain.types",
    # errors
    "DratsError": "drats.domain.errors",
    "ConfigError": "drats.domain.errors",
    "InvalidInputError": "drats.domain.errors",
    "InvalidDtypeError": "drats.domain.errors",
    "UnknownTaskError": "drats.domain.errors",
    "EmptyTaskError": "drats.domain.errors",
    "CheckpointError": "drats.domain.errors",
    # adapters
    "DratsSampler": "drats.adapters.samplers.drats",
    "UniformSampler": "drats.adapters.samplers.uniform",
    "NumpyDratsSampler": "drats.adapters.samplers.numpy_drats",
    "NumpyUniformSampler": "drats.adapters.samplers.numpy_uniform",
    "CppPerTaskReplay": "drats.adapters.replay.cpp_replay",
    "NumpyPerTaskReplay": "drats.adapters.replay.numpy_replay",
    "HedgeSampler": "drats.adapters.samplers.hedge",
    "LearningProgressSampler": "drats.adapters.samplers.learning_progress",
    "SmtSampler": "drats.adapters.samplers.smt",
    "GridWorldEnvPool": "drats.adapters.envs.gridworld",
    "GymEnvPool": "drats.adapters.envs.gym_tasks",
    "PointMassEnvPool": "drats.adapters.envs.pointmass",
    "OffPolicyTrainer": "drats.application.offpolicy",
    "allocate_batch": "drats.domain.allocation",
    "MetaWorldEnvPool": "drats.adapters.envs.metaworld",
    "ProcessEnvPool": "drats.adapters.envs.process_pool",
    "TorchPPOPolicy": "drats.adapters.learners.ppo",
    "PPOConfig": "drats.adapters.learners.ppo_config",
    "Rollout": "drats.domain.types",
    "TrainConfig": "drats.application.config",
    "Trainer": "drats.application.onpolicy",
    "OnPolicyTrainer": "drats.application.onpolicy",
    "BaseTrainer": "drats.application.base",
    "MetricsSink": "drats.domain.ports",
    "TensorBoardSink": "drats.adapters.sinks.tensorboard",
    "TorchSACPolicy": "drats.adapters.learners.sac",
    "SACConfig": "drats.adapters.learners.sac_config",
    "evaluate": "drats.application.evaluation",
}

__all__ = [
    "BaseTrainer",
    "Batch",
    "CheckpointError",
    "ConfigError",
    "CppPerTaskReplay",
    "DratsError",
    "DratsSampler",
    "EmptyTaskError",
    "EnvPool",
    "EpisodeStats",
    "GridWorldEnvPool",
    "GymEnvPool",
    "HedgeSampler",
    "InvalidDtypeError",
    "InvalidInputError",
    "LearningProgressSampler",
    "MetaWorldEnvPool",
    "MetricsSink",
    "NumpyDratsSampler",
    "NumpyPerTaskReplay",
    "NumpyUniformSampler",
    "OffPolicyTrainer",
    "OnPolicyTrainer",
    "PPOConfig",
    "PointMassEnvPool",
    "Policy",
    "PolicyStep",
    "PoolStep",
    "ProcessEnvPool",
    "ReplayBuffer",
    "Rollout",
    "SACConfig",
    "SmtSampler",
    "TaskSampler",
    "TensorBoardSink",
    "TorchPPOPolicy",
    "TorchSACPolicy",
    "TrainConfig",
    "Trainer",
    "UniformSampler",
    "UnknownTaskError",
    "allocate_batch",
    "evaluate",
    "hedge_step",
    "mirror_ascent_step",
    "project_floor",
]


#: public names that are another name of a class (kept so older code keeps working)
_ALIASES = {"Trainer": "OnPolicyTrainer"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drats' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _ALIASES.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from drats.adapters.envs.gridworld import GridWorldEnvPool
    from drats.adapters.envs.gym_tasks import GymEnvPool
    from drats.adapters.envs.metaworld import MetaWorldEnvPool
    from drats.adapters.envs.pointmass import PointMassEnvPool
    from drats.adapters.envs.process_pool import ProcessEnvPool
    from drats.adapters.learners.ppo import TorchPPOPolicy
    from drats.adapters.learners.ppo_config import PPOConfig
    from drats.adapters.learners.sac import TorchSACPolicy
    from drats.adapters.learners.sac_config import SACConfig
    from drats.adapters.replay.cpp_replay import CppPerTaskReplay
    from drats.adapters.replay.numpy_replay import NumpyPerTaskReplay
    from drats.adapters.samplers.drats import DratsSampler
    from drats.adapters.samplers.hedge import HedgeSampler
    from drats.adapters.samplers.learning_progress import LearningProgressSampler
    from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
    from drats.adapters.samplers.numpy_uniform import NumpyUniformSampler
    from drats.adapters.samplers.smt import SmtSampler
    from drats.adapters.samplers.uniform import UniformSampler
    from drats.adapters.sinks.tensorboard import TensorBoardSink
    from drats.application.base import BaseTrainer
    from drats.application.config import TrainConfig
    from drats.application.evaluation import evaluate
    from drats.application.offpolicy import OffPolicyTrainer
    from drats.application.onpolicy import OnPolicyTrainer
    from drats.application.onpolicy import OnPolicyTrainer as Trainer
    from drats.domain.allocation import allocate_batch
    from drats.domain.drats_math import hedge_step, mirror_ascent_step, project_floor
    from drats.domain.errors import (
        CheckpointError,
        ConfigError,
        DratsError,
        EmptyTaskError,
        InvalidDtypeError,
        InvalidInputError,
        UnknownTaskError,
    )
    from drats.domain.ports import EnvPool, MetricsSink, Policy, ReplayBuffer, TaskSampler
    from drats.domain.types import Batch, EpisodeStats, PolicyStep, PoolStep, Rollout
