"""Meta-World MT10 smoke runs through the real CLI on both pool backends: the wiring, the task
one-hot and per-slot task switching under the sampler (a few thousand steps, not learning)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("metaworld")
pytest.importorskip("torch")

from drats.application.checkpoint import read_checkpoint
from drats.application.run_log import read_rows
from drats.cli import main

SMOKE = ["--suite", "mt10", "--steps", "3000", "--rollout-steps", "100", "--max-episode-steps"]
SMOKE += ["50", "--eval-episodes", "1", "--epochs", "2", "--minibatches", "4", "--hidden"]
SMOKE += ["64,64", "--no-progress", "--threads", "1"]


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_mt10_smoke(backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / backend
    workers = ["--workers", "2"] if backend == "process" else []
    argv = ["train", *SMOKE, "--backend", backend, *workers, "--out", str(run)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "reach-v3" in out
    rows = read_rows(run)
    assert [r["env_steps"] for r in rows] == [1000, 2000, 3000]
    # 10 slots x 300 steps with 50-step episodes: 60 training episodes, all observed, and the
    # slots switched tasks (every task was played although slots start on 10 draws from q).
    episodes = np.sum([r["train_episodes"] for r in rows], axis=0)
    assert episodes.sum() == 60
    steps = np.array(rows[-1]["task_steps"])
    assert steps.sum() == 3000
    assert np.count_nonzero(steps) >= 8
    assert len(rows[-1]["q"]) == 10
    assert rows[-1]["eval_success"] is not None
    # The checkpoint's last observations carry the one-hot of the task each slot plays.
    _, parts = read_checkpoint(run)
    obs, tasks = parts["trainer"]["obs"], parts["trainer"]["tasks"]
    assert obs.shape == (10, 49)
    assert np.array_equal(obs[:, 39:], np.eye(10, dtype=np.float32)[tasks])
    assert json.loads((run / "config.json").read_text())["backend"] == backend
