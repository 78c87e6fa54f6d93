"""``drats report`` from the command line: the files written and the table printed for run
directories written by hand, one-line errors, and one short real run through the whole path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drats.application.config import TrainConfig
from drats.cli import main

PNG = b"\x89PNG"


def write_run(path: Path, finals: list[float], *, sampler: str, seed: int) -> None:
    """A finished gridworld4 run of 3000 env steps evaluated at 1000, 2000 and 3000, the last
    evaluation's per-task success ``finals``."""
    path.mkdir(parents=True)
    config = TrainConfig(sampler=sampler, seed=seed, steps=3000, eval_every=1000)
    (path / "config.json").write_text(config.to_json())
    rows: list[dict[str, Any]] = []
    for i, steps in enumerate(range(500, 3001, 500), start=1):
        row: dict[str, Any] = {"iteration": i, "env_steps": steps, "q": [0.25] * 4}
        if steps % 1000 == 0:
            row["eval_success"] = finals if steps == 3000 else [steps / 4000] * 4
        rows.append(row)
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    for seed in range(3):
        write_run(tmp_path / "sweep" / "drats" / f"seed{seed}", [1.0, 1.0, 0.9, 1.0 - seed / 10],
                  sampler="drats", seed=seed)  # fmt: skip
        write_run(tmp_path / "sweep" / "uniform" / f"seed{seed}", [0.8, 1.0, 0.5, 0.4],
                  sampler="uniform", seed=seed)  # fmt: skip
    return tmp_path / "sweep"


def test_report_writes_the_files_and_prints_the_table(
    sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(sweep), "--reps", "200"]) == 0
    out = capsys.readouterr().out
    folder = sweep / "report"
    report = json.loads((folder / "report.json").read_text())
    table = out.split("\nwrote ")[0]
    assert table in (folder / "report.md").read_text()
    lines = table.splitlines()
    assert lines[0].startswith("| group ")
    assert "P(improvement over uniform) [95% CI]" in lines[0]
    assert lines[2].startswith("| drats ")
    assert lines[3].startswith("| uniform ")
    assert "baseline" in lines[3]
    assert f"to {folder}" in out
    assert (report["threshold"], report["baseline"], report["reps"]) == (0.9, "uniform", 200)
    drats, uniform = report["groups"]
    assert drats["name"] == "drats"
    assert drats["seeds"] == [0, 1, 2]
    assert drats["final_mean_success"]["mean"] == pytest.approx((3.9 + 3.8 + 3.7) / 12)
    assert drats["steps_to_threshold"]["median"] == 3000
    assert drats["probability_of_improvement"]["value"] > 0.5
    assert uniform["probability_of_improvement"] is None
    pytest.importorskip("matplotlib")
    assert report["figures"] == [
        "learning_curves.png",
        "steps_to_threshold.png",
        "performance_profile.png",
        "probability_of_improvement.png",
        "q_bands.png",
    ]
    for name in report["figures"]:
        assert (folder / name).read_bytes()[:4] == PNG


def test_report_options(sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "elsewhere"
    argv = ["report", str(sweep / "drats"), str(sweep / "uniform"), "--out", str(out)]
    argv += ["--baseline", "drats", "--threshold", "0.5", "--reps", "50", "--seed", "3"]
    assert main(argv) == 0
    assert "P(improvement over drats)" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert (report["baseline"], report["threshold"], report["seed"]) == ("drats", 0.5, 3)
    drats, uniform = report["groups"]
    assert drats["probability_of_improvement"] is None
    assert uniform["probability_of_improvement"]["value"] < 0.5
    # steps to 0.5: uniform's runs reach a mean of 0.5 at 2000 env steps, not before
    assert uniform["steps_to_threshold"]["median"] == 2000


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--baseline", "hedge"], "--baseline 'hedge' is not one of the groups: drats, uniform"),
        (["--threshold", "2"], "threshold must be in [0, 1]"),
        (["--reps", "0"], "reps must be an integer >= 1"),
    ],
)
def test_report_errors_are_one_line(
    sweep: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(sweep), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("drats: error: ")
    assert message in err[0]


def test_report_of_a_missing_or_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no drats run directory" in capsys.readouterr().err


def test_report_of_a_real_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    run = tmp_path / "run"
    argv = ["train", "--steps", "20000", "--eval-every", "4096", "--threads", "1"]
    assert main([*argv, "--no-progress", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--reps", "100"]) == 0
    out = capsys.readouterr().out
    assert "| drats " in out
    assert "single run" in out
    report = json.loads((run / "report" / "report.json").read_text())
    (group,) = report["groups"]
    assert (group["name"], group["runs"], group["complete"], group["tasks"]) == ("drats", 1, 1, 4)
    assert group["curves"]["steps"][:4] == [4096, 8192, 12288, 16384]
    assert group["run_dirs"][0]["env_steps"] >= 20000
    low, high = group["final_mean_success"]["ci"]
    assert low == high == group["final_mean_success"]["mean"]
