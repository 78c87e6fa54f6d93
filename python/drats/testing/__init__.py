"""Fakes and contract checkers for the ports, shipped so that other code can test against them."""

from drats.testing.contracts import check_replay_buffer, check_task_sampler
from drats.testing.env_contracts import check_env_pool
from drats.testing.fakes import FakeEnvPool, FakePolicy, FakeReplayBuffer, FakeTaskSampler
from drats.testing.policy_contracts import check_policy

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
