"""Per-task prioritized replay: sample, priority update and add, C++ vs numpy vs cpprb.

One `sample(counts)` call draws every task's share (stratified within each task) with the
data; cpprb, which has no tasks, gets one buffer per task and one sample call per task.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import ACT, OBS

IMPLS = ["cpp", "numpy", "cpprb"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("num_tasks", "per_task"), [(10, 128), (50, 26)])
def test_sample(
    benchmark: Any, replay_factory: Any, impl: str, num_tasks: int, per_task: int
) -> None:
    benchmark.group = f"sample {num_tasks}x{per_task}"
    buf = replay_factory(impl, num_tasks)
    counts = np.full(num_tasks, per_task, dtype=np.int64)
    benchmark(buf.sample, counts, beta=0.4)


@pytest.mark.parametrize("impl", IMPLS)
def test_update_priorities(benchmark: Any, replay_factory: Any, impl: str) -> None:
    benchmark.group = "update_priorities 1280"
    buf = replay_factory(impl, 10)
    counts = np.full(10, 128, dtype=np.int64)
    priorities = np.random.default_rng(1).uniform(0.01, 10.0, 1280)
    if impl == "cpprb":
        drawn = buf.sample(counts)
        args = [(d["indexes"], priorities[i * 128 : (i + 1) * 128]) for i, d in enumerate(drawn)]
        benchmark(buf.update_priorities, args)
    else:
        indices = buf.sample(counts).indices
        benchmark(buf.update_priorities, indices, priorities)


@pytest.mark.parametrize("impl", IMPLS)
def test_add(benchmark: Any, replay_factory: Any, impl: str) -> None:
    benchmark.group = "add 10 (one vector step)"
    buf = replay_factory(impl, 10)
    rng = np.random.default_rng(2)
    obs = rng.standard_normal((10, OBS), dtype=np.float32)
    act = rng.uniform(-1, 1, (10, ACT)).astype(np.float32)
    rew = rng.standard_normal(10, dtype=np.float32)
    if impl == "cpprb":
        benchmark(buf.add_step, obs, act, rew)
    else:
        ids = np.arange(10, dtype=np.int64)
        done = np.zeros(10, np.float32)
        benchmark(buf.add, ids, obs, act, rew, obs, done)
