"""The summary table printed after the replay and sampler benchmarks (conftest.py's
``pytest_terminal_summary`` hook calls :func:`report`).

One row per benchmark group: the median time per call of every implementation measured in the
run, the C++ path's speed-up over each of the others, its target and whether it was met. The
same table is written as markdown to ``.benchmarks/summary.md``.

Two kinds of target:

* the sample groups are judged against ``row-gather``, the memory floor measured in the same
  run (a bare ``numpy.take`` of as many packed rows, see ``bench_replay.py``): the C++ sample
  must cost at most :data:`SAMPLE_VS_FLOOR` times the floor, and be at least 4x faster than
  the numpy twin. Machines differ far more in memory latency than in anything else; a ratio to
  a floor measured on the same machine in the same run carries from one machine to another,
  microseconds do not;
* the other groups have no floor to compare with, so their budgets are per-call times (the
  priority update, the add of one vector-env step, the cost of one task draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from machine_info import describe

#: Implementations in the order the summary shows them.
IMPL_ORDER = ("cpp", "numpy", "cpprb", "torchrl", "numpy-choice", "row-gather")

#: Optional implementations skipped in this run, with the reason (filled by the
#: fixtures, printed under the table).
UNAVAILABLE: dict[str, str] = {}

#: The most a C++ sample may cost, as a multiple of the same run's row-gather floor.
SAMPLE_VS_FLOOR = 2.2


@dataclass(frozen=True)
class Target:
    """The target of the C++ path in one benchmark group.

    Attributes:
        text: the target as the table shows it.
        max_us: a per-call budget in microseconds (None: judged against the floor only).
        min_speedup_vs_numpy: the numpy twin must take at least this many times longer.
        max_ratio_vs_gather: at most this many times the median of the same run's row-gather.
    """

    text: str
    max_us: float | None = None
    min_speedup_vs_numpy: float | None = None
    max_ratio_vs_gather: float | None = None

    def check(self, medians: dict[str, float]) -> str:
        """``met`` column: one verdict per part of the target, from this run's medians."""
        cpp = medians.get("cpp")
        if cpp is None:
            return "n/a"
        verdicts = []
        if self.max_ratio_vs_gather is not None:
            gather = medians.get("row-gather")
            if gather is None:
                verdicts.append("vs row-gather: not measured")
            else:
                ok = cpp <= self.max_ratio_vs_gather * gather
                verdicts.append(f"vs row-gather: {'yes' if ok else 'no'} ({cpp / gather:.2f}x)")
        if self.max_us is not None:
            verdicts.append("time: " + ("yes" if cpp <= self.max_us else "no"))
        if self.min_speedup_vs_numpy is not None:
            numpy_us = medians.get("numpy")
            if numpy_us is None:
                verdicts.append("vs numpy: not measured")
            else:
                ok = numpy_us >= self.min_speedup_vs_numpy * cpp
                verdicts.append(f"vs numpy: {'yes' if ok else 'no'}")
        return "; ".join(verdicts)


_SAMPLE = Target(
    f"<= {SAMPLE_VS_FLOOR}x row-gather, >= 4x numpy",
    min_speedup_vs_numpy=4.0,
    max_ratio_vs_gather=SAMPLE_VS_FLOOR,
)

#: group name -> target; also the order of the summary's rows.
TARGETS: dict[str, Target] = {
    "sample 10x128": _SAMPLE,
    "sample 50x26": _SAMPLE,
    "update_priorities 1280": Target("<= 10 us", 10.0),
    "add 10 (one vector-env step)": Target("<= 5 us", 5.0),
    "task draws 1M (50 tasks)": Target("<= 10 ns per draw", 10_000.0),
}


def _fmt_us(us: float) -> str:
    return f"{us:,.1f} us" if us < 1000 else f"{us:,.0f} us"


def collect(session: Any) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """group -> {implementation: median us}, and group -> draws per call (if any), from a
    pytest-benchmark session."""
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


def table(medians: dict[str, dict[str, float]], draws: dict[str, int]) -> list[str]:
    """The summary as markdown table lines."""
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


def report(terminalreporter: Any, config: Any) -> None:
    """Print the table after pytest-benchmark's own and write ``.benchmarks/summary.md``;
    nothing when no benchmark with a group ran."""
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    medians, draws = collect(session)
    if not medians:
        return
    lines = table(medians, draws)
    notes = [
        "Median time per call; speed-up = other implementation's median / cpp's median,",
        f"all from this run. {describe()}; numpy {np.__version__}.",
        *(f"Skipped: {reason}" for reason in UNAVAILABLE.values()),
    ]
    terminalreporter.write_sep("=", "drats: C++ path vs other implementations (same run)")
    for text in [*lines, "", *notes]:
        terminalreporter.write_line(text)
    out = Path(config.rootpath) / ".benchmarks"
    out.mkdir(exist_ok=True)
    md = [
        "# drats microbenchmarks",
        "",
        "`pytest benchmarks/bench_replay.py benchmarks/bench_sampler.py -p no:cacheprovider`: "
        "1,000,000 transitions per replay (obs float32[39], action float32[4]), random "
        "priorities.",
        "",
        *lines,
        "",
        *(f"{n}  " for n in notes),
    ]
    (out / "summary.md").write_text("\n".join(md) + "\n")


def publish(request: Any, capsys: Any, filename: str, lines: list[str]) -> None:
    """Print a benchmark's summary ``lines`` past pytest's capture and write them to
    ``.benchmarks/<filename>`` under the repository root."""
    out = Path(request.config.rootpath) / ".benchmarks"
    out.mkdir(exist_ok=True)
    (out / filename).write_text("\n".join(lines) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
