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
    "DratsSampler": "drats.adapters.cpp_sampler",
    "UniformSampler": "drats.adapters.cpp_sampler",
    "NumpyDratsSampler": "drats.adapters.numpy_sampler",
    "NumpyUniformSampler": "drats.adapters.numpy_sampler",
    "CppPerTaskReplay": "drats.adapters.cpp_replay",
    "NumpyPerTaskReplay": "drats.adapters.numpy_replay",
}

__all__ = [
    "Batch",
    "CheckpointError",
    "ConfigError",
    "CppPerTaskReplay",
    "DratsError",
    "DratsSampler",
    "EmptyTaskError",
    "EnvPool",
    "EpisodeStats",
    "InvalidDtypeError",
    "InvalidInputError",
    "NumpyDratsSampler",
    "NumpyPerTaskReplay",
    "NumpyUniformSampler",
    "Policy",
    "PolicyStep",
    "PoolStep",
    "ReplayBuffer",
    "TaskSampler",
    "UniformSampler",
    "UnknownTaskError",
    "hedge_step",
    "mirror_ascent_step",
    "project_floor",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drats' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from drats.adapters.cpp_replay import CppPerTaskReplay
    from drats.adapters.cpp_sampler import DratsSampler, UniformSampler
    from drats.adapters.numpy_replay import NumpyPerTaskReplay
    from drats.adapters.numpy_sampler import NumpyDratsSampler, NumpyUniformSampler
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
    from drats.domain.ports import EnvPool, Policy, ReplayBuffer, TaskSampler
    from drats.domain.types import Batch, EpisodeStats, PolicyStep, PoolStep
