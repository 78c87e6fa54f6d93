"""The shared workload of the replay microbenchmarks: its sizes, and how each implementation's
replay is built and filled.

1,000,000 transitions in all, obs float32[39], action float32[4], held as 10 tasks x 100,000
and as 50 tasks x 20,000. Each replay is filled once per session by bulk adds of 100,000 rows
from a fixed-seed numpy Generator, then given |td|-like priorities on every transition, so its
priority trees are full and non-uniform.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import drats

OBS_DIM, ACT_DIM = 39, 4
TOTAL = 1_000_000  # transitions held by every replay, whatever its task count
CHUNK = 100_000  # rows per bulk add / priority update while filling
ALPHA, BETA = 0.6, 0.4
SEED = 0
#: floats in one packed transition: obs, action, reward, next_obs, terminated (336 bytes)
ROW_FLOATS = 2 * OBS_DIM + ACT_DIM + 2


def new_replay(impl: str, num_tasks: int, capacity: int) -> Any:
    """An empty replay of implementation ``impl``: ``cpp``, ``numpy``, ``cpprb`` or
    ``torchrl`` (the last two behind :mod:`replay_peers`' per-task adapters)."""
    if impl == "cpp":
        return drats.CppPerTaskReplay(num_tasks, capacity, OBS_DIM, ACT_DIM, alpha=ALPHA, seed=0)
    if impl == "numpy":
        return drats.NumpyPerTaskReplay(num_tasks, capacity, OBS_DIM, ACT_DIM, alpha=ALPHA, seed=0)
    from replay_peers import CpprbPerTask, TorchrlPerTask

    if impl == "cpprb":
        return CpprbPerTask(num_tasks, capacity)
    if impl == "torchrl":
        return TorchrlPerTask(num_tasks, capacity)
    raise ValueError(f"unknown implementation {impl!r}")


def fill(buf: Any, num_tasks: int) -> None:
    """TOTAL transitions spread evenly over the tasks, then random priorities on all of them.

    Rows go to tasks in order, so row r lands in slot r % capacity of task r // capacity,
    whose replay index is r itself.
    """
    capacity = TOTAL // num_tasks
    rng = np.random.default_rng(SEED)
    for start in range(0, TOTAL, CHUNK):
        rows = np.arange(start, start + CHUNK, dtype=np.int64)
        buf.add(
            rows // capacity,
            rng.standard_normal((CHUNK, OBS_DIM), dtype=np.float32),
            rng.uniform(-1.0, 1.0, (CHUNK, ACT_DIM)).astype(np.float32),
            rng.standard_normal(CHUNK, dtype=np.float32),
            rng.standard_normal((CHUNK, OBS_DIM), dtype=np.float32),
            (rng.random(CHUNK) < 0.002).astype(np.float32),
        )
    for start in range(0, TOTAL, CHUNK):
        rows = np.arange(start, start + CHUNK, dtype=np.int64)
        buf.update_priorities(rows, np.abs(rng.standard_normal(CHUNK)) + 1e-6)
