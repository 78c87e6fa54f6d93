"""``drats report``: the statistics of groups of runs (final success, worst-task success, steps
to a success threshold, probability of improvement over a baseline, each with a stratified
bootstrap CI; IQM learning curves and performance profiles) written as ``report.json``,
``report.md`` and figures. The definitions are in :mod:`drats.application.statistics` and
``docs/report.md``; reading and grouping runs in :mod:`drats.application.study_runs`."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drats.application import statistics as st
from drats.application.report_markdown import (
    DEFAULT_BASELINE,
    report_markdown,
    report_notes,
    report_table,
)
from drats.application.study_runs import Group, Run, align, find_runs, group_runs, read_runs
from drats.application.study_runs import score_matrix as _score_matrix
from drats.domain.checks import as_fraction, as_positive_int, as_seed
from drats.domain.errors import ConfigError

#: the most bootstrap resamples one statistic may take
MAX_REPS = 100_000
#: the score thresholds of the performance profile
TAUS = np.linspace(0.0, 1.0, 101)

#: what each interval in report.json is the CI of
CI_OF = {
    "final_mean_success.ci": "the mean over runs of each run's mean final success over tasks",
    "final_mean_success.iqm_ci": "the IQM of the runs x tasks matrix of final success",
    "final_worst_task_success.ci": "the mean over runs of each run's worst final task success",
    "final_worst_task_success.iqm_ci": "the IQM over runs of each run's worst task success",
    "steps_to_threshold.ci": "the median over runs of the env steps to the threshold",
    "probability_of_improvement.ci": "P(X > Y) of the group X over the baseline Y",
    "performance_profile.ci": "the fraction of runs x tasks above each tau",
    "curves.*_ci": "the IQM at each evaluation step",
}


@dataclass(frozen=True)
class ReportSettings:
    """What ``drats report`` computes (each checked on construction: ConfigError).

    Attributes:
        threshold: mean success over tasks that counts as solved (steps to threshold), in [0, 1].
        baseline: the group the probability of improvement is over; None means ``uniform`` if
            there is a group of that name (and no comparison otherwise).
        reps: bootstrap resamples per interval, 1 to ``MAX_REPS``.
        seed: seeds the numpy Generator of every interval (each starts from this seed).
        level: the confidence level of the intervals.
    """

    threshold: float = 0.9
    baseline: str | None = None
    reps: int = 2000
    seed: int = 0
    level: float = 0.95

    def __post_init__(self) -> None:
        as_fraction(self.threshold, "threshold")
        as_positive_int(self.reps, "reps", MAX_REPS)
        as_seed(self.seed)
        level = as_fraction(self.level, "level")
        if level in (0.0, 1.0):
            raise ConfigError(f"level must lie strictly between 0 and 1, got {level}")

    def rng(self, stream: int = 0) -> np.random.Generator:
        """A fresh Generator: ``default_rng(seed)`` (``default_rng([seed, stream])`` for a
        second stream, e.g. the baseline's resamples in a probability of improvement)."""
        seed = as_seed(self.seed)
        return np.random.default_rng(seed if stream == 0 else [seed, stream])


def _num(value: Any) -> float | None:
    """A JSON number: None for NaN and +-inf."""
    v = float(value)
    return v if np.isfinite(v) else None


def _steps(value: Any) -> int | None:
    v = float(value)
    return round(v) if np.isfinite(v) else None


def _estimate(
    scores: st.Floats, statistic: st.Statistic, settings: ReportSettings
) -> tuple[float | None, list[float | None]]:
    """A statistic of a runs x tasks matrix and its stratified bootstrap percentile CI."""
    replicates = st.bootstrap(scores, statistic, settings.reps, settings.rng())
    lo, hi = st.percentile_interval(replicates, settings.level)
    return _num(statistic(scores)), [_num(lo), _num(hi)]


def _mean_and_iqm(scores: st.Floats, settings: ReportSettings) -> dict[str, Any] | None:
    """Mean and IQM with their CIs; None without any run."""
    if not scores.shape[0]:
        return None
    mean, ci = _estimate(scores, st.mean_of_run_means, settings)
    iqm, iqm_ci = _estimate(scores, st.interquartile_mean, settings)
    return {"mean": mean, "iqm": iqm, "ci": ci, "ci_of": "mean", "iqm_ci": iqm_ci}


def _column(values: st.Floats) -> st.Floats:
    """Per-run values as a one-column matrix, runs without a value left out."""
    return values[~np.isnan(values)][:, None]


def _curves(runs: Sequence[Run], settings: ReportSettings) -> tuple[dict[str, Any], bool]:
    """IQM of the mean success and of the worst-task success at each evaluation step, with
    CIs, over the runs evaluated there."""
    grid, values, shared = align([(r.eval_steps, r.eval_success, r.last_steps) for r in runs])
    out: dict[str, Any] = {"steps": [_steps(s) for s in grid], "runs": []}
    for key in ("mean_success_iqm", "mean_success_iqm_ci", "worst_task_iqm", "worst_task_iqm_ci"):
        out[key] = []
    for g in range(grid.size):
        at = values[:, g, :]
        at = at[~np.isnan(at).all(axis=1)]
        out["runs"].append(int(at.shape[0]))
        for key, scores in (("mean_success", at), ("worst_task", _column(st.worst_task(at)))):
            value: float | None = None
            ci: list[float | None] = [None, None]
            if scores.size:
                value, ci = _estimate(scores, st.interquartile_mean, settings)
            out[f"{key}_iqm"].append(value)
            out[f"{key}_iqm_ci"].append(ci)
    out["aligned"] = "shared schedule" if shared else "union grid, last value carried forward"
    return out, shared


def _run_entry(run: Run, threshold: float) -> dict[str, Any]:
    final = run.final_scores()
    return {
        "path": str(run.path),
        "seed": run.seed,
        "complete": run.complete,
        "env_steps": run.last_steps,
        "target_steps": run.target_steps,
        "evaluations": int(run.eval_steps.size),
        "final_success": [_num(v) for v in final],
        "steps_to_threshold": _steps(_run_steps(run, threshold)),
    }


def _run_steps(run: Run, threshold: float) -> float:
    return st.steps_to_threshold(run.eval_steps, st.run_means(run.eval_success), threshold)


def final_matrix(group: Group) -> st.Floats:
    """The runs x tasks matrix of final scores of the group's evaluated runs."""
    return _score_matrix([r.final_scores() for r in group.runs if r.evaluated])


def _tasks(ids: list[int]) -> str:
    """``task 3`` or ``tasks 0, 2``."""
    return ("task " if len(ids) == 1 else "tasks ") + ", ".join(map(str, ids))


def _group_stats(group: Group, settings: ReportSettings) -> dict[str, Any]:
    runs = group.runs
    evaluated = [r for r in runs if r.evaluated]
    complete = sum(r.complete for r in runs)
    notes = list(group.notes)
    entry: dict[str, Any] = {
        "name": group.name,
        "path": None if group.path is None else str(group.path),
        "runs": len(runs),
        "seeds": [r.seed for r in runs],
        "complete": complete,
        "incomplete": len(runs) - complete,
        "evaluated": len(evaluated),
        "tasks": max((r.num_tasks for r in runs), default=0),
    }
    if complete < len(runs):
        notes.append(
            f"{len(runs) - complete} of {len(runs)} runs are incomplete (fewer env steps logged "
            "than their config's steps): each counts with the evaluations it has"
        )
    if len(evaluated) < len(runs):
        notes.append(
            f"{len(runs) - len(evaluated)} runs have no evaluation yet (missing or empty "
            "metrics.jsonl, or none logged): left out of every statistic"
        )
    widths = sorted({r.num_tasks for r in evaluated})
    if len(widths) > 1:
        notes.append(
            f"runs report different numbers of tasks ({', '.join(map(str, widths))}): the "
            "tasks a run lacks count as missing scores"
        )
    keys = ("final_mean_success", "final_worst_task_success", "steps_to_threshold")
    if not evaluated:
        notes.append("no run has an evaluation: no statistic")
        entry.update(dict.fromkeys(keys))
        entry.update(performance_profile=None, curves=None, final_task_success=[])
    else:
        if len(evaluated) == 1:
            notes.append("a single run: every CI is degenerate (a single point)")
        final = final_matrix(group)
        missing = int(np.isnan(final).sum())
        if missing:
            notes.append(
                f"{missing} final scores are missing (tasks without a success or a return to "
                "score): every statistic uses the tasks that have one"
            )
        scored = sorted({int(t) for r in evaluated for t in np.flatnonzero(r.return_scored)})
        if scored:
            ranged = sorted({int(t) for r in evaluated for t in np.flatnonzero(r.range_scored)})
            targeted = [t for t in scored if t not in ranged]
            how = []
            if targeted:
                how.append(f"{_tasks(targeted)}: return over target, clipped to [0, 1]")
            if ranged:
                how.append(
                    f"{_tasks(ranged)}, without a target: return scaled to [0, 1] by the lowest "
                    "and highest of any run in this report"
                )
            verb = "reports" if len(scored) == 1 else "report"
            notes.append(
                f"{_tasks(scored)} {verb} no success signal, so scores are evaluation returns "
                f"({'; '.join(how)}); every success statistic counts them so"
            )
        entry["final_mean_success"] = _mean_and_iqm(final, settings)
        entry["final_worst_task_success"] = _mean_and_iqm(_column(st.worst_task(final)), settings)
        steps = np.array([[_run_steps(r, settings.threshold)] for r in evaluated])
        median, ci = _estimate(steps, st.median_of_runs, settings)
        entry["steps_to_threshold"] = {
            "median": None if median is None else round(median),
            "ci": [None if c is None else round(c) for c in ci],
            "ci_of": "median",
            "reached": int(np.isfinite(steps).sum()),
            "of": len(evaluated),
        }
        profile = st.bootstrap(
            final, lambda b: st.performance_profile(b, TAUS), settings.reps, settings.rng()
        )
        entry["performance_profile"] = {
            "tau": [float(t) for t in TAUS],
            "fraction": [_num(v) for v in st.performance_profile(final, TAUS)],
            "ci": [[_num(a), _num(b)] for a, b in st.percentile_interval(profile, settings.level)],
        }
        curves, shared = _curves(evaluated, settings)
        entry["curves"] = curves
        if not shared:
            notes.append(
                "runs evaluate at different env steps: the learning curves align them on the "
                "union of their evaluation steps, carrying each run's last value forward"
            )
        # the mean over runs of each task (a task no run has a score for: None)
        entry["final_task_success"] = [
            _num(st.mean_of_run_means(final[:, t : t + 1])) for t in range(final.shape[1])
        ]
    entry["probability_of_improvement"] = None
    entry["run_dirs"] = [_run_entry(r, settings.threshold) for r in runs]
    entry["notes"] = notes
    return entry


def _improvement(x: st.Floats, y: st.Floats, settings: ReportSettings) -> dict[str, Any]:
    width = max(x.shape[1], y.shape[1])
    a = np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=np.nan)
    b = np.pad(y, ((0, 0), (0, width - y.shape[1])), constant_values=np.nan)
    replicates = st.bootstrap_improvement(a, b, settings.reps, settings.rng(), settings.rng(1))
    lo, hi = st.percentile_interval(replicates, settings.level)
    value = _num(st.probability_of_improvement(a, b))
    return {"value": value, "ci": [_num(lo), _num(hi)], "ci_of": "value"}


def build_report(groups: Sequence[Group], settings: ReportSettings) -> dict[str, Any]:
    """The report of ``groups`` as a JSON-ready dict (see ``docs/report.md``). ConfigError
    when ``settings.baseline`` names no group."""
    names = [g.name for g in groups]
    baseline = settings.baseline
    if baseline is not None and baseline not in names:
        raise ConfigError(f"--baseline {baseline!r} is not one of the groups: {', '.join(names)}")
    if baseline is None and DEFAULT_BASELINE in names:
        baseline = DEFAULT_BASELINE
    entries = [_group_stats(g, settings) for g in groups]
    if baseline is not None:
        base = groups[names.index(baseline)]
        y = final_matrix(base)
        for group, entry in zip(groups, entries, strict=True):
            x = final_matrix(group)
            if group.name == baseline:
                continue
            if not (x.shape[0] and y.shape[0]):
                entry["notes"].append("no probability of improvement: no evaluated runs to compare")
                continue
            entry["probability_of_improvement"] = {
                **_improvement(x, y, settings),
                "over": baseline,
            }
    return {
        "threshold": settings.threshold,
        "baseline": baseline,
        "reps": settings.reps,
        "seed": settings.seed,
        "level": settings.level,
        "ci_method": (
            "stratified bootstrap percentile interval: within each group and each task, "
            "the group's runs are resampled with replacement (a per-run statistic resamples "
            "whole runs); both groups' runs independently for the probability of improvement"
        ),
        "ci_of": CI_OF,
        "groups": entries,
    }


def write_report(
    dirs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None,
    settings: ReportSettings,
) -> tuple[Path, str]:
    """Read the runs under ``dirs``, write ``report.json``, ``report.md`` and the figures into
    ``out`` (default ``<first dir>/report``); return ``out`` and the text to print (the
    table and the notes)."""
    if not dirs:
        raise ConfigError("drats report needs at least one run, group or sweep directory")
    groups = group_runs(read_runs(find_runs(dirs)))
    report = build_report(groups, settings)
    report["inputs"] = [str(d) for d in dirs]
    folder = Path(out) if out is not None else Path(dirs[0]) / "report"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--out {folder}: cannot create the report directory ({err})") from None
    from drats.application import report_plots

    if report_plots.matplotlib_available():
        report["figures"] = [p.name for p in report_plots.draw_figures(report, groups, folder)]
        report["figures_skipped"] = None
    else:
        report["figures"] = []
        report["figures_skipped"] = "matplotlib is not installed (pip install 'drats[plot]')"
    markdown = report_markdown(report)
    for name, text in (
        ("report.json", json.dumps(report, indent=1) + "\n"),
        ("report.md", markdown),
    ):
        try:
            (folder / name).write_text(text, encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot write {folder / name}: {err}") from None
    printed = [report_table(report), *(f"note: {n}" for n in report_notes(report))]
    if report["figures_skipped"]:
        printed.append(f"figures skipped: {report['figures_skipped']}")
    printed.append(f"wrote report.json, report.md and {len(report['figures'])} figures to {folder}")
    return folder, "\n".join(printed)
