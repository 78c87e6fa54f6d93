"""What a run writes besides checkpoints: ``metrics.jsonl`` (one row per iteration), optional
TensorBoard events, and the live progress line."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from drats.application.checkpoint import atomic_write_bytes
from drats.domain.errors import InvalidInputError
from drats.domain.ports import MetricsSink

METRICS = "metrics.jsonl"


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN and inf become None, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Row fields that measure time, which differ between two runs of the same seed.
TIMING_FIELDS = ("wall_time", "steps_per_sec")
TIMING_PREFIX = "seconds/"


def without_timings(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows without their timing fields: what must match between a resumed run and an
    uninterrupted one."""
    return [
        {k: v for k, v in r.items() if k not in TIMING_FIELDS and not k.startswith(TIMING_PREFIX)}
        for r in rows
    ]


def read_rows(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The complete rows of a run's ``metrics.jsonl`` (a torn last line is skipped)."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInputError(
            f"{path} is not UTF-8 text (a corrupt metrics file): {err}"
        ) from None
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


class MetricsLog:
    """Appends one JSON row per iteration to ``run_dir/metrics.jsonl`` (flushed per row).

    ``truncate(iteration)`` keeps only the rows up to a checkpoint's iteration: after a crash
    the rows written past the last checkpoint are dropped and written again by the resumed
    run, so the file never holds an iteration twice.
    """

    def __init__(self, run_dir: str | os.PathLike[str], sinks: Iterable[MetricsSink] = ()) -> None:
        self.path = Path(run_dir) / METRICS
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sinks = list(sinks)
        self._handle: TextIO | None = None

    def truncate(self, iteration: int) -> None:
        kept = [r for r in read_rows(self.path.parent) if int(r.get("iteration", 0)) <= iteration]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        atomic_write_bytes(self.path, text.encode())

    def write(self, row: Mapping[str, Any]) -> None:
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(_clean(dict(row))) + "\n")
        self._handle.flush()
        scalars: dict[str, float] = {}
        for key, value in row.items():
            values = value if isinstance(value, list) else [value]
            for i, v in enumerate(values):
                if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                    scalars[f"{key}/{i}" if isinstance(value, list) else key] = float(v)
        for sink in self._sinks:
            sink.write(int(row.get("env_steps", 0)), scalars)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        for sink in self._sinks:
            sink.close()


class Progress:
    """A one-line progress bar on a terminal; a plain line every ``interval`` s otherwise.

    Args:
        total: the step count at 100%.
        start: the step count the run starts from (a resumed run starts part-way).
        stream: where to write (stderr by default).
        interval: seconds between lines when the stream is not a terminal.
        clock: time source (tests pass a fake one).
    """

    def __init__(
        self,
        total: int,
        *,
        start: int = 0,
        stream: TextIO | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.stream = max(1, total), stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval, self.clock = interval, clock
        self._t0 = self._last = clock()
        self._start = start

    def update(self, steps: int, text: str, *, force: bool = False) -> None:
        now = self.clock()
        if not (self.tty or force or now - self._last >= self.interval):
            return
        self._last = now
        elapsed = max(now - self._t0, 1e-9)
        rate = (steps - self._start) / elapsed
        left = max(0, self.total - steps) / rate if rate > 0 else math.inf
        frac = min(1.0, steps / self.total)
        bar = "#" * int(24 * frac) + "." * (24 - int(24 * frac))
        eta = "?" if not math.isfinite(left) else time.strftime("%H:%M:%S", time.gmtime(left))
        line = f"[{bar}] {100 * frac:5.1f}% {steps:,}/{self.total:,} steps {rate:,.0f}/s"
        line += f" eta {eta} {text}"
        if self.tty:
            width = os.get_terminal_size(self.stream.fileno()).columns
            self.stream.write("\r" + line[: width - 1].ljust(width - 1))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
