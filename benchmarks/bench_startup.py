"""Start-up: from the ``drats train`` command to its first env step, against importing torch.

For every suite's default run, a fresh ``drats train`` process is timed until it prints the
``drats: training ...`` line, which it prints once every component is built, right before the
first reset and step; a fresh ``python -c "import torch"`` is timed in the same rounds. The
summary gives the median of each and the difference (what drats adds to torch's own import).
Meta-World suites are timed where ``metaworld`` is installed: each round as above (the default
seed's goal variants ship with drats), and once more, reported on its own row, with ``--seed 7``
and an empty cache (``DRATS_CACHE_DIR`` a fresh directory): metaworld builds that seed's goal
variants, twice (training and evaluation pools), as a machine's first run of a seed does.

Run ``pytest benchmarks/bench_startup.py -p no:cacheprovider``; the summary is printed at the end
and written to ``.benchmarks/startup.md``. ``DRATS_BENCH_ROUNDS`` (default 5) and
``DRATS_BENCH_SUITES`` (semicolon-separated, default every suite below; MT50 alone takes minutes a
round) narrow it.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from machine_info import describe
from summary_table import publish

ROUNDS = int(os.environ.get("DRATS_BENCH_ROUNDS", "5"))
ALL_SUITES = ["gridworld4", "pointmass", "gym:Pendulum-v1,MountainCarContinuous-v0", "mt10", "mt50"]
_CHOSEN = os.environ.get("DRATS_BENCH_SUITES")
SUITES = _CHOSEN.split(";") if _CHOSEN else ALL_SUITES

#: the label of a Meta-World run that starts with an empty goal cache
COLD = "--seed 7|, empty goal cache (one run)"

#: what was timed -> seconds of every round (filled by the test below).
RESULTS: dict[str, list[float]] = {}


def time_import_torch() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def time_to_first_step(
    suite: str, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()
) -> float:
    """Seconds from starting ``drats train`` (with ``env`` added to the environment and
    ``extra`` arguments) to its ``drats: training`` line (then it stops)."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "drats.cli", "train", "--suite", suite, "--no-progress"]
        argv += ["--threads", "1", "--out", str(Path(tmp) / "run"), *extra]
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                if line.startswith("drats: training"):
                    return time.perf_counter() - start
                if line.startswith("drats: error"):
                    raise AssertionError(line)
            raise AssertionError(f"drats train {suite} ended before training")
        finally:
            proc.kill()
            proc.wait()
            proc.stderr.close()


def available(suite: str) -> bool:
    return not suite.startswith("mt") or importlib.util.find_spec("metaworld") is not None


def test_startup() -> None:
    suites = [s for s in SUITES if available(s)]
    time_import_torch()
    for suite in suites:  # warm the file cache, compile bytecode, build caches
        time_to_first_step(suite)
    for _ in range(ROUNDS):
        RESULTS.setdefault("import torch", []).append(time_import_torch())
        for suite in suites:
            RESULTS.setdefault(suite, []).append(time_to_first_step(suite))
    for suite in (s for s in suites if s.startswith("mt")):
        with tempfile.TemporaryDirectory() as empty:
            cold = time_to_first_step(suite, {"DRATS_CACHE_DIR": empty}, ("--seed", "7"))
        RESULTS[f"{suite} {COLD}"] = [cold]
    assert RESULTS


def test_write_summary(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    if not RESULTS:
        pytest.skip("the start-up benchmark did not run")
    torch_s = statistics.median(RESULTS["import torch"])
    lines = [
        "| command | seconds (median) | range | beyond `import torch` |",
        "|---|---|---|---|",
    ]
    for name, values in RESULTS.items():
        median = statistics.median(values)
        command, _, note = name.partition("|")
        label = (
            "`python -c 'import torch'`"
            if name == "import torch"
            else f"`drats train --suite {command}`{note}"
        )
        extra = "-" if name == "import torch" else f"{median - torch_s:+.2f} s"
        lines.append(f"| {label} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {extra} |")
    lines += ["", f"{describe()}; {ROUNDS} interleaved rounds; until the first env step."]
    publish(request, capsys, "startup.md", lines)
