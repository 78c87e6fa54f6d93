"""The ``drats`` command: ``drats train``, ``drats eval CHECKPOINT``, ``drats plot RUN_DIR...``
and ``drats report DIR...``.

Invalid options end with a one-line ``drats: error: ...`` and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn

from drats.application.config import LEARNER_OPTIONS, SAMPLER_OPTIONS, TrainConfig
from drats.application.registry import LEARNERS, SAMPLERS, SUITES, suite_spec
from drats.domain.errors import ConfigError, DratsError


def _floats(text: str) -> float | list[float]:
    """``"5"`` -> 5.0; ``"1,2,3"`` -> [1.0, 2.0, 3.0] (a value per task)."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(f"expected a number or comma-separated numbers: {text!r}")
    return values[0] if len(values) == 1 and "," not in text else values


def _ints(text: str) -> list[int]:
    """``"400,400"`` -> [400, 400]; ``""`` -> [] (a linear network)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers: {text!r}") from None


#: how an option's values are read, by kind (see drats.application.config.Option)
_KINDS: dict[str, dict[str, Any]] = {
    "float": {"type": float},
    "int": {"type": int},
    "str": {"type": str},
    "floats": {"type": _floats},
    "ints": {"type": _ints},
    "flag": {"action": "store_const", "const": True},
}
#: TrainConfig field type -> argparse keywords
_FIELD_KINDS: dict[str, dict[str, Any]] = {
    "str": {},
    "str | None": {},
    "int": {"type": int},
    "int | None": {"type": int},
    "float": {"type": float},
    "bool": {"action": argparse.BooleanOptionalAction},
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"drats: error: {message} (see {self.prog} --help)\n")


def _add_train_options(train: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field (its help is the field's), then the sampler and
    learner option tables; every default is None, meaning "the run's or the suite's"."""
    config = train.add_argument_group("run settings (TrainConfig)")
    for f in fields(TrainConfig):
        if not f.metadata.get("cli", True):
            continue
        flag = "--" + f.name.replace("_", "-")
        config.add_argument(flag, dest=f.name, help=f.metadata["help"], **_FIELD_KINDS[str(f.type)])
    for title, table, dest in (
        ("sampler settings (override the suite's)", SAMPLER_OPTIONS, "sampler_options"),
        ("learner settings (override the suite's)", LEARNER_OPTIONS, "learner_options"),
    ):
        group = train.add_argument_group(title)
        for name, option in table.items():
            flag = "--" + name.replace("_", "-")
            kind = dict(_KINDS[option.kind])
            if option.kind != "flag":
                kind["metavar"] = name.upper()
            group.add_argument(flag, dest=f"{dest}.{name}", help=option.help, **kind)


def _catalogue() -> str:
    """The suites, samplers and learners of the registries, one line each."""
    lines = ["suites:"]
    for name in SUITES:
        spec = suite_spec(name + "x" if name.endswith(":") else name)
        lines.append(f"  {name:<12} {spec.summary}")
    lines.append("samplers:")
    lines += [f"  {name:<12} {spec.summary}" for name, spec in SAMPLERS.items()]
    lines.append("learners (--algo):")
    lines += [f"  {name:<12} {spec.summary}" for name, spec in LEARNERS.items()]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="drats", description="Multi-task RL with DRATS adaptive task sampling.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser(
        "train",
        help="train an agent (DRATS on gridworld4 by default)",
        epilog=_catalogue(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument(
        "--out", type=Path, help="run directory (default runs/<suite>-<sampler>-seed<seed>)"
    )
    train.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue the run in DIR from its checkpoint",
    )
    train.add_argument("--no-progress", action="store_true", help="no live progress line")
    _add_train_options(train)

    sweep = sub.add_parser(
        "sweep",
        help="many runs from one command: samplers x settings x seeds, resumable",
        description="Runs every sampler x every --set combination x every seed as ordinary "
        "drats train runs in DIR/<group>/seed<k>/; rerunning the same command skips finished "
        "runs and resumes interrupted ones.",
    )
    sweep.add_argument("--suite", default="gridworld4", help="the task suite (default gridworld4)")
    sweep.add_argument("--algo", default="ppo", help="the learner (default ppo)")
    sweep.add_argument("--samplers", default="drats,uniform", help="comma-separated samplers")
    sweep.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-19 or 0,3,7 (default 0-4)")
    sweep.add_argument("--steps", type=int, help="budget of every run (the suite's by default)")
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=V1[,V2...]",
        help="a train setting for every run (one value) or a grid over it (several values); "
        "repeat for more settings, e.g. --set eta=8,16,32 --set eval_every=8192",
    )
    sweep.add_argument("--out", type=Path, required=True, help="the sweep directory")
    sweep.add_argument("--engine", default="local", choices=("local", "ray"))
    sweep.add_argument("--ray-address", help="a Ray cluster to join (default: a local Ray)")
    sweep.add_argument(
        "--workers", type=int, help="runs at once (default: the number of CPU cores)"
    )
    sweep.add_argument("--threads-per-run", type=int, default=1, help="threads of each run")

    ev = sub.add_parser("eval", help="evaluate a checkpoint (or the newest one in a run dir)")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--episodes", type=int, help="episodes per task (the run's setting)")
    ev.add_argument("--device", help="auto, cpu or cuda (default: the run's)")

    plot = sub.add_parser("plot", help="plot one or more runs to a PNG")
    plot.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR")
    plot.add_argument("--out", type=Path, help="PNG path (default: <first run>/curves.png)")

    report = sub.add_parser(
        "report",
        help="statistics of groups of runs with bootstrap CIs (report.json, report.md, PNGs)",
        description="Reads every run directory at or below each DIR (a run, a group of runs "
        "or a sweep of groups), groups runs whose configs differ only in the seed, and writes "
        "report.json, report.md and figures. See docs/report.md for the definitions.",
    )
    report.add_argument("dirs", type=Path, nargs="+", metavar="DIR")
    report.add_argument("--out", type=Path, help="report directory (default: <first DIR>/report)")
    report.add_argument(
        "--threshold", type=float, default=0.9, help="mean success counted as reached (0.9)"
    )
    report.add_argument(
        "--baseline",
        help="group for the probability of improvement (default: uniform, if there is one)",
    )
    report.add_argument("--reps", type=int, default=2000, help="bootstrap resamples (2000)")
    report.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    return parser


def _given(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The TrainConfig fields, sampler options and learner options given on the command line."""
    fields_given: dict[str, Any] = {}
    options: dict[str, dict[str, Any]] = {"sampler_options": {}, "learner_options": {}}
    for dest, value in vars(args).items():
        if value is None or dest in ("command", "out", "resume", "no_progress"):
            continue
        group, _, name = dest.partition(".")
        if name:
            options[group][name] = value
        else:
            fields_given[dest] = value
    return fields_given, options["sampler_options"], options["learner_options"]


def _train(args: argparse.Namespace) -> int:
    from drats.application.checkpoint import CheckpointStore, atomic_write_bytes, hold_run_lock
    from drats.application.report import steps_to_success, summary_table
    from drats.application.run_log import read_rows
    from drats.bootstrap import build, make_trainer
    from drats.domain.ports import MetricsSink

    given, sampler_opts, learner_opts = _given(args)
    if "workers" in given and given.get("backend") != "process":
        raise ConfigError("--workers applies to --backend process only")
    if "hidden" in learner_opts:
        learner_opts["hidden"] = tuple(learner_opts["hidden"])
    if args.resume is not None:
        run_dir = args.resume
        config_path = run_dir / "config.json"
        if not config_path.exists():
            raise ConfigError(f"--resume {run_dir}: no config.json there (not a drats run)")
        extra = sorted((set(given) - {"steps"}) | set(sampler_opts) | set(learner_opts))
        extra += ["out"] if args.out is not None else []
        if extra:
            names = ", ".join("--" + n.replace("_", "-") for n in extra)
            raise ConfigError(
                f"--resume takes the run's settings from {config_path}; "
                f"only --steps may change ({names} given)"
            )
        config = TrainConfig.from_json(config_path.read_text())
        if "steps" in given:
            config = config.with_steps(given["steps"])
    else:
        config = TrainConfig(**given, sampler_options=sampler_opts, learner_options=learner_opts)
        run_dir = (
            args.out
            or Path("runs")
            / f"{config.suite.replace(':', '_').replace(',', '+')}-{config.sampler}"
            f"-seed{config.seed}"
        )
        if run_dir.exists() and not run_dir.is_dir():
            raise ConfigError(f"--out {run_dir} is a file, not a run directory")
        if CheckpointStore(run_dir).latest() is not None:
            raise ConfigError(
                f"{run_dir} already holds a run; pass --resume {run_dir} or another --out"
            )
    # Everything is built (and so checked) before a new run directory is created, so a run
    # refused here leaves nothing behind.
    components = build(config)
    with contextlib.ExitStack() as stack:
        stack.callback(components.close)
        if args.resume is None:
            try:
                run_dir.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise ConfigError(
                    f"--out {run_dir}: cannot create the run directory ({err})"
                ) from None
        stack.enter_context(hold_run_lock(run_dir))
        if args.resume is None:
            atomic_write_bytes(run_dir / "config.json", config.to_json().encode())
        sinks: list[MetricsSink] = []
        from drats.adapters.sinks.tensorboard import TensorBoardSink, tensorboard_available

        if tensorboard_available():
            sinks.append(TensorBoardSink(run_dir / "tensorboard"))
        trainer = make_trainer(
            config, components, run_dir, sinks=sinks, progress=not args.no_progress
        )
        if args.resume is not None:
            if not trainer.restore():
                print(
                    f"drats: {run_dir} has no checkpoint yet; starting it from the beginning",
                    file=sys.stderr,
                )
            else:
                print(
                    f"drats: resuming {run_dir} at {trainer.counters.env_steps:,} env steps",
                    file=sys.stderr,
                )
        print(
            f"drats: training {config.sampler} on {config.suite} for {config.total_steps:,} "
            f"steps -> {run_dir}",
            file=sys.stderr,
        )
        trainer.run()
    print(summary_table(trainer, components.pool.task_names))
    reached = steps_to_success(read_rows(run_dir))
    if reached is not None:
        print(f"mean eval success first reached 0.90 at {reached:,} env steps")
    print(f"run directory: {run_dir}  (plot it with: drats plot {run_dir})")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import os

    from drats.application.sweep import SweepPlan, parse_grid, parse_seeds, run_sweep

    plan = SweepPlan(
        suite=args.suite,
        algo=args.algo,
        samplers=tuple(s.strip() for s in args.samplers.split(",") if s.strip()),
        seeds=parse_seeds(args.seeds),
        steps=args.steps,
        grid=parse_grid(args.set),
        threads_per_run=args.threads_per_run,
    )
    runs = plan.runs()  # every configuration is checked before anything starts
    workers = args.workers or len(os.sched_getaffinity(0))
    if args.engine == "ray":
        from drats.adapters.sweep.ray_engine import RayEngine

        engine: Any = RayEngine(workers, args.threads_per_run, address=args.ray_address)
    else:
        if args.ray_address is not None:
            raise ConfigError("--ray-address applies to --engine ray only")
        from drats.adapters.sweep.local import LocalEngine

        engine = LocalEngine(workers, args.threads_per_run)
    groups = len({r.group for r in runs})
    print(
        f"drats: sweep of {len(runs)} runs ({groups} groups x {len(plan.seeds)} seeds) "
        f"on {args.engine} with {workers} workers -> {args.out}",
        file=sys.stderr,
    )
    result = run_sweep(plan, args.out, engine)
    print(f"sweep directory: {args.out}  (summarise it with: drats report {args.out})")
    return 1 if result.failed else 0


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from drats.application.checkpoint import read_checkpoint, require
    from drats.application.evaluation import evaluate
    from drats.application.report import eval_table
    from drats.bootstrap import build_policy, build_pool

    meta, parts = read_checkpoint(args.checkpoint)
    require(meta, parts, meta_keys=("config", "env_steps"), part_names=("policy",))
    config = TrainConfig.from_json(str(meta["config"]))
    if args.device is not None:
        config = replace(config, device=args.device)
    episodes = args.episodes if args.episodes is not None else config.resolved("eval_episodes")
    pool = build_pool(config, evaluation=True)
    try:
        policy = build_policy(config, pool)
        policy.load_state_dict(parts["policy"])
        result = evaluate(policy, pool, episodes, greedy=config.greedy_eval)
    finally:
        pool.close()
    print(
        f"checkpoint {meta['path']} ({int(meta['env_steps']):,} env steps), "
        f"{episodes} episodes per task"
    )
    print(eval_table(result, pool.task_names))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from drats.application.plot import plot_runs

    out = plot_runs(args.runs, args.out)
    print(f"wrote {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from drats.application.study_report import ReportSettings, write_report

    settings = ReportSettings(
        threshold=args.threshold, baseline=args.baseline, reps=args.reps, seed=args.seed
    )
    _, text = write_report(args.dirs, args.out, settings)
    print(text)
    return 0


def _show_library_notes() -> None:
    """Print the package's INFO log records (one-off notes such as a Meta-World goal build)
    to stderr as ``drats: ...`` lines, once per process."""
    logger = logging.getLogger("drats")
    if not any(getattr(h, "_drats_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("drats: %(message)s"))
        handler._drats_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``drats`` console script; returns the exit status."""
    _show_library_notes()
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"train": _train, "sweep": _sweep, "eval": _eval, "plot": _plot, "report": _report}
    command = commands[args.command]
    try:
        return command(args)
    except DratsError as err:
        print(f"drats: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "drats: interrupted; `drats train --resume DIR` continues from the last checkpoint",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
