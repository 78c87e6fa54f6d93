"""Every adapter passes its port's contract checker, and the checkers catch broken adapters.

The C++ adapters are checked when the extension ``drats._core`` can be imported, and skipped
otherwise; everything else runs on numpy alone.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

import drats
from drats.adapters.replay.numpy_replay import NumpyPerTaskReplay
from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.domain.types import Batch
from drats.testing import (
    FakeReplayBuffer,
    FakeTaskSampler,
    check_replay_buffer,
    check_task_sampler,
)


def _adapter(name: str) -> Any:
    """``drats.<name>``; a C++ adapter is skipped when the extension cannot be imported."""
    if name.startswith(("Cpp", "Drats", "Uniform")):
        try:
            importlib.import_module("drats._core")
        except ImportError as err:
            pytest.skip(f"drats._core is not built: {err}")
    return getattr(drats, name)


@pytest.mark.parametrize("name", ["CppPerTaskReplay", "NumpyPerTaskReplay"])
def test_prioritized_replays_honour_the_contract(name: str) -> None:
    check_replay_buffer(_adapter(name))


def test_fake_replay_honours_the_uniform_contract() -> None:
    check_replay_buffer(FakeReplayBuffer, prioritized=False)


@pytest.mark.parametrize(
    "name", ["DratsSampler", "UniformSampler", "NumpyDratsSampler", "NumpyUniformSampler"]
)
def test_samplers_honour_the_contract(name: str) -> None:
    check_task_sampler(_adapter(name))


def test_fake_sampler_honours_the_contract() -> None:
    check_task_sampler(FakeTaskSampler)


# ----------------------------------------------------------------- deliberately broken replays


class UnnormalisedWeights(NumpyPerTaskReplay):
    def sample(self, counts: Any, *, beta: float = 0.4) -> Batch:
        b = super().sample(counts, beta=beta)
        return Batch(**{**{f: getattr(b, f) for f in b.__slots__}, "weights": b.weights * 0.5})


class NotGroupedByTask(NumpyPerTaskReplay):
    def sample(self, counts: Any, *, beta: float = 0.4) -> Batch:
        b = super().sample(counts, beta=beta)
        return Batch(**{f: getattr(b, f)[::-1].copy() for f in b.__slots__})


class ForgetsOldest(NumpyPerTaskReplay):
    """Keeps the first transitions of a full task instead of the newest."""

    def add(self, task_ids: Any, *rest: Any) -> None:
        ids = np.asarray(task_ids)
        for i in range(ids.size):  # one by one, so sizes update between rows
            if self.size(int(ids[i])) < self.capacity_per_task:
                super().add(ids[i : i + 1], *(np.asarray(r)[i : i + 1] for r in rest))


class IgnoresPriorities(NumpyPerTaskReplay):
    def update_priorities(self, indices: Any, priorities: Any) -> None:
        super().update_priorities(indices, priorities)  # validates as it should ...
        self._leaves[self._leaves > 0] = 1.0  # ... then forgets the priorities


class ChangesStateOnBadInput(NumpyPerTaskReplay):
    def add(self, task_ids: Any, *rest: Any) -> None:
        self._max_priority += 1.0  # mutates before validating
        super().add(task_ids, *rest)


class UntypedErrors(NumpyPerTaskReplay):
    def size(self, task_id: int) -> int:
        if not 0 <= task_id < self.num_tasks:
            raise KeyError(task_id)  # not drats' UnknownTaskError
        return super().size(task_id)


class ReplayForgetsRngOnLoad(NumpyPerTaskReplay):
    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict({**state, "rng": np.array([1, 2], dtype=np.uint64)})


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (UnnormalisedWeights, "largest weight"),
        (NotGroupedByTask, "grouped by task"),
        (ForgetsOldest, "FIFO"),
        (IgnoresPriorities, "priority"),
        (ChangesStateOnBadInput, "changed state"),
        (UntypedErrors, "expected UnknownTaskError, got KeyError"),
        (ReplayForgetsRngOnLoad, "a restored buffer"),
    ],
)
def test_replay_checker_catches_broken_adapters(broken: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_replay_buffer(broken)


# ---------------------------------------------------------------- deliberately broken samplers


class ForgetsRngOnLoad(NumpyDratsSampler):
    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict({**state, "rng": np.array([1, 2], dtype=np.uint64)})


class DrawsOutOfRange(NumpyDratsSampler):
    def sample(self, n: int) -> Any:
        return super().sample(n) + 1


class ProbsDoNotSumToOne(NumpyDratsSampler):
    @property
    def probs(self) -> Any:
        return super().probs * 1.01


class AcceptsUnknownTasks(NumpyDratsSampler):
    def observe(self, task_ids: Any, returns: Any, successes: Any) -> None:
        ids = np.clip(np.asarray(task_ids), 0, self.num_tasks - 1)
        super().observe(ids, returns, successes)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (ForgetsRngOnLoad, "restored draws differ"),
        (DrawsOutOfRange, "out of range"),
        (ProbsDoNotSumToOne, "probability vector"),
        (AcceptsUnknownTasks, "task id K: expected UnknownTaskError, nothing was raised"),
    ],
)
def test_sampler_checker_catches_broken_adapters(broken: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_task_sampler(broken)
