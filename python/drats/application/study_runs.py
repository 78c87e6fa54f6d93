"""The runs ``drats report`` reads: finding run directories under the paths given, reading each
into arrays (its evaluations as a score matrix, its q(t)), and grouping them.

A run directory holds ``config.json`` (and, once it has logged, ``metrics.jsonl``). A run in a
directory named ``seed<k>`` sits in a sweep layout (``SWEEP/<group>/seed<k>/``): its group is
its parent directory. Other runs are grouped by their configs: runs whose configs are equal
except for ``seed`` form one group, named after the sampler and the settings that differ
between the groups.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.application.config import TrainConfig
from drats.application.run_log import METRICS, read_rows
from drats.application.statistics import Floats
from drats.domain.errors import ConfigError, InvalidInputError

CONFIG = "config.json"
SEED_DIR = re.compile(r"seed\d+")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _entry(row: dict[str, Any], key: str, t: int) -> float | None:
    """``row[key][t]`` when it is a finite number, else None."""
    values = row.get(key)
    if isinstance(values, list) and t < len(values):
        v = values[t]
        if _number(v) and math.isfinite(v):
            return float(v)
    return None


def return_scored(row: dict[str, Any], t: int) -> bool:
    """Whether task ``t`` of an evaluation row has no success signal ("not reported": its
    ``eval_success`` is None) but an evaluation return, which then scores it."""
    values = row.get("eval_success")
    return (
        isinstance(values, list)
        and t < len(values)
        and values[t] is None
        and _entry(row, "eval_return", t) is not None
    )


def success_scores(
    row: dict[str, Any], num_tasks: int, return_ranges: Floats | None = None
) -> Floats:
    """One evaluation row's per-task scores in [0, 1]. The one place a row becomes a score
    vector.

    * A task with a success signal scores its ``eval_success[t]``.
    * A task without one ("not reported", see :func:`return_scored`) scores its evaluation
      return R normalised per task: ``clip(R / tau, 0, 1)`` with ``tau`` the run's target
      for it (``eval_return_target[t]``: the user's ``--target`` or the task's own, e.g. a
      Gymnasium ``reward_threshold``), or, without one, ``clip((R - lo) / (hi - lo), 0, 1)``
      with ``return_ranges[t] = (lo, hi)`` the lowest and highest such return of any run
      compared (:func:`return_ranges`).
    * NaN (missing) otherwise: no number, or no target and no spread of returns.
    """
    out = np.full(num_tasks, np.nan)
    for t in range(num_tasks):
        success = _entry(row, "eval_success", t)
        if success is not None:
            out[t] = success
        elif return_scored(row, t):
            ret = float(row["eval_return"][t])
            tau = _entry(row, "eval_return_target", t)
            if tau is not None and tau > 0:
                out[t] = min(1.0, max(0.0, ret / tau))
            elif return_ranges is not None and return_ranges[t, 1] > return_ranges[t, 0]:
                lo, hi = return_ranges[t]
                out[t] = min(1.0, max(0.0, (ret - lo) / (hi - lo)))
    return out


def return_ranges(runs: Sequence[Run]) -> Floats | None:
    """Per task, ``(lowest, highest)`` evaluation return of the tasks scored by a return range
    (no success signal, no target) over every evaluation of every run: float64[K, 2], NaN
    rows for the other tasks; None when no task needs one."""
    width = max((r.num_tasks for r in runs), default=0)
    out = np.full((width, 2), np.nan)
    for run in runs:
        for t in np.flatnonzero(run.range_scored):
            values = run.eval_returns[:, t]
            values = values[np.isfinite(values)]
            if values.size:
                out[t, 0] = np.fmin(out[t, 0], values.min())
                out[t, 1] = np.fmax(out[t, 1], values.max())
    return None if np.isnan(out).all() else out


def score_matrix(vectors: Sequence[Floats]) -> Floats:
    """Per-run score vectors as a runs x tasks matrix; runs with fewer tasks are padded with
    NaN (missing)."""
    width = max((v.size for v in vectors), default=0)
    out = np.full((len(vectors), width), np.nan)
    for i, v in enumerate(vectors):
        out[i, : v.size] = v
    return out


@dataclass(frozen=True)
class Run:
    """One run directory read into arrays.

    Attributes:
        path: the run directory.
        config: its ``config.json`` as a dict.
        target_steps: the env steps the config asks for (None when its config does not say).
        row_steps: ``env_steps`` of every metrics row, ``(R,)``.
        q: every row's task distribution, ``(R, K)`` (NaN rows where a row has no ``q``).
        eval_steps: ``env_steps`` of the rows with an evaluation, ``(E,)``.
        eval_success: those rows' per-task scores (:func:`success_scores`: the success, or
            for a task without a success signal its normalised return), ``(E, K)``, NaN
            where missing.
        eval_returns: those rows' per-task evaluation returns, ``(E, K)``, NaN where missing.
        return_scored: ``(K,)``, the tasks scored by their return (no success signal).
        range_scored: ``(K,)``, those of them without a target (scored by a return range).
    """

    path: Path
    config: dict[str, Any]
    target_steps: int | None
    row_steps: Floats
    q: Floats
    eval_steps: Floats
    eval_success: Floats
    eval_returns: Floats = field(default_factory=lambda: np.zeros((0, 0)))
    return_scored: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    range_scored: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def seed(self) -> int | None:
        seed = self.config.get("seed")
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None

    @property
    def num_tasks(self) -> int:
        return int(self.eval_success.shape[1])

    @property
    def last_steps(self) -> int:
        return int(self.row_steps[-1]) if self.row_steps.size else 0

    @property
    def complete(self) -> bool:
        """Whether the run logged its whole budget (last row at or past the config's steps)."""
        return self.target_steps is not None and self.last_steps >= self.target_steps

    @property
    def evaluated(self) -> bool:
        return bool(self.eval_steps.size)

    def final_scores(self) -> Floats:
        """The last evaluation's per-task success (NaN where missing; all NaN without any)."""
        if not self.evaluated:
            return np.full(self.num_tasks, np.nan)
        return np.asarray(self.eval_success[-1], dtype=np.float64)


def _read_config(path: Path) -> tuple[dict[str, Any], int | None]:
    file = path / CONFIG
    try:
        text = file.read_text(encoding="utf-8")
        raw = json.loads(text)
    except UnicodeDecodeError as err:
        raise InvalidInputError(f"{file} is not UTF-8 text (a corrupt config): {err}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{file} is not valid JSON: {err}") from None
    except OSError as err:
        raise ConfigError(f"cannot read {file}: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file} must hold a JSON object (a drats TrainConfig)")
    try:  # the budget with the suite's preset filled in
        target: int | None = TrainConfig.from_json(text).total_steps
    except (ConfigError, TypeError):  # a config of another drats version: its own steps
        target = raw["steps"] if isinstance(raw.get("steps"), int) else None
    return raw, target


def _bad_row(path: Path, i: int, why: str) -> InvalidInputError:
    return InvalidInputError(f"{path / METRICS} row {i} is not a drats metrics row: {why}")


def read_run(path: str | os.PathLike[str], ranges: Floats | None = None) -> Run:
    """A run directory read into a :class:`Run` (no rows when ``metrics.jsonl`` is missing or
    empty), tasks without a success signal scored by their returns (``ranges``: see
    :func:`success_scores`). InvalidInputError naming the file and row for a row that is not
    a metrics row (``env_steps`` not a number, ``q``, ``eval_success`` or ``eval_return`` not
    a list of numbers, or a different number of tasks than the run's other rows) or a file
    that is not UTF-8."""
    run = Path(path)
    config, target = _read_config(run)
    rows = read_rows(run)
    k: int | None = None
    for i, row in enumerate(rows, start=1):
        if not _number(row.get("env_steps")):
            raise _bad_row(run, i, "env_steps must be a number")
        for key in ("q", "eval_success", "eval_return", "eval_return_target"):
            values = row.get(key)
            if values is None:
                continue
            if not isinstance(values, list) or not all(v is None or _number(v) for v in values):
                raise _bad_row(run, i, f"{key} must be a list of numbers (None where missing)")
            if k is not None and len(values) != k:
                raise _bad_row(run, i, f"{key} has {len(values)} tasks, earlier rows {k}")
            k = len(values)
    k = k or 0
    evals = [r for r in rows if isinstance(r.get("eval_success"), list)]
    q = np.full((len(rows), k), np.nan)
    for i, row in enumerate(rows):
        if isinstance(row.get("q"), list):
            q[i] = [np.nan if v is None else float(v) for v in row["q"]]
    scored = np.zeros(k, np.bool_)  # tasks scored by their return
    targeted = np.zeros(k, np.bool_)  # tasks with a target return in some row
    returns = np.full((len(evals), k), np.nan)
    for i, ev in enumerate(evals):
        for t in range(k):
            value, tau = _entry(ev, "eval_return", t), _entry(ev, "eval_return_target", t)
            if value is not None:
                returns[i, t] = value
            scored[t] |= return_scored(ev, t)
            targeted[t] |= tau is not None and tau > 0
    return Run(
        path=run,
        config=config,
        target_steps=target,
        row_steps=np.array([float(r["env_steps"]) for r in rows]),
        q=q,
        eval_steps=np.array([float(r["env_steps"]) for r in evals]),
        eval_success=score_matrix([success_scores(r, k, ranges) for r in evals]).reshape(
            len(evals), k
        ),
        eval_returns=returns,
        return_scored=scored,
        range_scored=scored & ~targeted,
    )


def read_runs(paths: Sequence[str | os.PathLike[str]]) -> list[Run]:
    """The runs at ``paths``, read with :func:`read_run`; where a task without a success
    signal has no target, its returns are scaled by the range of every run's returns on it
    (:func:`return_ranges`), so the runs' scores are comparable."""
    runs = [read_run(p) for p in paths]
    ranges = return_ranges(runs)
    return runs if ranges is None else [read_run(p, ranges) for p in paths]


def find_runs(dirs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every run directory (one holding ``config.json``) at or below each of ``dirs``, in
    sorted order, each once; a run directory's own subfolders are not searched. ConfigError
    for a path that is not a directory or holds no run."""
    found: dict[Path, None] = {}
    for d in map(Path, dirs):
        if not d.is_dir():
            what = "does not exist" if not d.exists() else "is not a directory"
            raise ConfigError(f"{d} {what} (drats report reads run directories)")
        here = []
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            if CONFIG in files:
                here.append(Path(root).resolve())
                subdirs.clear()
        if not here:
            raise ConfigError(
                f"{d} holds no drats run directory (a folder with {CONFIG} and {METRICS})"
            )
        found.update(dict.fromkeys(here))
    return list(found)


@dataclass(frozen=True)
class Group:
    """Runs of one setting. ``path`` is the sweep's group directory (None when the group was
    formed from the configs); ``notes`` are the treatments the report states."""

    name: str
    runs: tuple[Run, ...]
    path: Path | None = None
    notes: list[str] = field(default_factory=list)


def _flat(config: dict[str, Any]) -> dict[str, Any]:
    """A config's settings as one flat dict (sampler and learner options by their own names),
    without ``seed``."""
    nested = ("sampler_options", "learner_options")
    out = {k: v for k, v in config.items() if k != "seed" and k not in nested}
    for key in nested:
        options = config.get(key)
        if isinstance(options, dict):
            for name, value in options.items():
                out[name if name not in out else f"{key}.{name}"] = value
        elif key in config:
            out[key] = options
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, list | tuple):
        return ",".join(_fmt(v) for v in value)
    return str(value)


def _differing(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The flat settings whose values are not the same in all ``configs``."""
    flats = [_flat(c) for c in configs]
    keys = sorted({k for f in flats for k in f})
    missing = object()
    return [
        k for k in keys if len({json.dumps(f.get(k, missing), default=repr) for f in flats}) > 1
    ]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def group_runs(runs: Sequence[Run]) -> list[Group]:
    """Runs grouped: a run in a ``seed<k>`` directory by its parent (the sweep's group
    directory, named after it; prefixed with the sweep's name when two sweeps given have a
    group of the same name), every other run by its config without ``seed``. Runs in a group
    are in seed order."""
    by_dir: dict[Path, list[Run]] = {}
    by_config: dict[str, list[Run]] = {}
    for run in runs:
        if SEED_DIR.fullmatch(run.path.name):
            by_dir.setdefault(run.path.parent, []).append(run)
        else:
            key = json.dumps(_flat(run.config), sort_keys=True, default=repr)
            by_config.setdefault(key, []).append(run)
    dir_names = [p.name for p in by_dir]
    names = [f"{p.parent.name}/{p.name}" if dir_names.count(p.name) > 1 else p.name for p in by_dir]
    members = list(by_dir.values())
    paths: list[Path | None] = list(by_dir)
    if by_config:
        firsts = [g[0].config for g in by_config.values()]
        differing = [k for k in _differing(firsts) if k != "sampler"]
        for group in by_config.values():
            flat = _flat(group[0].config)
            parts = [str(flat.get("sampler", "run"))]
            parts += [f"{k}={_fmt(flat[k])}" for k in differing if flat.get(k) is not None]
            names.append("-".join(parts))
            members.append(group)
            paths.append(None)
    groups = []
    for name, group, path in zip(_unique(names), members, paths, strict=True):
        ordered = sorted(group, key=lambda r: (r.seed is None, r.seed or 0, str(r.path)))
        notes = []
        differ = [k for k in _differing([r.config for r in ordered])]
        if differ:
            notes.append(f"its runs' configs differ beyond the seed in: {', '.join(differ)}")
        groups.append(Group(name=name, runs=tuple(ordered), path=path, notes=notes))
    return sorted(groups, key=lambda g: g.name)


def align(series: Sequence[tuple[Floats, Floats, float]]) -> tuple[Floats, Floats, bool]:
    """Runs' time series on one grid of env steps.

    ``series`` holds, per run, its steps ``(E,)`` (ascending), its values ``(E, K)`` and the
    last env step it logged. The grid is the union of all the steps; a run's value at a grid
    step is its last value at or before it (carried forward), missing (NaN) before its first
    step and past the last env step it logged. Returns the grid ``(G,)``, the values
    ``(runs, G, K)`` (K the largest; fewer tasks padded with NaN) and whether the runs share
    one schedule (each run's steps are the start of the longest run's), in which case no value
    was carried to a step the run did not log itself.
    """
    grid = np.unique(np.concatenate([s for s, _, _ in series])) if series else np.zeros(0)
    width = max((v.shape[1] for _, v, _ in series), default=0)
    out = np.full((len(series), grid.size, width), np.nan)
    for i, (steps, values, last) in enumerate(series):
        if not steps.size:
            continue
        pos = np.searchsorted(steps, grid, side="right") - 1
        shown = (pos >= 0) & (grid <= last)
        out[i, shown, : values.shape[1]] = values[pos[shown]]
    longest = max((s for s, _, _ in series), key=len, default=np.zeros(0))
    shared = all(np.array_equal(s, longest[: s.size]) for s, _, _ in series)
    return grid, out, shared
