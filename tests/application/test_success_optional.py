"""Tasks without a success signal (on fakes, no torch, no simulator): their success reads "not
reported" in the log, the end-of-run and evaluation tables, the progress line, the plots and
``drats report`` (which scores them by their returns over the target), never 0; and the
adaptive target's "solved" rule never fires for them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.application.config import TrainConfig
from drats.application.evaluation import EvalResult
from drats.application.onpolicy import OnPolicyTrainer
from drats.application.report import NOT_REPORTED, eval_table, summary_table
from drats.application.run_log import read_rows
from drats.application.study_report import ReportSettings, build_report
from drats.application.study_runs import group_runs, read_run, read_runs, success_scores
from drats.testing import FakeEnvPool, FakePolicy


class SilentTaskPool(FakeEnvPool):
    """The fake tasks, with ``reports_success`` and ``task_targets`` as a pool declares them.
    Its episodes still carry success flags for every task: the loop must not trust those of a
    task that declares no success signal."""

    def __init__(
        self, num_slots: int, *, seed: int, reports: tuple[bool, ...], targets: tuple[float, ...]
    ) -> None:
        super().__init__(num_slots, num_tasks=len(reports), seed=seed)
        self._reports = np.array(reports, np.bool_)
        self._targets = np.array(targets, np.float64)

    @property
    def reports_success(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return self._reports.copy()

    @property
    def task_targets(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return self._targets.copy()


MIXED = {"reports": (True, False, True), "targets": (math.nan, 4.0, math.nan)}
SILENT = {"reports": (False, False, False), "targets": (math.nan, math.nan, math.nan)}


def make_trainer(run_dir: Path, pools: dict[str, Any] = MIXED) -> OnPolicyTrainer:
    config = TrainConfig(
        steps=240, rollout_steps=5, eval_every=80, eval_episodes=4, checkpoint_every=0
    )
    sampler = NumpyDratsSampler(
        3, eta=4.0, step_size=1.0, target=5.0, seed=3, success_window=2, success_threshold=0.1
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(config.to_json())  # as ``drats train`` writes it
    return OnPolicyTrainer(
        config,
        pool=SilentTaskPool(4, seed=1, **pools),
        eval_pool=SilentTaskPool(3, seed=2, **pools),
        sampler=sampler,
        policy=FakePolicy(2, seed=4),
        run_dir=run_dir,
        progress=False,
    )


def test_the_log_says_none_for_a_task_without_success(tmp_path: Path) -> None:
    make_trainer(tmp_path).run()
    rows = read_rows(tmp_path)
    assert all(r["train_success"][1] is None for r in rows)
    assert any(r["train_success"][0] is not None for r in rows)  # the others are numbers
    evals = [r for r in rows if "eval_success" in r]
    assert len(evals) == 3
    for row in evals:
        ok = row["eval_success"]
        assert ok[1] is None
        assert isinstance(ok[0], float)
        assert isinstance(ok[2], float)
        assert row["eval_mean_success"] == pytest.approx((ok[0] + ok[2]) / 2)
        assert row["eval_worst_success"] == pytest.approx(min(ok[0], ok[2]))
        assert row["eval_return_target"] == [None, 4.0, None]  # the task's own target


def test_a_task_without_success_is_never_solved(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path)
    trainer.run()
    solved = np.asarray(trainer.sampler.state_dict()["solved"])
    # the fake's episodes succeed about half the time on every task: a low threshold solves
    # the tasks that report success, never the one whose flags mean nothing
    assert solved[0]
    assert solved[2]
    assert not solved[1]


def test_the_tables_say_not_reported(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path)
    trainer.run()
    names = ["fake-0", "fake-1", "fake-2"]
    lines = summary_table(trainer, names).splitlines()
    row = {name: next(line for line in lines if line.startswith(name)) for name in names}
    assert row["fake-1"].count(NOT_REPORTED) == 2  # training and evaluation success
    assert NOT_REPORTED not in row["fake-0"] + row["fake-2"]
    assert "over the 2 of 3 tasks that report it" in "\n".join(lines)
    result = EvalResult(
        success=np.array([1.0, np.nan]), returns=np.array([3.0, -120.0]), lengths=np.ones(2)
    )
    text = eval_table(result, ["a", "b"])
    assert NOT_REPORTED in text.splitlines()[3]  # task b's row
    assert (result.mean_success, result.worst_success) == (1.0, 1.0)
    silent = EvalResult(success=np.full(2, np.nan), returns=np.ones(2), lengths=np.ones(2))
    assert "not reported by any task" in eval_table(silent, ["a", "b"])
    assert math.isnan(silent.mean_success)
    assert math.isnan(silent.worst_success)


def test_the_progress_line_shows_returns_when_no_task_reports_success(tmp_path: Path) -> None:
    mixed = make_trainer(tmp_path / "mixed")
    mixed.run()
    assert "eval success" in mixed._progress_text(mixed.sampler.probs)
    silent = make_trainer(tmp_path / "silent", SILENT)
    silent.run()
    text = silent._progress_text(silent.sampler.probs)
    assert "eval return" in text
    assert "success" not in text
    rows = read_rows(tmp_path / "silent")
    assert all(r["eval_mean_success"] is None for r in rows if "eval_success" in r)


def test_plots_leave_unreported_success_out(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from drats.application.plot import plot_runs

    make_trainer(tmp_path / "mixed").run()
    make_trainer(tmp_path / "silent", SILENT).run()
    out = plot_runs([tmp_path / "mixed", tmp_path / "silent"], tmp_path / "runs.png")
    assert out.stat().st_size > 0


def test_report_scores_unreported_tasks_by_return_over_target(tmp_path: Path) -> None:
    make_trainer(tmp_path / "run").run()
    evals = [r for r in read_rows(tmp_path / "run") if "eval_success" in r]
    run = read_run(tmp_path / "run")
    assert run.return_scored.tolist() == [False, True, False]
    assert not run.range_scored.any()
    for row, scores in zip(evals, run.eval_success, strict=True):
        expected = min(1.0, max(0.0, row["eval_return"][1] / 4.0))
        assert scores[1] == pytest.approx(expected)
        assert scores[0] == row["eval_success"][0]
    report = build_report(group_runs([run]), ReportSettings(reps=50))
    (group,) = report["groups"]
    assert any(
        "task 1 reports no success signal" in note and "return over target" in note
        for note in group["notes"]
    )
    assert group["final_task_success"][1] == pytest.approx(run.eval_success[-1, 1])


def write_silent_run(path: Path, returns: list[float], seed: int) -> Path:
    """A run by hand whose single task has no success signal and no target."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(TrainConfig(seed=seed, steps=2000).to_json())
    rows = [
        {"env_steps": 1000 * (i + 1), "q": [1.0], "eval_success": [None], "eval_return": [r]}
        for i, r in enumerate(returns)
    ]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_without_a_target_returns_are_scaled_by_the_range_of_every_run(tmp_path: Path) -> None:
    a = write_silent_run(tmp_path / "a", [-500.0, -300.0], seed=0)
    b = write_silent_run(tmp_path / "b", [-400.0, -100.0], seed=1)
    runs = read_runs([a, b])
    assert all(r.range_scored.tolist() == [True] for r in runs)
    # lowest -500, highest -100 over both runs
    np.testing.assert_allclose(runs[0].eval_success[:, 0], [0.0, 0.5])
    np.testing.assert_allclose(runs[1].eval_success[:, 0], [0.25, 1.0])
    # one row alone: no target, no range -> missing, never 0
    row = {"eval_success": [None], "eval_return": [-300.0]}
    assert np.isnan(success_scores(row, 1)).all()
    report = build_report(group_runs(runs), ReportSettings(reps=50))
    (group,) = report["groups"]
    assert any("task 0, without a target" in note for note in group["notes"])
