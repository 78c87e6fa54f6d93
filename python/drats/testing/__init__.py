"""A test kit for drats's ports, shipped with the package so that other code can test against
them: a fake of each port and a contract checker per port.

=====================  ==============================  ====================================
port                   fake (numpy only)               contract checker
=====================  ==============================  ====================================
``TaskSampler``        :class:`FakeTaskSampler`        :func:`check_task_sampler`
``ReplayBuffer``       :class:`FakeReplayBuffer`       :func:`check_replay_buffer`
``EnvPool``            :class:`FakeEnvPool`            :func:`check_env_pool`
``Policy``             :class:`FakePolicy`             :func:`check_policy`
=====================  ==============================  ====================================

Each checker's module (``drats.testing.sampler_contract``, ``replay_contract``,
``env_contract``, ``policy_contract``) says which factory it expects. The kit depends only on
the domain layer (:mod:`drats.domain`): importing it loads neither the adapters, the
application layer nor the C++ core.
"""

from drats.testing.env_contract import check_env_pool
from drats.testing.fakes import FakeEnvPool, FakePolicy, FakeReplayBuffer, FakeTaskSampler
from drats.testing.policy_contract import check_policy
from drats.testing.replay_contract import check_replay_buffer
from drats.testing.sampler_contract import check_task_sampler

__all__ = [
    "FakeEnvPool",
    "FakePolicy",
    "FakeReplayBuffer",
    "FakeTaskSampler",
    "check_env_pool",
    "check_policy",
    "check_replay_buffer",
    "check_task_sampler",
]
