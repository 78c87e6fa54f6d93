"""The Markdown of ``drats report``: the table of groups (also printed), the notes (every
treatment the report applied) and what each number and figure is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: the group compared against when ``--baseline`` is not given (if the runs have one)
DEFAULT_BASELINE = "uniform"


def _interval(value: float | None, ci: Sequence[float | None], spec: str) -> str:
    def one(v: float | None) -> str:
        return "never" if v is None and spec == "d" else ("-" if v is None else format(v, spec))

    if value is None and spec != "d":
        return "-"
    return f"{one(value)} [{one(ci[0])}, {one(ci[1])}]"


def _row(entry: dict[str, Any], baseline: str | None) -> list[str]:
    runs = str(entry["runs"])
    extra = []
    if entry["incomplete"]:
        extra.append(f"{entry['incomplete']} incomplete")
    if entry["evaluated"] < entry["runs"]:
        extra.append(f"{entry['runs'] - entry['evaluated']} not evaluated")
    runs += f" ({', '.join(extra)})" if extra else ""
    cells = [entry["name"], runs]
    for key in ("final_mean_success", "final_worst_task_success"):
        stat = entry[key]
        if stat is None:
            cells += ["-", "-"]
        else:
            cells += [
                _interval(stat["mean"], stat["ci"], ".2f"),
                _interval(stat["iqm"], stat["iqm_ci"], ".2f"),
            ]
    steps = entry["steps_to_threshold"]
    if steps is None:
        cells += ["-", "-"]
    else:
        cells += [
            _interval(steps["median"], steps["ci"], "d"),
            f"{steps['reached']}/{steps['of']}",
        ]
    if baseline is not None:
        poi = entry["probability_of_improvement"]
        if entry["name"] == baseline:
            cells.append("baseline")
        else:
            cells.append("-" if poi is None else _interval(poi["value"], poi["ci"], ".2f"))
    return cells


def report_table(report: dict[str, Any]) -> str:
    """The groups as a Markdown table (cells padded, so it reads as plain text too)."""
    level = f"{100 * report['level']:g}% CI"
    header = [
        "group",
        "runs",
        f"mean success [{level}]",
        f"IQM success [{level}]",
        f"worst task: mean [{level}]",
        f"worst task: IQM [{level}]",
        f"steps to {report['threshold']:g}: median [{level}]",
        "reached",
    ]
    baseline = report["baseline"]
    if baseline is not None:
        header.append(f"P(improvement over {baseline}) [{level}]")
    rows = [_row(e, baseline) for e in report["groups"]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def report_notes(report: dict[str, Any]) -> list[str]:
    notes = [f"{e['name']}: {n}" for e in report["groups"] for n in e["notes"]]
    if report["baseline"] is None:
        notes.append(
            f"no probability of improvement: no --baseline given and no group named "
            f"{DEFAULT_BASELINE!r}"
        )
    return notes


_FIGURES = {
    "learning_curves.png": "IQM of the mean success (left) and of the worst-task success "
    "(right) over the runs at each evaluation, with its 95% bootstrap CI as a band",
    "steps_to_threshold.png": "median env steps to the threshold per group, with its CI "
    "(an open marker or an arrow: the median or a bound is never)",
    "performance_profile.png": "fraction of runs x tasks whose final success is above tau, "
    "with its CI as a band",
    "probability_of_improvement.png": "P(X > Y) of each group over the baseline, with its CI",
    "q_bands.png": "per group, each task's q(t) over seeds: the mean and the 2.5-97.5% range",
}


def report_markdown(report: dict[str, Any]) -> str:
    """report.md: the table, the notes, the figures and what each number is."""
    groups = report["groups"]
    lines = [
        "# drats report",
        "",
        f"{sum(g['runs'] for g in groups)} runs in {len(groups)} groups. Final scores are "
        "the last evaluation's per-task success. Intervals are "
        f"{100 * report['level']:g}% stratified bootstrap percentile CIs from "
        f"{report['reps']} resamples (seed {report['seed']}).",
        "",
        report_table(report),
        "",
        "What each interval is for: mean success, the CI of the mean over runs of each "
        "run's mean over tasks; IQM success, the CI of the interquartile mean of the runs x "
        "tasks matrix; worst task, the CI of the mean (IQM) over runs of each run's lowest "
        f"task success; steps to {report['threshold']:g}, the CI of the median over runs of "
        "the env steps of the first evaluation whose mean success reached it (never: a run "
        "that did not; `reached` counts the runs that did); P(improvement), the CI of the "
        "probability that a run of the group beats a run of the baseline on a task (ties "
        "count half), averaged over tasks.",
    ]
    notes = report_notes(report)
    if notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in notes)]
    lines += ["", "## Figures", ""]
    if report.get("figures"):
        lines += [f"- `{name}`: {_FIGURES.get(name, '')}" for name in report["figures"]]
    else:
        lines.append(f"Figures skipped: {report.get('figures_skipped') or 'none drawn'}.")
    lines += ["", "Definitions: docs/report.md in the drats repository.", ""]
    return "\n".join(lines)
