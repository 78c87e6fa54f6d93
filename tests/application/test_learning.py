"""Learning, not timing: with the embedded defaults and a fixed seed, DRATS + PPO solves
GridWorld-4 (mean evaluation success >= 0.9) within the default budget."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from drats.application.config import TrainConfig
from drats.application.run_log import read_rows
from drats.bootstrap import build, make_trainer


def test_drats_solves_gridworld4_within_the_default_budget(tmp_path: Path) -> None:
    config = TrainConfig(seed=1, device="cpu", checkpoint_every=0, threads=1)
    assert config.suite == "gridworld4"
    assert config.sampler == "drats"
    make_trainer(config, build(config), tmp_path, progress=False).run()
    evals = [r for r in read_rows(tmp_path) if r.get("eval_mean_success") is not None]
    assert evals[-1]["env_steps"] >= config.total_steps
    hits = [r["env_steps"] for r in evals if r["eval_mean_success"] >= 0.9]
    assert hits, f"mean eval success stayed below 0.9 for {config.total_steps:,} steps"
    assert evals[-1]["eval_mean_success"] >= 0.9  # and it stays solved
