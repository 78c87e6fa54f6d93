"""SAC end to end on the pointmass suite: the learning test (SAC + DRATS solves it within the
default budget, fixed seed) and SIGKILL/resume with the replay in the checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from drats.application.checkpoint import CheckpointStore, read_checkpoint
from drats.application.config import TrainConfig
from drats.application.report import steps_to_success
from drats.application.run_log import read_rows, without_timings
from drats.bootstrap import build, make_trainer


def test_sac_with_drats_solves_pointmass_within_the_default_budget(tmp_path: Path) -> None:
    config = TrainConfig(suite="pointmass", algo="sac", seed=0, device="cpu", checkpoint_every=0)
    assert config.sampler == "drats"
    make_trainer(config, build(config), tmp_path, progress=False).run()
    rows = read_rows(tmp_path)
    assert rows[-1]["env_steps"] >= config.total_steps
    reached = steps_to_success(rows)
    assert reached is not None, f"mean eval success stayed below 0.9 for {config.total_steps:,}"
    assert rows[-1]["eval_worst_success"] >= 0.8  # the wall task too, at the end


ARGS = ["--suite", "pointmass", "--algo", "sac", "--steps", "6000", "--window-steps", "500"]
ARGS += ["--warmup-steps", "1000", "--batch-size", "64", "--hidden", "32,32"]
ARGS += ["--checkpoint-every", "1000", "--eval-every", "2000", "--threads", "1"]
ARGS += ["--no-progress", "--seed", "2"]


def train(*argv: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "drats.cli", "train", *argv]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_sac_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    reference, out = tmp_path / "reference", tmp_path / "run"
    assert train("--out", str(reference), *ARGS).wait(timeout=300) == 0
    proc = train("--out", str(out), *ARGS)
    deadline = time.monotonic() + 120
    while len(read_rows(out)) < 5 and proc.poll() is None:  # past two checkpoints
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert train("--resume", str(out)).wait(timeout=300) == 0
    assert without_timings(read_rows(out)) == without_timings(read_rows(reference))
    mine = read_checkpoint(CheckpointStore(out).latest())[1]  # type: ignore[arg-type]
    theirs = read_checkpoint(CheckpointStore(reference).latest())[1]  # type: ignore[arg-type]
    assert {"replay", "offpolicy", "policy"} <= set(theirs) == set(mine)
    for part, state in theirs.items():
        for key, value in state.items():
            assert np.array_equal(np.asarray(mine[part][key]), np.asarray(value)), (part, key)
