"""Checkpointing an off-policy run: a full 1,000,000-transition MT10 replay (10 tasks x 100,000,
obs float32[49], action float32[4]) written with the run's atomic ``.npz`` writer and read back
into a fresh replay, against ``pickle`` (the obvious way, which drats refuses on load) of the
same state dict, in the same run.

Run: ``pytest benchmarks/bench_checkpoint.py -p no:cacheprovider``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import drats
from drats.application.checkpoint import CheckpointStore, read_checkpoint

TASKS, CAPACITY, OBS, ACT = 10, 100_000, 49, 4


@pytest.fixture(scope="module")
def full_replay() -> Any:
    replay = drats.CppPerTaskReplay(TASKS, CAPACITY, obs_shape=OBS, action_shape=ACT, seed=0)
    rng = np.random.default_rng(0)
    chunk = 10_000
    for start in range(0, TASKS * CAPACITY, chunk):
        ids = np.repeat(np.arange(TASKS), chunk // TASKS)
        obs = rng.standard_normal((chunk, OBS), dtype=np.float32)
        replay.add(
            ids, obs, np.zeros((chunk, ACT), np.float32), np.ones(chunk), obs, np.zeros(chunk)
        )
        del start
    assert len(replay) == TASKS * CAPACITY
    return replay


@pytest.mark.benchmark(group="checkpoint 1M-transition replay")
@pytest.mark.parametrize("impl", ["npz-save", "npz-load", "pickle-save", "pickle-load"])
def test_replay_checkpoint(benchmark: Any, impl: str, full_replay: Any, tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    pickled = tmp_path / "replay.pkl"
    if impl == "npz-save":
        benchmark.pedantic(
            lambda: store.save(1, {}, {"replay": full_replay.state_dict()}), rounds=3
        )
    elif impl == "npz-load":
        path = store.save(1, {}, {"replay": full_replay.state_dict()})
        fresh = drats.CppPerTaskReplay(TASKS, CAPACITY, obs_shape=OBS, action_shape=ACT)

        def load() -> None:
            fresh.load_state_dict(read_checkpoint(path)[1]["replay"])

        benchmark.pedantic(load, rounds=3)
        assert len(fresh) == len(full_replay)
    elif impl == "pickle-save":

        def save() -> None:
            with pickled.open("wb") as handle:
                pickle.dump(full_replay.state_dict(), handle, protocol=pickle.HIGHEST_PROTOCOL)

        benchmark.pedantic(save, rounds=3)
    else:
        with pickled.open("wb") as handle:
            pickle.dump(full_replay.state_dict(), handle, protocol=pickle.HIGHEST_PROTOCOL)
        fresh = drats.CppPerTaskReplay(TASKS, CAPACITY, obs_shape=OBS, action_shape=ACT)

        def load() -> None:
            with pickled.open("rb") as handle:
                fresh.load_state_dict(pickle.load(handle))

        benchmark.pedantic(load, rounds=3)
