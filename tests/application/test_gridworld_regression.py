"""Regression: the gridworld4 PPO preset must not collapse into never reaching the goal.

With the critic head initialised at gain 1 (every state's value a random +-0.5, against rewards
of -0.001 per step and +1 at the goal) and advantages normalised per task, seed 106 learned to
stay in its start cell within ~30k steps and never reached the goal again (0 training successes
after the first ~60 iterations; eval success 0.00 at 500k steps). With the paper's settings it
reaches the goal steadily within ~50k steps under either sampler.

Learning, not timing: a fixed seed, the preset as shipped, training successes counted from the
run's own metrics rows (no evaluation, no checkpoints, ~8 s per sampler on one core).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from drats.application.config import TrainConfig
from drats.application.run_log import read_rows
from drats.bootstrap import build, make_trainer

ITERATIONS = 200  # of 256 env steps each: 51,200 steps


@pytest.mark.parametrize("sampler", ["drats", "uniform"])
def test_gridworld4_seed_106_keeps_reaching_the_goal(tmp_path: Path, sampler: str) -> None:
    config = TrainConfig(
        seed=106,
        sampler=sampler,
        steps=ITERATIONS * 256,
        device="cpu",
        threads=1,
        eval_every=0,
        checkpoint_every=0,
    )
    assert config.suite == "gridworld4"
    assert config.algo == "ppo"
    parts = build(config)
    try:
        make_trainer(config, parts, tmp_path, progress=False).run()
    finally:
        parts.close()
    rows = read_rows(tmp_path)
    assert len(rows) == ITERATIONS
    late = rows[ITERATIONS // 2 :]
    successes = sum(
        (rate or 0.0) * count
        for row in late
        for rate, count in zip(row["train_success"], row["train_episodes"], strict=True)
    )
    # Collapsed (before the fix): 0-2 successes in these 100 iterations; learning: ~50.
    assert successes >= 20, f"{successes:.0f} training successes in iterations 101-200"
