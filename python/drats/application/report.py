"""Plain-text tables printed at the end of ``drats train`` and by ``drats eval``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from drats.application.evaluation import EvalResult

if TYPE_CHECKING:
    from drats.application.base import BaseTrainer


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, spec)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs)

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def summary_table(trainer: BaseTrainer, names: Sequence[str]) -> str:
    """Per task: env steps and their share, final q, last training and evaluation numbers."""
    c = trainer.counters
    q = trainer.sampler.probs
    stats, ev = trainer.last_stats, trainer.last_eval
    total = max(int(c.steps_per_task.sum()), 1)
    rows = []
    for t, name in enumerate(names):
        train_ok = None
        if stats is not None and stats.episodes[t]:
            train_ok = float(stats.successes[t] / stats.episodes[t])
        rows.append(
            [
                name,
                f"{int(c.steps_per_task[t]):,}",
                f"{100 * c.steps_per_task[t] / total:.1f}%",
                f"{q[t]:.3f}",
                _fmt(train_ok, ".2f"),
                _fmt(None if ev is None else float(ev.success[t]), ".2f"),
                _fmt(None if ev is None else float(ev.returns[t]), ".3g"),
            ]
        )
    header = ["task", "env steps", "share", "q", "train success", "eval success", "eval return"]
    text = _table(header, rows)
    if ev is not None:
        text += (
            f"\neval success: mean {ev.mean_success:.2f}, worst task {ev.worst_success:.2f}"
            f" | eval return: mean {ev.mean_return:.3g}, worst task {ev.worst_return:.3g}"
        )
    return (
        text
        + f"\n{c.env_steps:,} env steps in {c.iteration:,} iterations"
        + time_split(trainer.total_seconds)
    )


def time_split(seconds: dict[str, float]) -> str:
    """``"; time: act 1.2 s (10%), env ..."``: where this process's iterations spent their time
    (the rest of ``all`` is the loop's own bookkeeping and logging); empty before any."""
    total = seconds.get("all", 0.0)
    if total <= 0:
        return ""
    parts = [
        f"{name} {value:,.1f} s ({100 * value / total:.0f}%)"
        for name, value in seconds.items()
        if name != "all"
    ]
    return f"\ntime {total:,.1f} s: " + ", ".join(parts)


def steps_to_success(rows: Sequence[dict[str, Any]], level: float = 0.9) -> int | None:
    """Env steps at the first evaluation whose mean success reached ``level`` (None if none)."""
    for row in rows:
        value = row.get("eval_mean_success")
        if value is not None and value >= level:
            return int(row["env_steps"])
    return None


def eval_table(result: EvalResult, names: Sequence[str]) -> str:
    rows = [
        [name, f"{result.success[t]:.2f}", f"{result.returns[t]:.3g}", f"{result.lengths[t]:.1f}"]
        for t, name in enumerate(names)
    ]
    text = _table(["task", "success", "return", "length"], rows)
    return text + (
        f"\nmean success {result.mean_success:.2f}, worst task {result.worst_success:.2f}; "
        f"mean return {result.mean_return:.3g}, worst task {result.worst_return:.3g}"
    )
