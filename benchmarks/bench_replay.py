"""Per-task prioritized replay with 1,000,000 transitions: sample, priority update and add.

Groups (each implementation of conftest.py's replay_factory measured in the same run):

* ``sample 10x128``: one ``sample(counts)`` call drawing 128 rows from each of 10 tasks
  (100,000 transitions per task); ``sample 50x26``: 26 rows from each of 50 tasks (20,000
  per task, 1,300 rows). drats draws every task's share in one call; cpprb and torchrl draw
  task by task and the adapter concatenates the shares into one batch.
* ``update_priorities 1280``: new priorities for the 1,280 indices of a real 10x128 sample.
* ``add 10 (one vector-env step)``: 10 transitions from 10 different tasks. The rings are
  full, so every add overwrites the oldest transitions and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

IMPLS = ["cpp", "numpy", "cpprb", "torchrl"]
BETA = 0.4

Factory = Callable[[str, int], Any]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("num_tasks", "per_task"),
    [
        pytest.param(10, 128, id="10x128", marks=pytest.mark.benchmark(group="sample 10x128")),
        pytest.param(50, 26, id="50x26", marks=pytest.mark.benchmark(group="sample 50x26")),
    ],
)
def test_sample(
    benchmark: Any, replay_factory: Factory, impl: str, num_tasks: int, per_task: int
) -> None:
    buf = replay_factory(impl, num_tasks)
    counts = np.full(num_tasks, per_task, dtype=np.int64)
    batch = buf.sample(counts, beta=BETA)  # warm-up, and a check that the adapter works
    assert batch.obs.shape == (num_tasks * per_task, 39)
    benchmark(buf.sample, counts, beta=BETA)


@pytest.mark.benchmark(group="update_priorities 1280")
@pytest.mark.parametrize("impl", IMPLS)
def test_update_priorities(benchmark: Any, replay_factory: Factory, impl: str) -> None:
    buf = replay_factory(impl, 10)
    indices = buf.sample(np.full(10, 128, dtype=np.int64), beta=BETA).indices
    priorities = np.abs(np.random.default_rng(1).standard_normal(len(indices))) + 1e-6
    buf.update_priorities(indices, priorities)  # warm-up
    benchmark(buf.update_priorities, indices, priorities)


@pytest.mark.benchmark(group="add 10 (one vector-env step)")
@pytest.mark.parametrize("impl", IMPLS)
def test_add(
    benchmark: Any, replay_factory: Factory, vector_step: tuple[np.ndarray, ...], impl: str
) -> None:
    buf = replay_factory(impl, 10)
    buf.add(*vector_step)  # warm-up
    benchmark(buf.add, *vector_step)
