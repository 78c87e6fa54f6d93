"""The drats command line: one-line errors for bad options, a short real training run, eval,
plot, and the resume rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from drats.application.checkpoint import read_checkpoint
from drats.application.run_log import read_rows
from drats.cli import main

SHORT = ["--steps", "2048", "--eval-every", "1024", "--no-progress", "--threads", "1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--suite", "atari"], "unknown suite 'atari'"),
        (["--sampler", "greedy"], "unknown sampler 'greedy'"),
        (["--steps", "-5"], "steps must be a positive integer"),
        (["--eps", "0.5"], "eps must satisfy 0 <= eps <= 1/K"),
        (["--device", "tpu"], "device must be auto, cpu or cuda"),
        (["--sampler", "uniform", "--eta", "3"], "sampler 'uniform' takes no option 'eta'"),
        (["--epochs", "0"], "ppo epochs must be an integer >= 1"),
        (["--suite", "gym:"], "needs at least one Gymnasium env id"),
        (["--target", "1,2,3"], "target"),
        (["--backend", "process"], "cannot apply to gridworld4"),
        (["--suite", "pointmass", "--backend", "process"], "cannot apply to pointmass"),
        (["--workers", "3"], "--workers applies to --backend process only"),
        (["--replay-alloc", "drats"], "replay_alloc applies to --algo sac only"),
        (["--batch-size", "64"], "batch_size applies to --algo sac only"),
        (["--algo", "sac", "--rollout-steps", "8"], "rollout_steps applies to --algo ppo"),
        (["--algo", "dqn"], "unknown algo 'dqn'"),
        (["--eval-mode", "best"], "eval_mode must be greedy or sampled"),
    ],
)
def test_invalid_options_exit_with_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["train", "--out", str(tmp_path / "run"), *SHORT, *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1
    assert err[0].startswith("drats: error: ")
    assert message in err[0]


def test_every_run_setting_is_an_option_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    """The train options are generated from TrainConfig's fields and the option tables, so a
    new field shows up on the command line with its own help text."""
    from dataclasses import fields

    from drats.application.config import LEARNER_OPTIONS, SAMPLER_OPTIONS, TrainConfig

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in fields(TrainConfig):
        if f.metadata["cli"]:
            assert "--" + f.name.replace("_", "-") in text
            assert " ".join(f.metadata["help"].split()) in text
    for name, option in {**SAMPLER_OPTIONS, **LEARNER_OPTIONS}.items():
        assert "--" + name.replace("_", "-") in text
        assert " ".join(option.help.split()) in text
    for name in ("gridworld4", "pointmass", "mt10", "mt50", "gym:", "drats", "smt", "sac"):
        assert name in text


@pytest.mark.parametrize("argv", [["--steps", "many"], ["--no-such-option"]])
def test_malformed_options_exit_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert len(err) == 1
    assert err[0].startswith("drats: error: ")


def test_train_eval_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), *SHORT]) == 0
    out = capsys.readouterr().out
    for name in ("wall-1", "wall-4", "eval success: mean"):
        assert name in out
    split = next(line for line in out.splitlines() if line.startswith("time "))
    for part in ("act", "env", "sampler", "learn", "eval"):  # where the run's time went
        assert f" {part} " in split
    assert all(f"seconds/{part}" in read_rows(run)[-1] for part in ("act", "env", "learn"))
    config = json.loads((run / "config.json").read_text())
    assert config["suite"] == "gridworld4"
    assert config["sampler"] == "drats"
    rows = read_rows(run)
    assert rows[-1]["env_steps"] == 2048
    assert [r["env_steps"] for r in rows if "eval_success" in r] == [1024, 2048]
    assert main(["eval", str(run), "--episodes", "2"]) == 0
    assert "mean success" in capsys.readouterr().out
    pytest.importorskip("matplotlib")
    assert main(["plot", str(run), "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_per_task_targets(tmp_path: Path) -> None:
    run = tmp_path / "smt"
    argv = ["train", "--sampler", "smt", "--target", "0.5,0.6,0.7,0.8", "--out", str(run)]
    assert main([*argv, *SHORT]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["sampler_options"]["target"] == [0.5, 0.6, 0.7, 0.8]
    _, parts = read_checkpoint(run)
    assert parts["sampler"]["base_targets"].tolist() == [0.5, 0.6, 0.7, 0.8]


@pytest.mark.parametrize("sampler", ["uniform", "hedge", "lp", "smt"])
def test_every_sampler_trains(sampler: str, tmp_path: Path) -> None:
    assert main(["train", "--sampler", sampler, "--out", str(tmp_path / sampler), *SHORT]) == 0
    assert len(read_rows(tmp_path / sampler)) == 8


def test_resume_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), *SHORT]) == 0
    # A finished run is not started again by accident.
    assert main(["train", "--out", str(run), *SHORT]) == 2
    assert "already holds a run" in capsys.readouterr().err
    # Only --steps may change on resume; more steps continue the run.
    assert main(["train", "--resume", str(run), "--eta", "2"]) == 2
    assert "only --steps may change" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--steps", "3072", "--no-progress"]) == 0
    assert read_rows(run)[-1]["env_steps"] == 3072
    assert main(["train", "--resume", str(tmp_path / "nowhere")]) == 2
    assert main(["eval", str(tmp_path / "nowhere.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_tensorboard_events_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), *SHORT]) == 0
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events
    assert events[0].stat().st_size > 0


def test_a_run_directory_in_use_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two trainers in one run directory would interleave checkpoints: the second is refused."""
    from drats.application.checkpoint import hold_run_lock

    run = tmp_path / "run"
    assert main(["train", "--out", str(run), *SHORT]) == 0
    capsys.readouterr()
    with hold_run_lock(run):
        assert main(["train", "--resume", str(run), "--steps", "4096", "--no-progress"]) == 2
    assert "in use by another drats process" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--steps", "4096", "--no-progress"]) == 0
