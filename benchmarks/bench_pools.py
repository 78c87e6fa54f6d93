"""Meta-World env pools: MT10 env steps per second, and MT50 peak memory.

Run from the repository root with ``pytest benchmarks/bench_pools.py -p no:cacheprovider``.

``test_mt10_step``: one call = one step of all 10 slots (10 env
steps), slot i playing task i, uniform random actions from a fixed-seed Generator; 1,000 calls
per implementation (two 500-step episodes per slot, so episode resets are included in the
mean). Implementations, all measured in the same run:

* ``stock-sync``: ``gymnasium.make_vec("Meta-World/MT10", vector_strategy="sync")`` (stock
  metaworld wrappers, same-step autoreset): the baseline of the ratios.
* ``stock-async``: the same with ``vector_strategy="async"``: 10 worker processes, more busy
  processes than this machine's 2 cores allow, so it runs only when ``DRATS_BENCH_ASYNC=1``.
* ``pool-inprocess``: :class:`drats.adapters.envs.metaworld.MetaWorldEnvPool` in-process,
  ended slots reset with ``reset_slots`` on the same task.
* ``pool-process-2``: the same with ``backend="process", num_workers=2``.

``test_mt50_peak_rss``: peak resident memory of ``MetaWorldEnvPool("mt50", 50)`` summed over
the process and its workers (``VmHWM`` from ``/proc``), measured in a fresh interpreter
(``python benchmarks/bench_pools.py --mt50-memory BACKEND``) after 12 rounds of 5-step
episodes in which every slot switches to a random task (so env instances of many tasks are
built and parked on the free lists).

The benchmarks carry no pytest-benchmark group, so the C++-vs-others table of
``summary_table.py`` (which expects a ``cpp`` row in every group) leaves them out. After the
tables, a summary with steps/s, ratios against ``stock-sync`` and memory is printed and written
to ``.benchmarks/pools.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")
pytest.importorskip("metaworld")

from drats.adapters.envs.metaworld import MetaWorldEnvPool  # noqa: E402

ROUNDS = 1000  # pool steps per implementation
SLOTS = 10
RESULTS: dict[str, dict[str, float]] = {}  # implementation -> numbers for the summary
MEMORY: dict[str, dict[str, float]] = {}


# -------------------------------------------------------------------------- step functions


def _stock(strategy: str) -> tuple[Callable[[], None], Callable[[], None]]:
    env = gym.make_vec("Meta-World/MT10", vector_strategy=strategy, seed=0)
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def step() -> None:
        env.step(rng.uniform(-1, 1, (SLOTS, 4)).astype(np.float32))

    return step, env.close


def _pool(backend: str) -> tuple[Callable[[], None], Callable[[], None]]:
    workers = 2 if backend == "process" else None  # num_workers is a process-backend option
    pool = MetaWorldEnvPool("mt10", SLOTS, seed=0, backend=backend, num_workers=workers)
    tasks = np.arange(SLOTS, dtype=np.int64)
    pool.reset(tasks)
    rng = np.random.default_rng(0)

    def step() -> None:
        out = pool.step(rng.uniform(-1, 1, (SLOTS, 4)).astype(np.float32))
        done = np.flatnonzero(out.terminated | out.truncated)
        if done.size:
            pool.reset_slots(done, tasks[done])

    return step, pool.close


MAKERS: dict[str, Callable[[], tuple[Callable[[], None], Callable[[], None]]]] = {
    "stock-sync": lambda: _stock("sync"),
    "stock-async": lambda: _stock("async"),
    "pool-inprocess": lambda: _pool("inprocess"),
    "pool-process-2": lambda: _pool("process"),
}


@pytest.mark.parametrize("impl", list(MAKERS))
def test_mt10_step(benchmark: Any, impl: str) -> None:
    if impl == "stock-async" and os.environ.get("DRATS_BENCH_ASYNC") != "1":
        pytest.skip("stock-async runs 10 busy worker processes; set DRATS_BENCH_ASYNC=1")
    step, close = MAKERS[impl]()
    try:
        for _ in range(20):  # warm-up: envs built, caches hot
            step()
        benchmark.pedantic(step, rounds=ROUNDS, iterations=1)
    finally:
        close()
    mean = benchmark.stats.stats.mean
    RESULTS[impl] = {"mean_ms": mean * 1e3, "steps_per_s": SLOTS / mean}
    benchmark.extra_info["env_steps_per_s"] = round(SLOTS / mean, 1)


# ---------------------------------------------------------------------------- MT50 memory


def _peak_rss_kib(pids: list[int]) -> int:
    """Sum of ``VmHWM`` (peak resident set, KiB) over ``pids``."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def measure_mt50_memory(backend: str) -> dict[str, float]:
    """Build ``MetaWorldEnvPool("mt50", 50)``, play 12 rounds of 5-step episodes with random
    task switches, and return peak RSS (MiB, summed over processes) and timings."""
    start = time.perf_counter()
    pool = MetaWorldEnvPool("mt50", 50, seed=0, backend=backend, max_episode_steps=5)
    built = time.perf_counter() - start
    rng = np.random.default_rng(0)
    pool.reset(np.arange(50, dtype=np.int64))
    for _ in range(12):
        for _ in range(5):
            out = pool.step(rng.uniform(-1, 1, (50, 4)).astype(np.float32))
        assert out.truncated.all()
        pool.reset(rng.integers(0, 50, 50))
    inner: Any = pool._pool  # the backend, for its pids / env count
    pids = [os.getpid(), *getattr(inner, "worker_pids", [])]
    rss = _peak_rss_kib(pids) / 1024
    envs = getattr(inner, "envs_created", -1)
    pool.close()
    return {
        "peak_rss_mib": round(rss, 1),
        "processes": len(pids),
        "envs_created": envs,
        "build_s": round(built, 1),
        "total_s": round(time.perf_counter() - start, 1),
    }


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_mt50_peak_rss(benchmark: Any, backend: str) -> None:
    def run() -> dict[str, float]:
        cmd = [sys.executable, __file__, "--mt50-memory", backend]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    MEMORY[backend] = result
    benchmark.extra_info.update(result)


# -------------------------------------------------------------------------------- summary


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Any:
    yield
    lines = ["| implementation | ms per pool step (mean) | env steps/s | vs stock-sync |"]
    lines.append("|---|---|---|---|")
    base = RESULTS.get("stock-sync", {}).get("steps_per_s")
    for impl, row in RESULTS.items():
        ratio = f"{row['steps_per_s'] / base:.2f}x" if base else "-"
        lines.append(f"| {impl} | {row['mean_ms']:.2f} | {row['steps_per_s']:,.0f} | {ratio} |")
    if MEMORY:
        lines += ["", "| MT50, 50 slots | peak RSS (sum) | processes | envs built | build s |"]
        lines.append("|---|---|---|---|---|")
        for backend, m in MEMORY.items():
            envs = "-" if m["envs_created"] < 0 else str(int(m["envs_created"]))
            lines.append(
                f"| {backend} | {m['peak_rss_mib']:,.0f} MiB | {int(m['processes'])} | "
                f"{envs} | {m['build_s']} |"
            )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and (RESULTS or MEMORY):
        reporter.write_sep("=", "drats: Meta-World env pools (same run)")
        for line in lines:
            reporter.write_line(line)
    if RESULTS or MEMORY:
        out = Path(request.config.rootpath) / ".benchmarks"
        out.mkdir(exist_ok=True)
        (out / "pools.md").write_text("# Meta-World env pools\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--mt50-memory":
        print(json.dumps(measure_mt50_memory(sys.argv[2])))
    else:
        sys.exit("usage: python benchmarks/bench_pools.py --mt50-memory inprocess|process")
