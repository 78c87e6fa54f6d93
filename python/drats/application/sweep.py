"""Many runs from one command: the plan of a sweep, the state of its runs on disk, and the loop
that hands them to an engine (worker processes here, or a Ray cluster) and reports progress.

A sweep directory holds ``sweep.json`` (the plan, so a different sweep is refused) and one
ordinary ``drats train`` run directory per run, ``DIR/<group>/seed<k>/``, where the group names
the sampler and the settings that vary (``drats``, ``drats-eta=8``...). Every run is started as
``drats train --resume <run dir>`` on the ``config.json`` the sweep wrote there, so rerunning the
same command skips finished runs (``sweep-done.json``), resumes interrupted ones from their last
checkpoint and starts the others; a run that fails is retried once, then reported
(``sweep-failed.json``) and tried again by the next rerun.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TextIO

from drats.application.checkpoint import atomic_write_bytes
from drats.application.config import LEARNER_OPTIONS, SAMPLER_OPTIONS, TrainConfig
from drats.application.run_log import read_rows
from drats.domain.errors import ConfigError

PLAN = "sweep.json"
DONE = "sweep-done.json"
FAILED = "sweep-failed.json"
LOG = "train.log"

#: TrainConfig fields a sweep sets itself (``--set`` may not).
_OWN = (
    "suite",
    "algo",
    "sampler",
    "seed",
    "steps",
    "threads",
    "sampler_options",
    "learner_options",
)


# ------------------------------------------------------------------------------------ plan


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-19"``, ``"0,3,7"`` or ``"0-4,10"`` as a tuple of distinct seeds >= 0, in order."""
    seeds: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            low, _, high = part.partition("-")
            first = int(low)
            seeds += range(first, int(high) + 1) if high else [first]
    except ValueError:
        raise ConfigError(f"--seeds must look like 0-19 or 0,3,7, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds must list distinct seeds >= 0, got {text!r}")
    return tuple(seeds)


def _value(name: str, text: str) -> Any:
    """One grid value of setting ``name``, typed as the setting is."""
    kinds = {n: o.kind for n, o in {**SAMPLER_OPTIONS, **LEARNER_OPTIONS}.items()}
    types = {f.name: str(f.type) for f in fields(TrainConfig)}
    kind = kinds.get(name) or types[name]
    try:
        if kind in ("float", "floats"):
            return float(text)
        if kind in ("int", "int | None"):
            return int(text)
        if kind == "ints":
            return [int(x) for x in text.split("+") if x]
        if kind in ("bool", "flag"):
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
    except ValueError:
        raise ConfigError(f"--set {name}: cannot read {text!r} as a {kind}") from None
    return text


def parse_grid(items: Sequence[str]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """``["eta=8,16", "eval_every=8192"]`` as ``(("eta", (8.0, 16.0)), ("eval_every", (8192,)))``.

    A name is a ``drats train`` setting (a TrainConfig field or a sampler / learner option,
    with ``_`` or ``-``); values are separated by commas (hidden widths by ``+``: ``64+64``).
    """
    known = {f.name for f in fields(TrainConfig)} - set(_OWN)
    known |= set(SAMPLER_OPTIONS) | set(LEARNER_OPTIONS)
    grid: dict[str, tuple[Any, ...]] = {}
    for item in items:
        raw, sep, values = item.partition("=")
        name = raw.strip().replace("-", "_")
        if not sep or not values.strip():
            raise ConfigError(f"--set wants name=value[,value...], got {item!r}")
        if name not in known:
            raise ConfigError(
                f"--set {name}: not a setting a sweep can vary ({', '.join(sorted(known))})"
            )
        if name in grid:
            raise ConfigError(f"--set {name} is given twice")
        grid[name] = tuple(_value(name, v.strip()) for v in values.split(",") if v.strip())
    return tuple(grid.items())


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep runs: every sampler x every combination of the grid x every seed.

    Attributes:
        suite, algo, steps: as ``drats train`` (steps None: the suite's budget).
        samplers: the samplers compared.
        seeds: the seeds of every group.
        grid: ``(name, values)`` pairs; a setting with one value is fixed for every run, one
            with several values becomes part of the group names.
        threads_per_run: torch threads of each run.
    """

    suite: str
    algo: str
    samplers: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int | None = None
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    threads_per_run: int = 1

    def runs(self) -> list[SweepRun]:
        """Every run of the sweep, its TrainConfig built (so a bad setting fails up front)."""
        varying = [(n, v) for n, v in self.grid if len(v) > 1]
        fixed = {n: v[0] for n, v in self.grid if len(v) == 1}
        out = []
        for sampler in self.samplers:
            for combo in itertools.product(*(v for _, v in varying)):
                chosen = {**fixed, **dict(zip((n for n, _ in varying), combo, strict=True))}
                label = "-".join(
                    f"{n}={_label(v)}" for (n, _), v in zip(varying, combo, strict=True)
                )
                group = f"{sampler}-{label}" if label else sampler
                for seed in self.seeds:
                    out.append(SweepRun(group, seed, self._config(sampler, seed, chosen)))
        return out

    def _config(self, sampler: str, seed: int, chosen: Mapping[str, Any]) -> TrainConfig:
        sampler_opts = {k: v for k, v in chosen.items() if k in SAMPLER_OPTIONS}
        learner_opts = {k: v for k, v in chosen.items() if k in LEARNER_OPTIONS}
        if "hidden" in learner_opts:
            learner_opts["hidden"] = list(learner_opts["hidden"])
        settings = {
            k: v for k, v in chosen.items() if k not in sampler_opts and k not in learner_opts
        }
        return TrainConfig(
            suite=self.suite, algo=self.algo, sampler=sampler, seed=seed, steps=self.steps,
            threads=self.threads_per_run, sampler_options=sampler_opts,
            learner_options=learner_opts, **settings,
        )  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> SweepPlan:
        raw = json.loads(text)
        raw["samplers"], raw["seeds"] = tuple(raw["samplers"]), tuple(raw["seeds"])
        raw["grid"] = tuple((n, tuple(_frozen(v) for v in vs)) for n, vs in raw["grid"])
        return cls(**raw)


def _label(value: Any) -> str:
    return (
        "+".join(str(v) for v in value)
        if isinstance(value, list)
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )


def _frozen(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its group, seed and configuration."""

    group: str
    seed: int
    config: TrainConfig

    @property
    def name(self) -> str:
        return f"{self.group}/seed{self.seed}"


# ----------------------------------------------------------------------------------- state


def open_sweep(out: Path, plan: SweepPlan) -> None:
    """Create the sweep directory with its plan, or check that it holds this very plan."""
    path = out / PLAN
    if path.exists():
        try:
            theirs = SweepPlan.from_json(path.read_text())
        except (ValueError, TypeError, KeyError) as err:
            raise ConfigError(f"{path} is not a drats sweep plan ({err})") from None
        if theirs != plan:
            diff = [
                f"{f.name}: {getattr(theirs, f.name)!r} there, {getattr(plan, f.name)!r} now"
                for f in fields(SweepPlan)
                if getattr(theirs, f.name) != getattr(plan, f.name)
            ]
            raise ConfigError(
                f"{out} holds another sweep ({'; '.join(diff)}); rerun that sweep's command or "
                "choose another --out"
            )
        return
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty and holds no {PLAN}: not a sweep directory")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, plan.to_json().encode())


def prepare_run(out: Path, run: SweepRun) -> Path:
    """The run directory, with the run's ``config.json`` written (or checked, if there)."""
    run_dir = out / run.group / f"seed{run.seed}"
    path = run_dir / "config.json"
    if path.exists():
        if TrainConfig.from_json(path.read_text()) != run.config:
            raise ConfigError(f"{path} is not the configuration this sweep plans for {run.name}")
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, run.config.to_json().encode())
    return run_dir


def steps_done(run_dir: Path) -> int:
    """Env steps of the newest metrics row of a run (0 before its first row)."""
    try:
        rows = read_rows(run_dir)
    except Exception:  # a torn or foreign file: count nothing rather than stop the sweep
        return 0
    return int(rows[-1].get("env_steps", 0)) if rows else 0


def finished_summary(run_dir: Path) -> dict[str, Any]:
    """The final evaluation of a finished run, for its progress line and ``sweep-done.json``."""
    rows = read_rows(run_dir)
    evaluated = [r for r in rows if r.get("eval_mean_success") is not None]
    last = evaluated[-1] if evaluated else {}
    reached = next((int(r["env_steps"]) for r in evaluated if r["eval_mean_success"] >= 0.9), None)
    return {
        "env_steps": int(rows[-1]["env_steps"]) if rows else 0,
        "eval_mean_success": last.get("eval_mean_success"),
        "eval_worst_success": last.get("eval_worst_success"),
        "reached_0.9_at": reached,
    }


# --------------------------------------------------------------------------------- engines


@dataclass
class Job:
    """A run handed to an engine: its name, directory and how many attempts it has had."""

    name: str
    run_dir: Path
    total_steps: int
    attempts: int = 0
    started: float = field(default_factory=time.monotonic)


class Engine(Protocol):
    """Where a sweep's runs execute (worker processes on this machine, or Ray tasks).

    Call sequence::

        engine.start(job)            # launch ``drats train --resume job.run_dir``
        for job, code, log in engine.wait(timeout):   # finished jobs: exit code, log tail
            ...
        engine.close()               # stop what still runs

    The easy thing to get wrong: ``start`` never blocks on a run; ``capacity`` says how many
    runs may be in flight at once.
    """

    @property
    def capacity(self) -> int: ...

    def start(self, job: Job) -> None: ...

    def wait(self, timeout: float) -> list[tuple[Job, int, str]]: ...

    def close(self) -> None: ...


# ------------------------------------------------------------------------------ the driver


@dataclass
class SweepResult:
    """What a sweep did: runs finished now or before, and the runs that failed twice."""

    finished: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def run_sweep(
    plan: SweepPlan,
    out: Path,
    engine: Engine,
    *,
    stream: TextIO | None = None,
    interval: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> SweepResult:
    """Run every unfinished run of ``plan`` in ``out`` on ``engine``; return what happened.

    A run that exits with an error is started once more (from its last checkpoint); if that
    fails too, its error goes in ``sweep-failed.json`` and the result. Progress goes to
    ``stream`` (stderr): a status line (at most every ``interval`` s when not a terminal) and
    one line per finished run.
    """
    stream = stream or sys.stderr
    open_sweep(out, plan)
    result = SweepResult()
    pending: list[Job] = []
    for run in plan.runs():
        run_dir = prepare_run(out, run)
        if (run_dir / DONE).exists():
            result.skipped.append(run.name)
            continue
        (run_dir / FAILED).unlink(missing_ok=True)
        pending.append(Job(run.name, run_dir, run.config.total_steps))
    progress = _SweepProgress(pending, len(result.skipped), stream, interval, clock)
    running: list[Job] = []
    try:
        while pending or running:
            while pending and len(running) < engine.capacity:
                job = pending.pop(0)
                job.attempts += 1
                job.started = clock()
                engine.start(job)
                running.append(job)
            for job, code, log in engine.wait(timeout=1.0):
                running.remove(job)
                if code == 0 and (job.run_dir / "metrics.jsonl").exists():
                    summary = {**finished_summary(job.run_dir), "attempts": job.attempts}
                    summary["seconds"] = round(clock() - job.started, 1)
                    atomic_write_bytes(job.run_dir / DONE, json.dumps(summary).encode())
                    result.finished.append(job.name)
                    progress.finished(job, summary)
                elif job.attempts < 2:
                    progress.say(
                        f"{job.name} failed (exit {code}); retrying from its last checkpoint"
                    )
                    pending.insert(0, job)
                else:
                    record = {"exit_code": code, "attempts": job.attempts, "log_tail": log}
                    atomic_write_bytes(job.run_dir / FAILED, json.dumps(record, indent=2).encode())
                    result.failed[job.name] = _last_line(log) or f"exit code {code}"
                    progress.failed(job, code)
            progress.update(running, len(result.failed))
    finally:
        engine.close()
        progress.close(result)
    return result


def _last_line(log: str) -> str:
    lines = [line for line in log.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


class _SweepProgress:
    """The sweep's status line (runs finished / running / failed, ETA) and per-run lines."""

    def __init__(
        self,
        jobs: list[Job],
        skipped: int,
        stream: TextIO,
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self.stream, self.interval, self.clock = stream, interval, clock
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.total_runs = len(jobs) + skipped
        self.done_runs = skipped
        self.total_steps = sum(j.total_steps for j in jobs)
        self.base = {j.name: steps_done(j.run_dir) for j in jobs}  # resumed runs' head start
        self.finished_steps = 0
        self.t0 = self._last = clock()

    def say(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finished(self, job: Job, summary: Mapping[str, Any]) -> None:
        self.done_runs += 1
        self.finished_steps += job.total_steps - self.base.get(job.name, 0)
        mean, worst = summary.get("eval_mean_success"), summary.get("eval_worst_success")
        reached = summary.get("reached_0.9_at")
        text = f"finished {job.name} in {summary['seconds']:.0f} s"
        if mean is not None:
            text += f": eval success mean {mean:.2f}, worst task {worst:.2f}"
            text += (
                f", 0.9 first reached at {reached:,} env steps" if reached else ", 0.9 not reached"
            )
        self.say(text)

    def failed(self, job: Job, code: int) -> None:
        self.say(f"FAILED {job.name} twice (exit {code}); see {job.run_dir / FAILED}")

    def update(self, running: list[Job], failed: int) -> None:
        now = self.clock()
        if not self.tty and now - self._last < self.interval:
            return
        self._last = now
        progressed = self.finished_steps + sum(
            steps_done(j.run_dir) - self.base.get(j.name, 0) for j in running
        )
        remaining = max(0, self.total_steps - progressed)
        rate = progressed / max(now - self.t0, 1e-9)
        eta = time.strftime("%H:%M:%S", time.gmtime(remaining / rate)) if rate > 0 else "?"
        line = (
            f"sweep: {self.done_runs}/{self.total_runs} runs finished, {len(running)} running, "
            f"{failed} failed | {rate:,.0f} env steps/s | eta {eta}"
        )
        if self.tty:
            self.stream.write("\r" + line[:160])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, result: SweepResult) -> None:
        text = (
            f"sweep done: {len(result.finished)} runs finished now, {len(result.skipped)} "
            f"before, {len(result.failed)} failed"
        )
        self.say(text)
        for name, error in result.failed.items():
            self.say(f"  {name}: {error}")


__all__ = [
    "DONE",
    "FAILED",
    "PLAN",
    "Engine",
    "Job",
    "SweepPlan",
    "SweepResult",
    "SweepRun",
    "open_sweep",
    "parse_grid",
    "parse_seeds",
    "prepare_run",
    "run_sweep",
]
