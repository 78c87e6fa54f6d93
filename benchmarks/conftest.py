"""Shared workload of the microbenchmarks, and the summary table printed after them.

Run from the repository root with ``pytest benchmarks -p no:cacheprovider``.

Workload (the foundation issue's): 1,000,000 transitions in all, obs float32[39], action
float32[4], held as 10 tasks x 100,000 and as 50 tasks x 20,000. Each buffer is built and
filled once per session (bulk adds of 100,000 rows from a fixed-seed numpy Generator, then
|td|-like priorities on every transition), so the priority trees are full and non-uniform.

Implementations, all measured in the same run: ``cpp`` (drats' C++ core), ``numpy`` (drats'
numpy reference) and, when importable and working, ``cpprb`` and ``torchrl``. Neither of the
last two knows about tasks, so each gets one prioritized buffer per task behind the drats call
signature (see :class:`PerTaskAdapter`); the per-task routing is part of what they are timed on,
just as it is for drats. The sample groups also time ``row-gather`` (bench_replay.py), a bare
gather of packed rows: the memory floor the sample targets are restated against.

After pytest-benchmark's own tables, :func:`pytest_terminal_summary` prints one table: the
median time per call of every implementation, the C++ path's speed-up over each of them and
the issue's targets for the C++ path (met or not). The same table is written as markdown to
``.benchmarks/summary.md``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import drats

OBS_DIM, ACT_DIM = 39, 4
TOTAL = 1_000_000  # transitions held by every replay, whatever its task count
CHUNK = 100_000  # rows per bulk add / priority update while filling
ALPHA, BETA = 0.6, 0.4
SEED = 0

#: Implementations in the order the summary shows them.
IMPL_ORDER = ("cpp", "numpy", "cpprb", "torchrl", "numpy-choice", "row-gather")

#: Optional implementations that were skipped this session, with the reason.
UNAVAILABLE: dict[str, str] = {}


# ----------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """The issue's target for the C++ path in one benchmark group."""

    text: str
    max_us: float  # median time per call, microseconds
    min_speedup_vs_numpy: float | None = None
    #: The time target restated against the same run's bare row gather ("row-gather"): at
    #: most this many times its median. Machines differ far more in memory latency than the
    #: absolute targets allow for; this ratio is what carries from one machine to another.
    max_ratio_vs_gather: float | None = None

    def check(self, medians: dict[str, float]) -> str:
        cpp = medians.get("cpp")
        if cpp is None:
            return "n/a"
        verdicts = ["time: " + ("yes" if cpp <= self.max_us else "no")]
        if self.max_ratio_vs_gather is not None:
            gather = medians.get("row-gather")
            if gather is None:
                verdicts.append("vs row-gather: not measured")
            else:
                ok = cpp <= self.max_ratio_vs_gather * gather
                verdicts.append(f"vs row-gather: {'yes' if ok else 'no'} ({cpp / gather:.2f}x)")
        if self.min_speedup_vs_numpy is not None:
            numpy_us = medians.get("numpy")
            if numpy_us is None:
                verdicts.append("vs numpy: not measured")
            else:
                verdicts.append(
                    "vs numpy: " + ("yes" if numpy_us >= self.min_speedup_vs_numpy * cpp else "no")
                )
        return "; ".join(verdicts)


#: group name -> target; also the order of the summary's rows.
TARGETS: dict[str, Target] = {
    # The foundation issue puts a bare gather of 1,280 packed rows at about 27 us on its
    # machine, so its 60 us target is 60 / 27 = 2.2x that floor.
    "sample 10x128": Target("<= 60 us (<= 2.2x row-gather), >= 4x numpy", 60.0, 4.0, 60 / 27),
    "sample 50x26": Target("<= 60 us (<= 2.2x row-gather), >= 4x numpy", 60.0, 4.0, 60 / 27),
    "update_priorities 1280": Target("<= 10 us", 10.0),
    "add 10 (one vector-env step)": Target("<= 5 us", 5.0),
    "task draws 1M (50 tasks)": Target("<= 10 ns per draw", 10_000.0),
}


# ------------------------------------------------------------------ third-party replay adapters


def _by_task(task_ids: np.ndarray, num_tasks: int) -> Iterator[tuple[int, np.ndarray]]:
    """(task, row positions) for every task present in ``task_ids``, in task order."""
    order = np.argsort(task_ids, kind="stable")
    bounds = np.searchsorted(task_ids[order], np.arange(num_tasks + 1))
    for t in range(num_tasks):
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo:
            yield t, order[lo:hi]


class PerTaskAdapter:
    """One third-party prioritized buffer per task behind drats' ``add`` / ``sample`` /
    ``update_priorities`` signatures. Replay indices are ``task * capacity + slot`` as in
    drats; ``sample`` returns one concatenated :class:`drats.Batch` (weights as the library
    gives them, i.e. normalised within each task's draw)."""

    def __init__(self, num_tasks: int, capacity: int) -> None:
        self.num_tasks = num_tasks
        self.capacity = capacity

    def add(
        self,
        task_ids: np.ndarray,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
    ) -> None:
        for t, rows in _by_task(np.asarray(task_ids, np.int64), self.num_tasks):
            self._add(t, obs[rows], actions[rows], rewards[rows], next_obs[rows], terminated[rows])

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        tasks, slots = np.divmod(np.asarray(indices, np.int64), self.capacity)
        priorities = np.asarray(priorities, np.float64)
        for t, rows in _by_task(tasks, self.num_tasks):
            self._update(t, slots[rows], priorities[rows])

    def sample(self, counts: np.ndarray, *, beta: float = BETA) -> drats.Batch:
        parts = [(t, self._sample(t, int(n), beta)) for t, n in enumerate(counts) if n > 0]

        def cat(i: int) -> np.ndarray:
            return np.concatenate([p[i] for _, p in parts])

        sizes = [len(p[5]) for _, p in parts]
        tasks = np.repeat(np.array([t for t, _ in parts], np.int64), sizes)
        return drats.Batch(
            obs=cat(0),
            actions=cat(1),
            rewards=cat(2).reshape(-1),
            next_obs=cat(3),
            terminated=cat(4).reshape(-1),
            task_ids=tasks,
            indices=tasks * self.capacity + cat(5).astype(np.int64),
            weights=cat(6).reshape(-1),
        )

    # one task's buffer: fields come back as (obs, act, rew, next_obs, done, slots, weights)
    def _add(self, t: int, *fields: np.ndarray) -> None:
        raise NotImplementedError

    def _update(self, t: int, slots: np.ndarray, priorities: np.ndarray) -> None:
        raise NotImplementedError

    def _sample(self, t: int, n: int, beta: float) -> tuple[np.ndarray, ...]:
        raise NotImplementedError


class CpprbPerTask(PerTaskAdapter):
    """cpprb ``PrioritizedReplayBuffer`` per task (its sum tree and storage are C++)."""

    def __init__(self, num_tasks: int, capacity: int) -> None:
        import cpprb

        super().__init__(num_tasks, capacity)
        env = {
            "obs": {"shape": OBS_DIM},
            "act": {"shape": ACT_DIM},
            "rew": {},
            "next_obs": {"shape": OBS_DIM},
            "done": {},
        }
        self.buffers = [
            cpprb.PrioritizedReplayBuffer(capacity, env, alpha=ALPHA) for _ in range(num_tasks)
        ]

    def _add(self, t: int, *fields: np.ndarray) -> None:
        obs, act, rew, next_obs, done = fields
        self.buffers[t].add(obs=obs, act=act, rew=rew, next_obs=next_obs, done=done)

    def _update(self, t: int, slots: np.ndarray, priorities: np.ndarray) -> None:
        self.buffers[t].update_priorities(slots, priorities)

    def _sample(self, t: int, n: int, beta: float) -> tuple[np.ndarray, ...]:
        s = self.buffers[t].sample(n, beta=beta)
        keys = ("obs", "act", "rew", "next_obs", "done", "indexes", "weights")
        return tuple(s[k] for k in keys)


class TorchrlPerTask(PerTaskAdapter):
    """torchrl ``PrioritizedReplayBuffer`` over a ``LazyTensorStorage`` per task (CPU)."""

    def __init__(self, num_tasks: int, capacity: int) -> None:
        import torch
        from tensordict import TensorDict
        from torchrl.data import LazyTensorStorage, PrioritizedReplayBuffer

        super().__init__(num_tasks, capacity)
        self._torch, self._td = torch, TensorDict
        self.buffers = [
            PrioritizedReplayBuffer(alpha=ALPHA, beta=BETA, storage=LazyTensorStorage(capacity))
            for _ in range(num_tasks)
        ]

    def _add(self, t: int, *fields: np.ndarray) -> None:
        keys = ("obs", "act", "rew", "next_obs", "done")
        data = {
            k: self._torch.from_numpy(np.ascontiguousarray(v))
            for k, v in zip(keys, fields, strict=True)
        }
        self.buffers[t].extend(self._td(data, batch_size=[len(fields[0])]))

    def _update(self, t: int, slots: np.ndarray, priorities: np.ndarray) -> None:
        torch = self._torch
        self.buffers[t].update_priority(torch.from_numpy(slots), torch.from_numpy(priorities))

    def _sample(self, t: int, n: int, beta: float) -> tuple[np.ndarray, ...]:
        data, info = self.buffers[t].sample(n, return_info=True)  # beta fixed at construction
        keys = ("obs", "act", "rew", "next_obs", "done")
        index = self._torch.as_tensor(info["index"]).numpy()
        weights = self._torch.as_tensor(info["_weight"]).numpy()
        return (*(data[k].numpy() for k in keys), index, weights)


# ---------------------------------------------------------------------------------- fixtures


def _new_replay(impl: str, num_tasks: int, capacity: int) -> Any:
    if impl == "cpp":
        return drats.CppPerTaskReplay(num_tasks, capacity, OBS_DIM, ACT_DIM, alpha=ALPHA, seed=0)
    if impl == "numpy":
        return drats.NumpyPerTaskReplay(num_tasks, capacity, OBS_DIM, ACT_DIM, alpha=ALPHA, seed=0)
    if impl == "cpprb":
        return CpprbPerTask(num_tasks, capacity)
    if impl == "torchrl":
        return TorchrlPerTask(num_tasks, capacity)
    raise ValueError(f"unknown implementation {impl!r}")


def _fill(buf: Any, num_tasks: int) -> None:
    """TOTAL transitions spread evenly over the tasks, then random priorities on all of them.

    Rows go to tasks in order, so row r lands in slot r % capacity of task r // capacity,
    whose replay index is r itself.
    """
    capacity = TOTAL // num_tasks
    rng = np.random.default_rng(SEED)
    for start in range(0, TOTAL, CHUNK):
        rows = np.arange(start, start + CHUNK, dtype=np.int64)
        buf.add(
            rows // capacity,
            rng.standard_normal((CHUNK, OBS_DIM), dtype=np.float32),
            rng.uniform(-1.0, 1.0, (CHUNK, ACT_DIM)).astype(np.float32),
            rng.standard_normal(CHUNK, dtype=np.float32),
            rng.standard_normal((CHUNK, OBS_DIM), dtype=np.float32),
            (rng.random(CHUNK) < 0.002).astype(np.float32),
        )
    for start in range(0, TOTAL, CHUNK):
        rows = np.arange(start, start + CHUNK, dtype=np.int64)
        buf.update_priorities(rows, np.abs(rng.standard_normal(CHUNK)) + 1e-6)


def _unavailable(impl: str, err: BaseException) -> None:
    reason = f"{impl} unavailable: {type(err).__name__}: {err}".splitlines()[0][:200]
    UNAVAILABLE[impl] = reason
    pytest.skip(reason)


@pytest.fixture(scope="session")
def replay_factory() -> Callable[[str, int], Any]:
    """``get(impl, num_tasks)``: that replay, filled with TOTAL transitions; built once per
    session. Skips when an optional implementation cannot be imported or does not work."""
    cache: dict[tuple[str, int], Any] = {}

    def get(impl: str, num_tasks: int) -> Any:
        if impl in UNAVAILABLE:
            pytest.skip(UNAVAILABLE[impl])
        key = (impl, num_tasks)
        if key not in cache:
            if impl in ("cpp", "numpy"):
                buf = _new_replay(impl, num_tasks, TOTAL // num_tasks)
                _fill(buf, num_tasks)
            else:  # third party: missing or broken means skipped, not failed
                try:
                    buf = _new_replay(impl, num_tasks, TOTAL // num_tasks)
                    _fill(buf, num_tasks)
                    buf.sample(np.ones(num_tasks, dtype=np.int64), beta=BETA)  # smoke test
                except Exception as err:
                    _unavailable(impl, err)
            cache[key] = buf
        return cache[key]

    return get


@pytest.fixture(scope="session")
def packed_rows() -> np.ndarray:
    """TOTAL packed transitions (obs, action, reward, next_obs, terminated: 84 float32, 336
    bytes a row) for the ``row-gather`` floor of the sample groups."""
    rng = np.random.default_rng(SEED + 2)
    return rng.standard_normal((TOTAL, 2 * OBS_DIM + ACT_DIM + 2), dtype=np.float32)


@pytest.fixture(scope="session")
def vector_step() -> tuple[np.ndarray, ...]:
    """One vector-env step for ``add``: 10 transitions from 10 different tasks (of 10)."""
    rng = np.random.default_rng(SEED + 1)
    return (
        rng.permutation(10).astype(np.int64),
        rng.standard_normal((10, OBS_DIM), dtype=np.float32),
        rng.uniform(-1.0, 1.0, (10, ACT_DIM)).astype(np.float32),
        rng.standard_normal(10, dtype=np.float32),
        rng.standard_normal((10, OBS_DIM), dtype=np.float32),
        np.zeros(10, np.float32),
    )


# ------------------------------------------------------------------------------ summary table


def _fmt_us(us: float) -> str:
    return f"{us:,.1f} us" if us < 1000 else f"{us:,.0f} us"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _collect(session: Any) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """group -> {implementation: median us}, and group -> draws per call (if any)."""
    medians: dict[str, dict[str, float]] = {}
    draws: dict[str, int] = {}
    for bench in session.benchmarks:
        if not bench.group or not bench or bench.has_error:
            continue
        impl = str((bench.params or {}).get("impl", bench.name))
        medians.setdefault(bench.group, {})[impl] = bench.stats.median * 1e6
        if "draws" in bench.extra_info:
            draws[bench.group] = int(bench.extra_info["draws"])
    return medians, draws


def _table(medians: dict[str, dict[str, float]], draws: dict[str, int]) -> list[str]:
    present = {impl for row in medians.values() for impl in row}
    impls = [i for i in IMPL_ORDER if i in present] + sorted(present - set(IMPL_ORDER))
    groups = [g for g in TARGETS if g in medians] + sorted(set(medians) - set(TARGETS))
    header = ["operation", *impls, "cpp speed-up", "target (cpp)", "met"]
    rows = []
    for group in groups:
        row = medians[group]
        cells = [group]
        for impl in impls:
            us = row.get(impl)
            if us is None:
                cells.append("-")
            elif group in draws:
                cells.append(f"{_fmt_us(us)} ({us * 1e3 / draws[group]:.2f} ns/draw)")
            else:
                cells.append(_fmt_us(us))
        cpp = row.get("cpp")
        ratios = []
        if cpp is not None:
            # the floor is no competitor: its ratio (inverted, cpp / floor) is in "met"
            others = [i for i in impls if i not in ("cpp", "row-gather") and i in row]
            ratios = [f"vs {i}: {row[i] / cpp:.1f}x" for i in others]
        cells.append(", ".join(ratios) if ratios else "-")
        target = TARGETS.get(group)
        cells += [target.text, target.check(row)] if target else ["-", "-"]
        rows.append(cells)
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    medians, draws = _collect(session)
    if not medians:
        return
    table = _table(medians, draws)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {_cpu_model()}"
    notes = [
        "Median time per call; speed-up = other implementation's median / cpp's median,",
        f"all from this run. {machine}; numpy {np.__version__}.",
        *(f"Skipped: {reason}" for reason in UNAVAILABLE.values()),
    ]
    terminalreporter.write_sep("=", "drats: C++ path vs other implementations (same run)")
    for text in [*table, "", *notes]:
        terminalreporter.write_line(text)
    out = Path(config.rootpath) / ".benchmarks"
    out.mkdir(exist_ok=True)
    md = [
        "# drats microbenchmarks",
        "",
        "`pytest benchmarks -p no:cacheprovider`: 1,000,000 transitions per replay "
        "(obs float32[39], action float32[4]), random priorities.",
        "",
        *table,
        "",
        *(f"{n}  " for n in notes),
    ]
    (out / "summary.md").write_text("\n".join(md) + "\n")
