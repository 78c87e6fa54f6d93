"""``drats plot``: one PNG per call with, for every run given, evaluation success (mean and
worst task) against env steps, per-task evaluation success, and q_i(t) stacked.

A task without a success signal (its ``eval_success`` is None: "not reported") is left out of
the success curves, never drawn as 0; its evaluation return is drawn instead, dashed, on the
per-task panel's right axis."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from drats.application.run_log import read_rows
from drats.domain.errors import ConfigError, InvalidInputError


def task_names(run: Path, k: int) -> list[str]:
    try:
        config = json.loads((run / "config.json").read_text())
        suite = str(config.get("suite", ""))
    except (OSError, json.JSONDecodeError):
        suite = ""
    if suite == "gridworld4":
        return [f"wall-{i + 1}" for i in range(k)]
    if suite.startswith("gym:"):
        ids = [s for s in suite[4:].split(",") if s]
        if len(ids) == k:
            return ids
    return [f"task {i}" for i in range(k)]


def _is_numbers(value: object, length: int | None = None, *, missing: bool = False) -> bool:
    """A list of numbers (of ``length`` when given); with ``missing``, None entries too."""
    return (
        isinstance(value, list)
        and all(isinstance(x, int | float) or (missing and x is None) for x in value)
        and (length is None or len(value) == length)
    )


def _check_rows(run: Path, rows: list[dict[str, Any]]) -> None:
    """InvalidInputError naming the file and row unless every row has numeric ``env_steps``
    and a ``q`` of as many numbers as the first row's, and every ``eval_success`` present
    has that length too."""
    k = len(rows[0]["q"]) if _is_numbers(rows[0].get("q")) else None
    for i, row in enumerate(rows, start=1):
        success = row.get("eval_success")
        if not (
            k is not None
            and isinstance(row.get("env_steps"), int | float)
            and _is_numbers(row.get("q"), k)
            and (success is None or _is_numbers(success, k, missing=True))
        ):
            raise InvalidInputError(
                f"{run / 'metrics.jsonl'} row {i} is not a drats metrics row (it needs "
                "numeric env_steps, a list q of one number per task and, if present, an "
                "eval_success list of the same length, None where not reported)"
            )


def _series(
    rows: list[dict[str, Any]], key: str
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    picked = [r for r in rows if r.get(key) is not None]
    steps = np.array([r["env_steps"] for r in picked], dtype=np.float64)
    values = np.array([r[key] for r in picked], dtype=np.float64)
    return steps, values


def _plot_returns(
    ax: Any, evals: list[dict[str, Any]], steps: np.ndarray[Any, Any], tasks: Any, names: list[str]
) -> None:
    """The evaluation return of ``tasks`` (those without a success signal), dashed."""
    returns = [r.get("eval_return") for r in evals]
    k = len(names)
    if not all(_is_numbers(v, k, missing=True) for v in returns):
        return
    values = np.array(returns, dtype=np.float64)
    for t in tasks:
        ax.plot(
            steps, values[:, t], ls="--", lw=1, label=f"{names[t]} (return)",
            marker="." if steps.size < 40 else None,
        )  # fmt: skip
    ax.set_ylabel("eval return (dashed)")
    if k <= 12:
        ax.legend(fontsize=7, loc="lower right")


def plot_runs(
    runs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str] | None = None
) -> Path:
    """Draw every run in ``runs`` (run directories) into one PNG; return its path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("drats plot needs matplotlib: pip install 'drats[plot]'") from None
    path = Path(out) if out is not None else None
    if path is not None:
        formats = plt.figure().canvas.get_supported_filetypes()
        plt.close("all")
        if path.suffix.lstrip(".").lower() not in formats:
            raise ConfigError(
                f"--out {path}: the file type must be one of {', '.join(sorted(formats))}"
            )
        if not path.parent.is_dir():
            raise ConfigError(f"--out {path}: directory {path.parent} does not exist")
    loaded = []
    for run in map(Path, runs):
        rows = read_rows(run)
        if not rows:
            raise ConfigError(f"{run} has no metrics.jsonl rows (is it a drats run directory?)")
        _check_rows(run, rows)
        loaded.append((run, rows))
    n = len(loaded)
    fig, axes = plt.subplots(n + 1, 2, figsize=(13, 3.6 * (n + 1)), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax_mean, ax_worst = axes[0]
    for i, (run, rows) in enumerate(loaded):
        color = colors[i % len(colors)]
        for ax, key in ((ax_mean, "eval_mean_success"), (ax_worst, "eval_worst_success")):
            steps, values = _series(rows, key)
            label = run.name if steps.size else f"{run.name} (no task reports success)"
            ax.plot(
                steps, values, color=color, label=label, marker="." if steps.size < 40 else None
            )
    for ax, title in (
        (ax_mean, "mean success (eval, tasks that report it)"),
        (ax_worst, "worst-task success (eval)"),
    ):
        ax.set(title=title, xlabel="env steps", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for i, (run, rows) in enumerate(loaded, start=1):
        ax_task, ax_q = axes[i]
        evals = [r for r in rows if r.get("eval_success") is not None]
        k = len(rows[0]["q"])
        names = task_names(run, k)
        title = f"{run.name}: per-task success (eval)"
        if evals:
            steps = np.array([r["env_steps"] for r in evals], dtype=np.float64)
            as_per_task = np.array([r["eval_success"] for r in evals], dtype=np.float64)
            silent = np.isnan(as_per_task).all(axis=0)  # tasks that never report success
            for t in np.flatnonzero(~silent):
                ax_task.plot(steps, as_per_task[:, t], label=names[t], lw=1)
            if silent.any():
                title += "; dashed: return of tasks without a success signal"
                _plot_returns(ax_task.twinx(), evals, steps, np.flatnonzero(silent), names)
        ax_task.set(title=title, xlabel="env steps", ylim=(-0.02, 1.02))
        ax_task.grid(alpha=0.3)
        if k <= 12 and ax_task.get_legend_handles_labels()[0]:  # none: no task reports success
            ax_task.legend(fontsize=7, ncol=2)
        steps = np.array([r["env_steps"] for r in rows], dtype=np.float64)
        q = np.array([r["q"] for r in rows], dtype=np.float64)
        ax_q.stackplot(steps, q.T, labels=names if k <= 12 else None)
        ax_q.set(title=f"{run.name}: task distribution q(t)", xlabel="env steps", ylim=(0, 1))
        if k <= 12:
            ax_q.legend(fontsize=7, ncol=2, loc="upper right")
    fig.tight_layout()
    path = path or loaded[0][0] / "curves.png"
    try:
        fig.savefig(path, dpi=110)
    except OSError as err:
        raise ConfigError(f"cannot write the plot to {path}: {err}") from None
    finally:
        plt.close(fig)
    return path
