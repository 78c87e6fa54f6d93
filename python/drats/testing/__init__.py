"""Fakes and contract checkers for the ports, shipped so that other code can test against them."""

from drats.testing.contracts import check_replay_buffer, check_task_sampler
from drats.testing.fakes import FakeReplayBuffer, FakeTaskSampler

__all__ = ["FakeReplayBuffer", "FakeTaskSampler", "check_replay_buffer", "check_task_sampler"]
