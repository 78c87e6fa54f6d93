"""Shared workload for the microbenchmarks and the closing summary table.

Workload (the foundation issue's): 1,000,000 transitions in all, obs float32[39], action
float32[4], as 10 tasks x 100,000 and as 50 tasks x 20,000, with random priorities. Every
implementation is measured in the same run; the summary prints the C++ path's median time
next to its target and its speed-up over each other implementation.
"""

from __future__ import annotations

import os
import platform
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

OBS, ACT = 39, 4
TOTAL = 1_000_000

# group -> (target for the C++ path in microseconds, or None; what the target says)
TARGETS: dict[str, tuple[float | None, str]] = {
    "sample 10x128": (60.0, "<= 60 us and >= 4x numpy"),
    "sample 50x26": (60.0, "<= 60 us and >= 4x numpy"),
    "update_priorities 1280": (10.0, "<= 10 us"),
    "add 10 (one vector step)": (5.0, "<= 5 us"),
    "task draws 1M (50 tasks)": (10_000.0, "<= 10 ns per draw"),
}


def make_replay(impl: str, num_tasks: int) -> Any:
    """A replay of ``impl`` holding TOTAL transitions spread evenly over ``num_tasks``."""
    import drats

    per_task = TOTAL // num_tasks
    rng = np.random.default_rng(0)
    if impl == "cpprb":
        return CpprbPerTask(num_tasks, per_task, rng)
    cls = {"cpp": drats.CppPerTaskReplay, "numpy": drats.NumpyPerTaskReplay}[impl]
    buf = cls(num_tasks, per_task, OBS, ACT, alpha=0.6, seed=0)
    chunk = 100_000
    for start in range(0, TOTAL, chunk):
        ids = (np.arange(start, start + chunk) // per_task).astype(np.int64)
        obs = rng.standard_normal((chunk, OBS), dtype=np.float32)
        buf.add(
            ids,
            obs,
            rng.uniform(-1, 1, (chunk, ACT)).astype(np.float32),
            rng.standard_normal(chunk, dtype=np.float32),
            obs,
            np.zeros(chunk, np.float32),
        )
    for start in range(0, TOTAL, chunk):  # realistic trees: random priorities everywhere
        buf.update_priorities(np.arange(start, start + chunk), rng.uniform(0.01, 10.0, chunk))
    return buf


class CpprbPerTask:
    """cpprb has no notion of tasks: one PrioritizedReplayBuffer per task, same work."""

    def __init__(self, num_tasks: int, per_task: int, rng: np.random.Generator) -> None:
        import cpprb

        env = {
            "obs": {"shape": OBS},
            "act": {"shape": ACT},
            "rew": {},
            "next_obs": {"shape": OBS},
            "done": {},
        }
        self.buffers = [
            cpprb.PrioritizedReplayBuffer(per_task, env, alpha=0.6) for _ in range(num_tasks)
        ]
        for buf in self.buffers:
            obs = rng.standard_normal((per_task, OBS), dtype=np.float32)
            buf.add(
                obs=obs,
                act=rng.uniform(-1, 1, (per_task, ACT)).astype(np.float32),
                rew=rng.standard_normal(per_task, dtype=np.float32),
                next_obs=obs,
                done=np.zeros(per_task, np.float32),
            )
            buf.update_priorities(np.arange(per_task), rng.uniform(0.01, 10.0, per_task))

    def sample(self, counts: np.ndarray, beta: float = 0.4) -> list[dict[str, np.ndarray]]:
        return [b.sample(int(n), beta=beta) for b, n in zip(self.buffers, counts, strict=True)]

    def update_priorities(self, per_task: list[tuple[np.ndarray, np.ndarray]]) -> None:
        for buf, (idx, pri) in zip(self.buffers, per_task, strict=True):
            buf.update_priorities(idx, pri)

    def add_step(self, obs: np.ndarray, act: np.ndarray, rew: np.ndarray) -> None:
        for t, buf in enumerate(self.buffers[: len(obs)]):
            buf.add(obs=obs[t], act=act[t], rew=rew[t], next_obs=obs[t], done=0.0)


_CACHE: dict[tuple[str, int], Any] = {}


@pytest.fixture(scope="session")
def replay_factory():  # type: ignore[no-untyped-def]
    """Builds each (implementation, task count) replay once per session."""

    def get(impl: str, num_tasks: int) -> Any:
        if impl == "cpprb":
            pytest.importorskip("cpprb")
        key = (impl, num_tasks)
        if key not in _CACHE:
            _CACHE[key] = make_replay(impl, num_tasks)
        return _CACHE[key]

    return get


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    medians: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in session.benchmarks:
        if bench.group and bench.stats:
            impl = str((bench.params or {}).get("impl", bench.name))
            medians[bench.group][impl] = bench.stats.median * 1e6  # microseconds
    lines = [
        "| operation | C++ median | target (C++) | met "
        "| other implementations (median, C++ speed-up) |",
        "|---|---|---|---|---|",
    ]
    for group, (target, words) in TARGETS.items():
        row = medians.get(group)
        if not row or "cpp" not in row:
            continue
        cpp = row["cpp"]
        shown = (
            f"{cpp / 1000:.2f} ms ({cpp * 1000 / 1e6:.2f} ns/draw)"
            if group.startswith("task")
            else f"{cpp:.1f} us"
        )
        met = target is not None and cpp <= target
        if group.startswith("sample"):
            met = met and row.get("numpy", 0.0) >= 4 * cpp
        others = ", ".join(
            f"{impl} {t:.1f} us ({t / cpp:.1f}x)"
            if t < 10_000
            else f"{impl} {t / 1000:.2f} ms ({t / cpp:.1f}x)"
            for impl, t in sorted(row.items())
            if impl != "cpp"
        )
        lines.append(f"| {group} | {shown} | {words} | {'yes' if met else 'no'} | {others} |")
    terminalreporter.write_sep("=", "drats: C++ path vs reference implementations (same run)")
    for line in lines:
        terminalreporter.write_line(line)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {_cpu_model()}"
    note = f"(medians of this run; {machine}; numpy {np.__version__})"
    terminalreporter.write_line(note)
    lines += ["", note]
    out = Path(".benchmarks")
    out.mkdir(exist_ok=True)
    (out / "summary.md").write_text("\n".join(lines) + "\n")
