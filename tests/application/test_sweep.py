"""``drats sweep``: the plan (groups, grids, seeds), the sweep directory's refusal of another
sweep, the driver's retry-once-then-report rule on a scripted engine, and real runs through
the local engine (finish, skip on rerun, resume after the sweep is killed) and through Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drats.application.sweep import (
    DONE,
    FAILED,
    Job,
    SweepPlan,
    open_sweep,
    parse_grid,
    parse_seeds,
    run_sweep,
)
from drats.domain.errors import ConfigError

#: A GridWorld-4 run of a few seconds: 2,048 steps, evaluated and checkpointed every 512.
TINY = (("eval_every", (512,)), ("checkpoint_every", (512,)), ("eval_episodes", (1,)))


def tiny_plan(samplers: tuple[str, ...] = ("drats", "uniform"), seeds: str = "0-1") -> SweepPlan:
    return SweepPlan("gridworld4", "ppo", samplers, parse_seeds(seeds), steps=2048, grid=TINY)


# ------------------------------------------------------------------------------------- plan


def test_seeds_and_grids_are_parsed_and_checked() -> None:
    assert parse_seeds("0-3,7") == (0, 1, 2, 3, 7)
    assert parse_grid(["eta=8,16", "step-size=3.2"]) == (
        ("eta", (8.0, 16.0)),
        ("step_size", (3.2,)),
    )
    assert parse_grid(["hidden=64+64,32"]) == (("hidden", ([64, 64], [32])),)
    for bad in ("", "3-1", "0,0", "a-b", "-2"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)
    with pytest.raises(ConfigError, match="not a setting a sweep can vary"):
        parse_grid(["seed=1,2"])
    with pytest.raises(ConfigError, match="cannot read 'x' as a float"):
        parse_grid(["eta=x"])
    with pytest.raises(ConfigError, match="name=value"):
        parse_grid(["eta"])


def test_groups_are_samplers_times_the_varying_settings() -> None:
    plan = SweepPlan(
        "gridworld4", "ppo", ("drats", "lp"), (0, 1), steps=4096,
        grid=(("eta", (8.0, 16.0)), ("step_size", (1.6, 3.2)), ("eval_every", (1024,))),
    )  # fmt: skip
    runs = plan.runs()
    groups = sorted({r.group for r in runs})
    assert groups == sorted(
        f"{s}-eta={e}-step_size={k}" for s in ("drats", "lp") for e in (8, 16) for k in (1.6, 3.2)
    )
    assert len(runs) == 2 * 2 * 2 * 2
    first = runs[0].config
    assert first.sampler_options == {"eta": 8.0, "step_size": 1.6}
    assert first.eval_every == 1024
    assert first.threads == 1
    assert [r.seed for r in runs[:2]] == [0, 1]


def test_a_bad_setting_fails_before_anything_runs(tmp_path: Path) -> None:
    plan = SweepPlan("gridworld4", "ppo", ("drats",), (0,), grid=(("batch_size", (64,)),))
    with pytest.raises(ConfigError, match="batch_size applies to --algo sac only"):
        plan.runs()


def test_a_sweep_directory_refuses_another_sweep(tmp_path: Path) -> None:
    open_sweep(tmp_path / "s", tiny_plan())
    open_sweep(tmp_path / "s", tiny_plan())  # the same plan: fine
    with pytest.raises(ConfigError, match=r"holds another sweep.*samplers"):
        open_sweep(tmp_path / "s", tiny_plan(samplers=("drats", "lp")))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a sweep directory"):
        open_sweep(tmp_path / "other", tiny_plan())


# ------------------------------------------------------------------------ the driver's rules


class ScriptedEngine:
    """Finishes each job as scripted: a list of exit codes per run name, one per attempt; a
    0 writes the metrics row a finished run has."""

    capacity = 2

    def __init__(self, script: dict[str, list[int]]) -> None:
        self.script = script
        self.started: list[tuple[str, int]] = []
        self._running: list[Job] = []

    def start(self, job: Job) -> None:
        self.started.append((job.name, job.attempts))
        self._running.append(job)

    def wait(self, timeout: float) -> list[tuple[Job, int, str]]:
        out = []
        for job in self._running:
            code = self.script.get(job.name, [0])[job.attempts - 1]
            if code == 0:
                row = {"env_steps": 2048, "eval_mean_success": 1.0, "eval_worst_success": 1.0}
                (job.run_dir / "metrics.jsonl").write_text(json.dumps(row) + "\n")
            out.append((job, code, f"boom in {job.name}" if code else ""))
        self._running = []
        return out

    def close(self) -> None:
        pass


def test_a_failed_run_is_retried_once_then_reported(tmp_path: Path) -> None:
    engine = ScriptedEngine({"drats/seed0": [1, 0], "uniform/seed1": [1, 1]})
    result = run_sweep(tiny_plan(), tmp_path, engine, interval=0.0)
    assert sorted(result.finished) == ["drats/seed0", "drats/seed1", "uniform/seed0"]
    assert result.failed == {"uniform/seed1": "boom in uniform/seed1"}
    assert ("drats/seed0", 2) in engine.started
    assert ("uniform/seed1", 2) in engine.started
    done = json.loads((tmp_path / "drats" / "seed0" / DONE).read_text())
    assert done["attempts"] == 2
    assert done["reached_0.9_at"] == 2048
    failed = json.loads((tmp_path / "uniform" / "seed1" / FAILED).read_text())
    assert failed["attempts"] == 2
    assert failed["exit_code"] == 1
    # Rerunning skips what finished and tries the failed run again (and now it works).
    again = ScriptedEngine({})
    result = run_sweep(tiny_plan(), tmp_path, again, interval=0.0)
    assert again.started == [("uniform/seed1", 1)]
    assert len(result.skipped) == 3
    assert result.finished == ["uniform/seed1"]
    assert not (tmp_path / "uniform" / "seed1" / FAILED).exists()


# ---------------------------------------------------------------------------- real engines


def sweep_cli(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "drats.cli", "sweep", "--suite", "gridworld4",
        "--samplers", "drats,uniform", "--seeds", "0-1", "--steps", "2048",
        "--set", "eval_every=512", "--set", "checkpoint_every=512", "--set", "eval_episodes=1",
        "--out", str(out), "--workers", "2", *extra,
    ]  # fmt: skip


def test_local_engine_runs_every_run_and_a_rerun_skips_them(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    done = subprocess.run(sweep_cli(out), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("finished ") >= 4
    for group in ("drats", "uniform"):
        for seed in (0, 1):
            run = out / group / f"seed{seed}"
            assert (run / DONE).exists()
            assert json.loads((run / "config.json").read_text())["seed"] == seed
            assert list((run / "checkpoints").glob("checkpoint-*.npz"))
    again = subprocess.run(sweep_cli(out), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0
    assert "0 runs finished now, 4 before, 0 failed" in again.stderr


def test_a_killed_sweep_resumes_where_it_stopped(tmp_path: Path) -> None:
    """SIGKILL the sweep while runs are in flight: its run processes die with it, and the same
    command then finishes the interrupted runs from their checkpoints."""
    out = tmp_path / "sweep"
    argv = sweep_cli(out)
    argv[argv.index("2048")] = "8192"  # long enough to be caught part-way
    proc = subprocess.Popen(argv, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    checkpoints: list[Path] = []
    while time.monotonic() < deadline and not checkpoints:
        checkpoints = list(out.glob("*/seed*/checkpoints/checkpoint-*.npz"))
        time.sleep(0.2)
    assert checkpoints, "no run wrote a checkpoint in time"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)  # PR_SET_PDEATHSIG delivers the runs' SIGKILL
    leftovers = subprocess.run(["pgrep", "-f", f"--resume {out}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "a run process outlived its sweep"
    interrupted = [p.parent.parent for p in checkpoints if not (p.parent.parent / DONE).exists()]
    assert interrupted
    resumed = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert len(list(out.glob(f"*/seed*/{DONE}"))) == 4
    log = (interrupted[0] / "train.log").read_text()
    assert "resuming" in log


def test_ray_engine_runs_and_brings_run_directories_back(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from drats.adapters.sweep.ray_engine import RayEngine

    for transfer in (False, True):  # a shared file system, then none (directories travel)
        out = tmp_path / f"transfer-{transfer}"
        engine = RayEngine(2, 1, transfer=transfer)
        result = run_sweep(tiny_plan(seeds="0"), out, engine, interval=0.0)
        assert sorted(result.finished) == ["drats/seed0", "uniform/seed0"], result.failed
        for group in ("drats", "uniform"):
            run = out / group / "seed0"
            assert (run / DONE).exists()
            assert (run / "metrics.jsonl").exists()
            assert list((run / "checkpoints").glob("checkpoint-*.npz"))
