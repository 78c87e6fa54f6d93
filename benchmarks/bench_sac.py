"""Learner speed: multi-task SAC gradient steps per second, reference vs ``TorchSACPolicy``.

Workload (Meta-World MT10 multi-head MT-SAC): obs float32[49] (39 + a 10-task one-hot),
action float32[4], K = 10 tasks, 3x400 ReLU networks with one head per task, batch 1280
(128 rows per task), non-uniform importance weights, torch threads 2, CPU.

Implementations, measured in the same run on the same batch:

* ``reference``: :class:`reference_sac.ReferenceMTSAC`, an MT-SAC update written the
  obvious way (two critic modules, separate targets, default Adam, a Python loop over the
  per-task temperatures, ``.item()`` metrics; see ``reference_sac.py``).
* ``drats``: :meth:`drats.adapters.learners.sac.TorchSACPolicy.learn` with the default
  settings (float32 throughout).
* ``drats fast_matmul``: the same with ``SACConfig(fast_matmul=True)``: the float32 matmuls
  round their inputs to bfloat16 (oneDNN; AMX where the CPU has it) and accumulate in
  float32. Not the same numerics as the other two: reported beside them, not instead of them.

The summary also counts the multiply-adds of one update of each implementation from the layer
shapes (:func:`update_macs`) and times, in the same session and threads, a plain float32
``torch.mm`` of one hidden layer's shape (``[1280, 400] @ [400, 400]``, the best of several
rounds): the machine's matmul peak for this workload. From the two follows the fastest any
float32 update with drats' arithmetic could run here, and so the largest ratio to the reference
that float32 can reach on this machine (``float32 ceiling``).

Both use the same network sizes and the same SAC maths (tanh-squashed Gaussian actor, twin
critics with the min target, per-task temperatures with target entropy -|A|, weighted critic
loss, |TD| per row for priorities). Rounds alternate between the implementations
(:func:`_interleaved`) so that load from other processes on a shared machine hits both alike.

Run ``pytest benchmarks/bench_sac.py -p no:cacheprovider``; the summary (updates/s and the
ratio, with the range over rounds) is printed at the end and written to ``.benchmarks/sac.md``.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from drats.adapters.learners.sac import TorchSACPolicy  # noqa: E402
from drats.adapters.learners.sac_config import SACConfig  # noqa: E402
from drats.domain.types import Batch  # noqa: E402
from machine_info import describe  # noqa: E402
from reference_sac import ReferenceMTSAC  # noqa: E402
from summary_table import publish  # noqa: E402

OBS_DIM, ACT_DIM, K = 49, 4, 10
HIDDEN = (400, 400, 400)
BATCH = 1280
THREADS = 2
ROUNDS, STEPS_PER_ROUND, WARMUP = 7, 4, 3

#: implementation -> seconds per update of every round (filled by the tests below).
RESULTS: dict[str, list[float]] = {}
#: best plain float32 matmul rate of one hidden layer's shape, FLOP/s (filled below).
PEAK: dict[str, float] = {}


# ------------------------------------------------------------------------- arithmetic count


def _layer_macs(widths: list[int]) -> list[int]:
    """Multiply-adds per row of each linear layer of an MLP with these widths."""
    return [a * b for a, b in itertools.pairwise(widths)]


def update_macs(impl: str) -> int:
    """Multiply-adds of one MT-SAC update of ``impl`` (matmuls only; both compute all heads).

    A linear layer's forward pass costs ``in * out`` per row; its backward pass as much again
    for the weight gradient and again for the input gradient, which the first layer of a
    network fed by data does not need. Per row:

    * both: actor forward on ``next_obs`` and on ``obs``, actor backward; target twin forward;
      online twin forward on ``(obs, action)`` and its full backward; online twin forward on
      ``(obs, new action)`` for the actor loss;
    * drats: that last backward yields input gradients only (detached critic weights);
    * reference: that last backward also computes the critics' weight gradients (thrown away).
    """
    actor = _layer_macs([OBS_DIM, *HIDDEN, K * 2 * ACT_DIM])
    critic = _layer_macs([OBS_DIM + ACT_DIM, *HIDDEN, K])
    a_fwd, a_first = sum(actor), actor[0]
    c_fwd, c_first = 2 * sum(critic), 2 * critic[0]  # twin
    common = 2 * a_fwd + (2 * a_fwd - a_first) + c_fwd + c_fwd + (2 * c_fwd - c_first) + c_fwd
    pi_backward = {"reference": 2 * c_fwd}.get(impl, c_fwd)
    return BATCH * (common + pi_backward)


def matmul_peak(rounds: int = 5, calls: int = 50) -> float:
    """FLOP/s of the best round of a plain ``[BATCH, 400] @ [400, 400]`` float32 torch.mm."""
    width = HIDDEN[1]
    a, w = torch.randn(BATCH, width), torch.randn(width, width)
    for _ in range(5):
        a @ w
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            a @ w
        best = min(best, (time.perf_counter() - start) / calls)
    return 2.0 * BATCH * width * width / best


# --------------------------------------------------------------------------------- workload


def make_batch(seed: int = 0) -> Batch:
    """An MT10-shaped replay batch: 128 rows per task, task one-hot in the observation."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(K, dtype=np.int64), BATCH // K)

    def observations() -> np.ndarray:
        obs = rng.standard_normal((BATCH, OBS_DIM), dtype=np.float32)
        obs[:, OBS_DIM - K :] = np.eye(K, dtype=np.float32)[ids]
        return obs

    weights = rng.uniform(0.2, 1.0, BATCH).astype(np.float32)
    return Batch(
        obs=observations(),
        actions=rng.uniform(-1.0, 1.0, (BATCH, ACT_DIM)).astype(np.float32),
        rewards=rng.uniform(0.0, 10.0, BATCH).astype(np.float32),
        next_obs=observations(),
        terminated=(rng.random(BATCH) < 0.01).astype(np.float32),
        task_ids=ids,
        indices=np.arange(BATCH, dtype=np.int64),
        weights=weights / weights.max(),
    )


def learners() -> dict[str, Callable[[Batch], object]]:
    """implementation -> its one-update function, on fresh networks."""

    def ours(config: SACConfig) -> Callable[[Batch], object]:
        return TorchSACPolicy(OBS_DIM, ACT_DIM, K, config=config, device="cpu").learn

    return {
        "reference": ReferenceMTSAC(OBS_DIM, ACT_DIM, K, HIDDEN).learn,
        "drats": ours(SACConfig()),
        "drats fast_matmul": ours(SACConfig(fast_matmul=True)),
    }


def _interleaved(
    fns: dict[str, Callable[[Batch], object]], batch: Batch, rounds: int, steps: int
) -> dict[str, list[float]]:
    """Seconds per update of every round; each round times every implementation in turn."""
    for fn in fns.values():
        for _ in range(WARMUP):
            fn(batch)
    out: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(reversed(fns))
        for name in order:
            start = time.perf_counter()
            for _ in range(steps):
                fns[name](batch)
            out[name].append((time.perf_counter() - start) / steps)
    return out


@pytest.fixture(scope="module")
def threads() -> Iterator[int]:
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield THREADS
    torch.set_num_threads(before)


# ------------------------------------------------------------------------------- benchmarks


def test_sac_updates_interleaved(threads: int) -> None:
    """Alternating rounds of both implementations: the numbers the summary reports."""
    result = _interleaved(learners(), make_batch(), ROUNDS, STEPS_PER_ROUND)
    RESULTS.update(result)
    PEAK["flops"] = matmul_peak()
    for name, secs in result.items():
        assert all(math.isfinite(s) and s > 0 for s in secs), name


@pytest.mark.parametrize("impl", ["reference", "drats", "drats fast_matmul"])
def test_sac_update(benchmark: Any, threads: int, impl: str) -> None:
    """pytest-benchmark's own timing of one update (its table; not interleaved)."""
    fn = learners()[impl]
    batch = make_batch()
    benchmark.pedantic(fn, args=(batch,), rounds=6, iterations=2, warmup_rounds=2)


def test_write_summary(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    """Print and write the summary of :func:`test_sac_updates_interleaved` (runs last)."""
    if not RESULTS:
        pytest.skip("the interleaved benchmark did not run")
    lines = summary_lines(RESULTS, PEAK.get("flops"))
    publish(request, capsys, "sac.md", lines)


# ---------------------------------------------------------------------------------- summary


def summary_lines(results: dict[str, list[float]], peak: float | None = None) -> list[str]:
    """A markdown table: updates/s (median and range over rounds), the ratio to reference, the
    matmul work of an update and the share of the matmul peak it runs at; then the float32
    ceiling of the ratio on this machine (when ``peak``, FLOP/s, is given)."""
    ref = results["reference"]
    rows = [
        [
            "implementation",
            "updates/s median",
            "range over rounds",
            "ms/update median",
            "ratio",
            "GFLOP/update",
            "GFLOP/s (share of matmul peak)",
        ]
    ]
    for name, secs in results.items():
        rate = [1.0 / s for s in secs]
        ratios = [r / o for r, o in zip(ref, secs, strict=True)]
        flops = 2.0 * update_macs(name)
        achieved = flops / statistics.median(secs)
        share = f" ({achieved / peak:.0%})" if peak else ""
        rows.append(
            [
                name,
                f"{statistics.median(rate):.2f}",
                f"{min(rate):.2f} - {max(rate):.2f}",
                f"{statistics.median(secs) * 1e3:.1f}",
                f"{statistics.median(ratios):.2f}x ({min(ratios):.2f} - {max(ratios):.2f})",
                f"{flops / 1e9:.2f}",
                f"{achieved / 1e9:.1f}{share}",
            ]
        )
    ceiling = []
    if peak:
        fastest = 2.0 * update_macs("drats") / peak
        ceiling = [
            f"Matmul peak (best plain float32 `[{BATCH}, {HIDDEN[1]}] @ [{HIDDEN[1]}, "
            f"{HIDDEN[1]}]`, same threads): {peak / 1e9:.1f} GFLOP/s. float32 ceiling: an "
            f"update with drats' arithmetic at that peak and no other cost takes "
            f"{fastest * 1e3:.1f} ms, i.e. at most {statistics.median(ref) / fastest:.2f}x "
            "the reference's median on this machine.  ",
        ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    machine = describe()
    return [
        "# drats: multi-task SAC learner speed",
        "",
        f"`pytest benchmarks/bench_sac.py -p no:cacheprovider`: MT10 shapes (obs {OBS_DIM}, "
        f"action {ACT_DIM}, K={K}), hidden {HIDDEN}, batch {BATCH}, CPU, torch threads "
        f"{THREADS}, {ROUNDS} interleaved rounds of {STEPS_PER_ROUND} updates each.",
        "",
        line(rows[0]),
        line(["-" * w for w in widths]),
        *(line(r) for r in rows[1:]),
        "",
        "ratio = reference seconds per update / this one's, per round (median, range).  ",
        f"{machine}; torch {torch.__version__}.  ",
        "drats fast_matmul changes the numerics (bfloat16 matmul inputs); drats and "
        "reference are float32 throughout (its GFLOP/s counts its work as float32 FLOPs).  ",
        *ceiling,
    ]
