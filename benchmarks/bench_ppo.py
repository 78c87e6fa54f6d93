"""Meta-World MT10 PPO: the update against the matmul peak, and collection against stepping.

Workload (the paper's MT10 PPO): obs float32[49] (39 + a 10-task one-hot), action float32[4],
K = 10 tasks, 3x400 ReLU actor and critic with one head per task, minibatches of 3,125 rows
(100,000 steps / 32), per-task advantage normalisation; torch threads 2 on the CPU, or the GPU
with ``DRATS_BENCH_DEVICE=cuda``.

* ``update``: :meth:`TorchPPOPolicy.learn` on a 3,125-row rollout with one epoch of one
  minibatch, i.e. one minibatch step of the paper's update. Its matmul work is counted from
  the layer shapes (:func:`update_macs`) and set against the best rate of a plain float32
  ``[3125, 400] @ [400, 400]`` matmul timed in the same session and threads: the share of the
  matmul peak the update runs at: against the session's best peak (the conservative figure)
  and against the peak timed just before it in the same round.
* ``collection`` (needs ``metaworld``): ``OnPolicyTrainer._collect`` on an MT10 pool of 10
  slots with the policy acting, against the same pool stepped with uniform random actions, both
  sides starting every round from fresh episodes of the same tasks (one slot per task; no
  episode ends within a round's 100 steps): what the policy and the bookkeeping add to
  stepping.

Rounds alternate so load from other processes hits both sides alike. Run ``pytest
benchmarks/bench_ppo.py -p no:cacheprovider``; the summary is printed at the end and written to
``.benchmarks/ppo.md``. On a GPU machine: ``DRATS_BENCH_DEVICE=cuda pytest
benchmarks/bench_ppo.py -p no:cacheprovider`` (``benchmarks/cuda_ppo.sh`` builds drats there
first).
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
import tempfile
import time
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from drats.adapters.learners.ppo import TorchPPOPolicy  # noqa: E402
from drats.adapters.learners.ppo_config import PPOConfig  # noqa: E402
from drats.domain.types import Rollout  # noqa: E402
from machine_info import describe  # noqa: E402
from summary_table import publish  # noqa: E402

OBS_DIM, ACT_DIM, K = 49, 4, 10
HIDDEN = (400, 400, 400)
ROWS = 3_125
THREADS = 2
ROUNDS = 9
DEVICE = os.environ.get("DRATS_BENCH_DEVICE", "cpu")
COLLECT_STEPS = 100  # per slot and round
COLLECT_ROUNDS = 25

#: measurement -> its numbers (filled by the tests below).
RESULTS: dict[str, Any] = {}


def update_macs() -> int:
    """Multiply-adds of one PPO minibatch step per row: the actor (K heads of 2A outputs) and
    the critic (K heads of 1), each forward once, then backward: weight gradients for every
    layer and input gradients for every layer but the first."""
    total = 0
    for out in (2 * ACT_DIM * K, K):
        widths = [OBS_DIM, *HIDDEN, out]
        layers = [a * b for a, b in itertools.pairwise(widths)]
        total += 3 * sum(layers) - layers[0]
    return total


def matmul_peak(rounds: int = 5, calls: int = 20) -> float:
    """FLOP/s of the best round of a plain ``[ROWS, 400] @ [400, 400]`` float32 matmul."""
    a = torch.randn(ROWS, HIDDEN[1], device=DEVICE)
    w = torch.randn(HIDDEN[1], HIDDEN[1], device=DEVICE)
    best = math.inf
    for r in range(rounds + 1):
        _sync()
        start = time.perf_counter()
        for _ in range(calls):
            a @ w
        _sync()
        if r:  # the first round warms up
            best = min(best, (time.perf_counter() - start) / calls)
    return 2.0 * ROWS * HIDDEN[1] * HIDDEN[1] / best


def _sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def rollout(seed: int = 0) -> Rollout:
    """A 3,125 x 1 MT10-shaped rollout (10 tasks, random data, episodes of 500 steps)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, K, (ROWS, 1))
    obs = rng.standard_normal((ROWS, 1, OBS_DIM), dtype=np.float32)
    obs[:, 0, OBS_DIM - K :] = np.eye(K, dtype=np.float32)[ids[:, 0]]
    f32 = np.float32
    return Rollout(
        obs=obs,
        task_ids=ids,
        actions=rng.standard_normal((ROWS, 1, ACT_DIM)).astype(f32),
        log_probs=rng.uniform(-6.0, -3.0, (ROWS, 1)).astype(f32),
        values=rng.standard_normal((ROWS, 1)).astype(f32),
        rewards=rng.uniform(0.0, 10.0, (ROWS, 1)).astype(f32),
        dones=(np.arange(ROWS) % 500 == 499)[:, None],
        bootstrap=np.zeros((ROWS, 1), f32),
        last_values=np.zeros(1, f32),
    )


def test_update_against_the_matmul_peak() -> None:
    torch.set_num_threads(THREADS)
    config = PPOConfig(epochs=1, minibatches=1, target_kl=None)
    policy = TorchPPOPolicy(OBS_DIM, ACT_DIM, K, discrete=False, config=config, device=DEVICE)
    data = rollout()
    for _ in range(2):
        policy.learn(data)
    seconds, peaks = [], []
    for _ in range(ROUNDS):
        peaks.append(matmul_peak(rounds=2))
        _sync()
        start = time.perf_counter()
        policy.learn(data)
        _sync()
        seconds.append(time.perf_counter() - start)
    RESULTS["update"] = seconds
    RESULTS["peak"] = max(peaks)
    RESULTS["round peaks"] = peaks
    assert all(s > 0 for s in seconds)


def test_collection_against_random_stepping() -> None:
    pytest.importorskip("metaworld")
    from drats.application.config import TrainConfig
    from drats.bootstrap import build, make_trainer
    from drats.domain.rng import CounterRng

    torch.set_num_threads(THREADS)
    config = TrainConfig(
        suite="mt10", device=DEVICE, threads=THREADS, rollout_steps=COLLECT_STEPS,
        eval_every=0, checkpoint_every=0,
    )  # fmt: skip
    parts = build(config)
    rng = CounterRng(1)
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            trainer = make_trainer(config, parts, run_dir, progress=False)
            trainer._start()
            pool, sampler = parts.pool, parts.sampler

            # Both sides start every round from fresh episodes of the same tasks (one slot per
            # task): Meta-World tasks differ in stepping cost, so differing task mixes would
            # swamp the difference being measured.
            first = np.arange(pool.num_slots) % pool.num_tasks
            acting: list[float] = []  # the trainer's act share of each collection round
            stepping: list[float] = []  # the trainer's env seconds of each collection round

            def collect() -> float:
                trainer.tasks, trainer.obs = first.copy(), pool.reset(first)
                trainer._new_iteration()  # zero the trainer's own time split
                start = time.perf_counter()
                trainer._collect(COLLECT_STEPS)
                seconds = time.perf_counter() - start
                acting.append(trainer.seconds["act"] / seconds)
                stepping.append(trainer.seconds["env"])
                return seconds

            def random_steps() -> float:
                pool.reset(first)
                start = time.perf_counter()
                for _ in range(COLLECT_STEPS):
                    u = rng.uniform(pool.num_slots * pool.action_dim)
                    out = pool.step((2 * u - 1).astype(np.float32).reshape(pool.num_slots, -1))
                    ended = np.flatnonzero(out.terminated | out.truncated)
                    if ended.size:
                        pool.reset_slots(ended, sampler.sample(ended.size))
                return time.perf_counter() - start

            collect(), random_steps()  # warm-up
            times: dict[str, list[float]] = {"collection": [], "random stepping": []}
            for r in range(COLLECT_ROUNDS):
                pair = (("collection", collect), ("random stepping", random_steps))
                for name, fn in pair if r % 2 == 0 else reversed(pair):
                    times[name].append(fn())
            trainer.pool.reset(trainer.tasks)  # leave the pool consistent
    finally:
        parts.close()
    RESULTS["collection"] = times
    RESULTS["acting share"] = acting[1:]  # the warm-up round left out
    RESULTS["collection stepping"] = stepping[1:]


def summary_lines(results: dict[str, Any]) -> list[str]:
    lines = [f"{describe()}; device {DEVICE}; torch threads {THREADS}; {ROUNDS} rounds."]
    if "update" in results:
        flops = 2.0 * update_macs() * ROWS
        best = min(results["update"])
        median = statistics.median(results["update"])
        peak = results["peak"]
        lines += [
            "",
            "| PPO minibatch step (3,125 rows, MT10 3x400) | value |",
            "|---|---|",
            f"| seconds, median (best) | {median:.3f} ({best:.3f}) |",
            f"| matmul work | {flops / 1e9:.2f} GFLOP |",
            f"| rate, median | {flops / median / 1e9:.1f} GFLOP/s |",
            f"| float32 matmul peak, same session | {peak / 1e9:.1f} GFLOP/s |",
            f"| share of the peak, median (best) | {flops / median / peak:.0%} "
            f"({flops / best / peak:.0%}) |",
        ]
        if "round peaks" in results:
            # Each round times the peak and then the update back to back: the share within a
            # round is the steadier statistic on a machine whose speed drifts between rounds.
            rounds = zip(results["update"], results["round peaks"], strict=True)
            paired = sorted(flops / s / p for s, p in rounds)
            lines.append(
                f"| share of its own round's peak, median (range) | "
                f"{statistics.median(paired):.0%} ({paired[0]:.0%}-{paired[-1]:.0%}) |"
            )
    if "collection" in results:
        c = results["collection"]
        col, rnd = statistics.median(c["collection"]), statistics.median(c["random stepping"])
        # Each round times both sides back to back: the ratio within a round is the steadier
        # statistic on a machine whose speed drifts between rounds.
        paired = sorted(a / b for a, b in zip(c["collection"], c["random stepping"], strict=True))
        steps = 10 * COLLECT_STEPS
        lines += [
            "",
            "| MT10, 10 slots x 100 steps | seconds (median) | env steps/s | vs random |",
            "|---|---|---|---|",
            f"| collection (policy acting) | {col:.3f} | {steps / col:,.0f} | {col / rnd:.2f}x |",
            f"| random actions, same tasks | {rnd:.3f} | {steps / rnd:,.0f} | 1.00x |",
            "",
            f"Collection over random stepping within each of {COLLECT_ROUNDS} rounds: median "
            f"{statistics.median(paired):.3f}x, range {paired[0]:.3f}-{paired[-1]:.3f}x.",
        ]
        if results.get("collection stepping"):
            # The policy's actions lead the simulator into other states than random actions
            # do, and a Meta-World step's cost depends on the state (contacts): this part of
            # the difference is the environment's, not the policy's or the loop's.
            env = sorted(
                a / b
                for a, b in zip(results["collection stepping"], c["random stepping"], strict=True)
            )
            lines.append(
                "Stepping alone within collection (the trainer's env timer) over random "
                f"stepping: median {statistics.median(env):.3f}x, range {env[0]:.3f}-"
                f"{env[-1]:.3f}x: the cost of the states the policy's actions lead to."
            )
        if results.get("acting share"):
            share = sorted(results["acting share"])
            mid = statistics.median(share)
            lines.append(
                f"Acting (the batched critic values included) took a median {mid:.1%} of each "
                f"collection round (range {share[0]:.1%}-{share[-1]:.1%}), by the trainer's own "
                "time split."
            )
    return lines


def test_write_summary(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    """Print and write the summary of the two measurements above (runs last)."""
    if not RESULTS:
        pytest.skip("nothing was measured")
    lines = summary_lines(RESULTS)
    publish(request, capsys, "ppo.md", lines)
