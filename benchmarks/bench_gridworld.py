"""GridWorld-4 training throughput: drats against a straightforward PPO loop, same session.

Workload: the paper's GridWorld-4 setting (linear PPO, 256 env steps per update, DRATS q step
once per 256-step window), one torch thread, CPU.

* ``reference``: :func:`reference_ppo.run`, a CleanRL-shaped single-file loop (Gymnasium
  ``SyncVectorEnv`` over one env, a torch forward per step, the same linear PPO update).
* ``drats``: ``drats train``'s trainer on the gridworld4 preset (4 slots x 64 steps per
  rollout, C++ DRATS sampler, C++ acting), evaluation and checkpoints off but for the end.
* ``drats, default schedule``: the same with the preset's evaluation (100 sampled episodes
  per task every 20,480 steps) and checkpoints (every 50,000 steps), as ``drats train`` runs.

Rounds alternate between the implementations so load from other processes hits all alike; the
summary gives env steps/s (median and range over rounds) and each ratio to the reference's
median. Run ``pytest benchmarks/bench_gridworld.py -p no:cacheprovider``; the summary is
printed at the end and written to ``.benchmarks/gridworld.md``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gymnasium")

import reference_ppo  # noqa: E402
from drats.application.config import TrainConfig  # noqa: E402
from drats.bootstrap import build, make_trainer  # noqa: E402
from machine_info import describe  # noqa: E402
from summary_table import publish  # noqa: E402

ROUNDS = 5
REFERENCE_STEPS = 10_240  # the reference is slow: fewer steps per round, same rate
DRATS_STEPS = 102_400

#: implementation -> env steps per second of every round (filled by the test below).
RESULTS: dict[str, list[float]] = {}


def drats_run(steps: int, *, schedule: bool) -> float:
    """Seconds for ``steps`` env steps of the gridworld4 preset through the trainer."""
    extra = {} if schedule else {"eval_every": 0, "checkpoint_every": 0}
    config = TrainConfig(steps=steps, threads=1, device="cpu", **extra)
    parts = build(config)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = make_trainer(config, parts, run_dir, progress=False)
        started = time.perf_counter()
        trainer.run()
        seconds = time.perf_counter() - started
    parts.close()
    return seconds


def implementations() -> dict[str, tuple[int, Callable[[int], float]]]:
    return {
        "reference": (REFERENCE_STEPS, reference_ppo.run),
        "drats": (DRATS_STEPS, lambda steps: drats_run(steps, schedule=False)),
        "drats, default schedule": (DRATS_STEPS, lambda steps: drats_run(steps, schedule=True)),
    }


def test_gridworld_throughput_interleaved() -> None:
    torch.set_num_threads(1)
    for steps, run in implementations().values():
        run(min(steps, 2_560))  # warm-up: imports, first allocations
    for _ in range(ROUNDS):
        for name, (steps, run) in implementations().items():
            RESULTS.setdefault(name, []).append(steps / run(steps))
    assert all(len(rates) == ROUNDS for rates in RESULTS.values())


def summary_lines(results: dict[str, list[float]]) -> list[str]:
    base = statistics.median(results["reference"])
    lines = [
        "| implementation | env steps/s (median) | range over rounds | vs reference |",
        "|---|---|---|---|",
    ]
    for name, rates in results.items():
        median = statistics.median(rates)
        lines.append(
            f"| {name} | {median:,.0f} | {min(rates):,.0f}-{max(rates):,.0f} | "
            f"{median / base:.1f}x |"
        )
    lines += [
        "",
        f"{describe()}; torch threads 1; {ROUNDS} interleaved rounds "
        f"({REFERENCE_STEPS:,} reference steps, {DRATS_STEPS:,} drats steps each).",
    ]
    return lines


def test_write_summary(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    """Print and write the summary of :func:`test_gridworld_throughput_interleaved`."""
    if not RESULTS:
        pytest.skip("the interleaved benchmark did not run")
    lines = summary_lines(RESULTS)
    publish(request, capsys, "gridworld.md", lines)
