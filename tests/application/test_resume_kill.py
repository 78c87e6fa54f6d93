"""A `drats train` process killed with SIGKILL at any moment resumes from its last checkpoint
and ends with exactly the numbers of a run that was never interrupted (CPU, fixed seed)."""

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
from drats.application.run_log import read_rows, without_timings

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

ARGS = ["--steps", "24576", "--checkpoint-every", "4096", "--eval-every", "8192"]
ARGS += ["--threads", "1", "--no-progress", "--seed", "3"]


def train(out: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "drats.cli", "train", *extra]
    if "--resume" not in extra:
        cmd += ["--out", str(out), *ARGS]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(proc: subprocess.Popen[bytes]) -> None:
    assert proc.wait(timeout=300) == 0, proc.args


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    finish(train(out))
    return out


@pytest.mark.parametrize("kill_after", [1, 3])
def test_sigkill_then_resume_matches_an_uninterrupted_run(
    reference: Path, tmp_path: Path, kill_after: int
) -> None:
    out = tmp_path / "run"
    proc = train(out)
    store = CheckpointStore(out)
    deadline = time.monotonic() + 120
    # Kill it at an arbitrary moment after `kill_after` checkpoints have appeared.
    while len(read_rows(out)) < 2 * kill_after and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    finish(train(out, "--resume", str(out)))
    assert without_timings(read_rows(out)) == without_timings(read_rows(reference))
    mine = read_checkpoint(store.latest())[1]  # type: ignore[arg-type]
    theirs = read_checkpoint(CheckpointStore(reference).latest())[1]  # type: ignore[arg-type]
    assert set(mine) == set(theirs)
    for part, state in theirs.items():
        for key, value in state.items():
            assert np.array_equal(np.asarray(mine[part][key]), np.asarray(value)), (part, key)
