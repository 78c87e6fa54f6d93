"""Fixtures of the replay and sampler microbenchmarks, and the hook that prints their summary.

Run from the repository root, e.g. ``pytest benchmarks/bench_replay.py
benchmarks/bench_sampler.py -p no:cacheprovider`` (see ``benchmarks/README.md``). The workload
is in ``workload.py``, the third-party replays behind drats' signature in ``replay_peers.py``,
the summary table and the targets in ``summary_table.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import summary_table
from workload import ACT_DIM, BETA, OBS_DIM, ROW_FLOATS, SEED, TOTAL, fill, new_replay


def _unavailable(impl: str, err: BaseException) -> None:
    reason = f"{impl} unavailable: {type(err).__name__}: {err}".splitlines()[0][:200]
    summary_table.UNAVAILABLE[impl] = reason
    pytest.skip(reason)


@pytest.fixture(scope="session")
def replay_factory() -> Callable[[str, int], Any]:
    """``get(impl, num_tasks)``: that replay, filled with TOTAL transitions; built once per
    session. Skips when an optional implementation cannot be imported or does not work."""
    cache: dict[tuple[str, int], Any] = {}

    def get(impl: str, num_tasks: int) -> Any:
        if impl in summary_table.UNAVAILABLE:
            pytest.skip(summary_table.UNAVAILABLE[impl])
        key = (impl, num_tasks)
        if key not in cache:
            if impl in ("cpp", "numpy"):
                buf = new_replay(impl, num_tasks, TOTAL // num_tasks)
                fill(buf, num_tasks)
            else:  # third party: missing or broken means skipped, not failed
                try:
                    buf = new_replay(impl, num_tasks, TOTAL // num_tasks)
                    fill(buf, num_tasks)
                    buf.sample(np.ones(num_tasks, dtype=np.int64), beta=BETA)  # smoke test
                except Exception as err:
                    _unavailable(impl, err)
            cache[key] = buf
        return cache[key]

    return get


@pytest.fixture(scope="session")
def packed_rows() -> np.ndarray:
    """TOTAL packed transitions (obs, action, reward, next_obs, terminated: 84 float32, 336
    bytes a row) for the ``row-gather`` floor of the sample groups."""
    rng = np.random.default_rng(SEED + 2)
    return rng.standard_normal((TOTAL, ROW_FLOATS), dtype=np.float32)


@pytest.fixture(scope="session")
def vector_step() -> tuple[np.ndarray, ...]:
    """One vector-env step for ``add``: 10 transitions from 10 different tasks (of 10)."""
    rng = np.random.default_rng(SEED + 1)
    return (
        rng.permutation(10).astype(np.int64),
        rng.standard_normal((10, OBS_DIM), dtype=np.float32),
        rng.uniform(-1.0, 1.0, (10, ACT_DIM)).astype(np.float32),
        rng.standard_normal(10, dtype=np.float32),
        rng.standard_normal((10, OBS_DIM), dtype=np.float32),
        np.zeros(10, np.float32),
    )


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    summary_table.report(terminalreporter, config)
