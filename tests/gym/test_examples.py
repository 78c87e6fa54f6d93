"""The bring-your-own-loop examples run end to end (a few hundred steps each)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run_example(name: str, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.skipif(not has("stable_baselines3"), reason="stable-baselines3 is not installed")
def test_sb3_ppo_gridworld() -> None:
    out = run_example("sb3_ppo_gridworld.py", "--steps", "1024", "--eval-every", "512")
    assert "eval success" in out
    assert "mean eval success" in out


def test_cleanrl_style_ppo() -> None:
    out = run_example("cleanrl_style_ppo.py", "--steps", "2560", "--num-envs", "2")
    assert out.count("eval success") == 2  # iterations 10 and 20 of 128 env steps


@pytest.mark.skipif(
    not (has("stable_baselines3") and has("metaworld")),
    reason="needs stable-baselines3 and metaworld",
)
def test_metaworld_sb3_sac() -> None:
    out = run_example(
        "metaworld_sb3_sac.py",
        *("--steps", "300", "--eval-every", "0", "--window-steps", "100"),
        *("--learning-starts", "100", "--n-envs", "2"),
    )
    assert "300 steps; final q" in out
