"""The figures of ``drats report`` (matplotlib, the ``plot`` extra): IQM learning curves with
CI bands, steps to the threshold, the performance profile, the probability of improvement and
q(t) per task as a band over seeds. They draw what :mod:`drats.application.study_report`
computed; only the q(t) bands are read from the runs here."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from drats.application.plot import task_names
from drats.application.study_runs import Group, align
from drats.domain.errors import ConfigError


def matplotlib_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _floats(values: Sequence[float | None]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _band(pairs: Sequence[Sequence[float | None]]) -> tuple[Any, Any]:
    both = np.array([[np.nan if v is None else v for v in p] for p in pairs], dtype=np.float64)
    both = both.reshape(-1, 2)
    return both[:, 0], both[:, 1]


def draw_figures(report: dict[str, Any], groups: Sequence[Group], folder: Path) -> list[Path]:
    """Draw every figure into ``folder``; return their paths (ConfigError if one cannot be
    written)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    entries = report["groups"]
    color = {e["name"]: colors[i % len(colors)] for i, e in enumerate(entries)}
    figures = [
        ("learning_curves.png", _curves(plt, entries, color)),
        ("steps_to_threshold.png", _steps(plt, entries, color, report["threshold"])),
        ("performance_profile.png", _profile(plt, entries, color)),
    ]
    if report["baseline"] is not None:
        figures.append(
            ("probability_of_improvement.png", _improvement(plt, entries, report["baseline"]))
        )
    figures.append(("q_bands.png", _q_bands(plt, groups, color)))
    paths = []
    for name, fig in figures:
        path = folder / name
        try:
            fig.tight_layout()
            fig.savefig(path, dpi=110)
        except OSError as err:
            raise ConfigError(f"cannot write the figure {path}: {err}") from None
        finally:
            plt.close(fig)
        paths.append(path)
    return paths


def _curves(plt: Any, entries: list[dict[str, Any]], color: dict[str, str]) -> Any:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    titles = {
        "mean_success": "IQM of mean success (eval)",
        "worst_task": "IQM of worst-task success",
    }
    for ax, (key, title) in zip(axes, titles.items(), strict=True):
        for e in entries:
            curves = e["curves"]
            if curves is None:
                continue
            steps = _floats(curves["steps"])
            value = _floats(curves[f"{key}_iqm"])
            lo, hi = _band(curves[f"{key}_iqm_ci"])
            c = color[e["name"]]
            ax.plot(steps, value, color=c, label=e["name"], marker="." if steps.size < 40 else None)
            ax.fill_between(steps, lo, hi, color=c, alpha=0.2, lw=0)
        ax.set(title=title + " with 95% CI", xlabel="env steps", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _steps(plt: Any, entries: list[dict[str, Any]], color: dict[str, str], threshold: float) -> Any:
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(entries) + 1.9))
    finite = [
        v
        for e in entries
        if e["steps_to_threshold"] is not None
        for v in (e["steps_to_threshold"]["median"], *e["steps_to_threshold"]["ci"])
        if v is not None
    ] + [r["env_steps"] for e in entries for r in e["run_dirs"]]
    edge = 1.05 * max(finite, default=1)
    for i, e in enumerate(entries):
        stat, c = e["steps_to_threshold"], color[e["name"]]
        if stat is None:
            continue
        lo, hi = (edge if v is None else v for v in stat["ci"])
        ax.plot([lo, hi], [i, i], color=c, lw=2)
        if stat["ci"][1] is None:
            arrow = {"arrowstyle": "->", "color": c}
            ax.annotate("", xy=(edge, i), xytext=(lo, i), arrowprops=arrow)
        median = stat["median"]
        ax.plot(
            edge if median is None else median,
            i,
            "o",
            color=c,
            mfc="white" if median is None else c,
            ms=8,
        )
        ax.annotate(
            f"{stat['reached']}/{stat['of']} reached", (0, i), xytext=(4, 6),
            textcoords="offset points", fontsize=7,
        )  # fmt: skip
    ax.set_yticks(range(len(entries)), [e["name"] for e in entries])
    ax.set(
        title=f"env steps to mean success >= {threshold:g}\n"
        "median over runs with 95% CI (open marker, arrow: never)",
        xlabel="env steps",
        xlim=(0, edge * 1.02),
        ylim=(-0.7, len(entries) - 0.3),
    )
    ax.grid(alpha=0.3, axis="x")
    return fig


def _profile(plt: Any, entries: list[dict[str, Any]], color: dict[str, str]) -> Any:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for e in entries:
        profile = e["performance_profile"]
        if profile is None:
            continue
        tau = _floats(profile["tau"])
        lo, hi = _band(profile["ci"])
        c = color[e["name"]]
        ax.plot(tau, _floats(profile["fraction"]), color=c, label=e["name"], drawstyle="steps-post")
        ax.fill_between(tau, lo, hi, color=c, alpha=0.2, lw=0, step="post")
    ax.set(
        title="performance profile (final success) with 95% CI",
        xlabel="tau",
        ylabel="fraction of runs x tasks with score > tau",
        xlim=(0, 1),
        ylim=(-0.02, 1.02),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _improvement(plt: Any, entries: list[dict[str, Any]], baseline: str) -> Any:
    shown = [e for e in entries if e["probability_of_improvement"] is not None]
    fig, ax = plt.subplots(figsize=(6.5, 0.6 * len(shown) + 1.6))
    for i, e in enumerate(shown):
        poi = e["probability_of_improvement"]
        lo, hi = (np.nan if v is None else v for v in poi["ci"])
        ax.plot([lo, hi], [i, i], color="C0", lw=2)
        ax.plot(np.nan if poi["value"] is None else poi["value"], i, "o", color="C0", ms=8)
    ax.axvline(0.5, color="grey", ls="--", lw=1)
    ax.set_yticks(range(len(shown)), [e["name"] for e in shown])
    ax.set(
        title=f"probability of improvement over {baseline} with 95% CI",
        xlabel=f"P(X > {baseline})",
        xlim=(0, 1),
        ylim=(-0.7, max(len(shown), 1) - 0.3),
    )
    ax.grid(alpha=0.3, axis="x")
    return fig


def _q_bands(plt: Any, groups: Sequence[Group], color: dict[str, str]) -> Any:
    cols = min(3, max(1, len(groups)))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[len(groups) :]:
        ax.set_visible(False)
    for ax, group in zip(axes.flat, groups, strict=False):
        runs = [r for r in group.runs if r.row_steps.size]
        grid, q, _ = align([(r.row_steps, r.q, r.last_steps) for r in runs])
        k = q.shape[2]
        names = task_names(runs[0].path, k) if runs else []
        with warnings.catch_warnings():  # a step or task without any run's q: a gap
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(q, axis=0)
            lo, hi = np.nanpercentile(q, [2.5, 97.5], axis=0) if q.size else (mean, mean)
        for t in range(k):
            line = ax.plot(grid, mean[:, t], lw=1, label=names[t])[0]
            ax.fill_between(grid, lo[:, t], hi[:, t], color=line.get_color(), alpha=0.15, lw=0)
        ax.set(
            title=f"{group.name}: q(t) per task, mean and 95% range over {len(runs)} seeds",
            xlabel="env steps",
            ylim=(0, None),
        )
        ax.title.set_color(color.get(group.name, "black"))
        ax.grid(alpha=0.3)
        if 0 < k <= 12:
            ax.legend(fontsize=7, ncol=2, loc="upper right")
    return fig
