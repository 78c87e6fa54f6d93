"""Every adapter passes its port's contract checker, and the checkers catch broken adapters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats import (
    CppPerTaskReplay,
    DratsSampler,
    NumpyDratsSampler,
    NumpyPerTaskReplay,
    NumpyUniformSampler,
    UniformSampler,
)
from drats.domain.types import Batch
from drats.testing import (
    FakeReplayBuffer,
    FakeTaskSampler,
    check_replay_buffer,
    check_task_sampler,
)


@pytest.mark.parametrize("replay", [CppPerTaskReplay, NumpyPerTaskReplay])
def test_prioritized_replays_honour_the_contract(replay: Any) -> None:
    check_replay_buffer(replay)


def test_fake_replay_honours_the_uniform_contract() -> None:
    check_replay_buffer(FakeReplayBuffer, prioritized=False)


@pytest.mark.parametrize(
    "sampler",
    [DratsSampler, UniformSampler, NumpyDratsSampler, NumpyUniformSampler, FakeTaskSampler],
)
def test_samplers_honour_the_contract(sampler: Any) -> None:
    check_task_sampler(sampler)


class UnnormalisedWeights(NumpyPerTaskReplay):
    def sample(self, counts: Any, *, beta: float = 0.4) -> Batch:
        b = super().sample(counts, beta=beta)
        return Batch(**{**{f: getattr(b, f) for f in b.__slots__}, "weights": b.weights * 0.5})


class ForgetsOldest(NumpyPerTaskReplay):
    """Keeps the first transitions of a full task instead of the newest."""

    def add(self, task_ids: Any, *rest: Any) -> None:
        ids = np.asarray(task_ids)
        keep = np.array([self.size(int(t)) < self.capacity_per_task for t in ids], dtype=bool)
        for i in np.flatnonzero(keep):  # one by one, so sizes update between rows
            if self.size(int(ids[i])) < self.capacity_per_task:
                super().add(ids[i : i + 1], *(np.asarray(r)[i : i + 1] for r in rest))


class IgnoresPriorities(NumpyPerTaskReplay):
    def update_priorities(self, indices: Any, priorities: Any) -> None:
        super().update_priorities(indices, np.ones(np.asarray(priorities).shape))


class ChangesStateOnBadInput(NumpyPerTaskReplay):
    def add(self, task_ids: Any, *rest: Any) -> None:
        self._max_priority += 1.0  # mutates before validating
        super().add(task_ids, *rest)


class ForgetsRngOnLoad(NumpyDratsSampler):
    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict({**state, "rng": np.array([1, 2], dtype=np.uint64)})


class DrawsOutOfRange(NumpyDratsSampler):
    def sample(self, n: int) -> Any:
        return super().sample(n) + 1


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (UnnormalisedWeights, "largest weight"),
        (ForgetsOldest, "FIFO"),
        (IgnoresPriorities, "priority"),
        (ChangesStateOnBadInput, "changed state"),
    ],
)
def test_replay_checker_catches_broken_adapters(broken: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_replay_buffer(broken)


@pytest.mark.parametrize(
    ("broken", "message"),
    [(ForgetsRngOnLoad, "restored draws differ"), (DrawsOutOfRange, "out of range")],
)
def test_sampler_checker_catches_broken_adapters(broken: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_task_sampler(broken)
