"""The ``drats`` command: ``drats train``, ``drats eval CHECKPOINT`` and ``drats plot RUN_DIR...``.

Invalid options end with a one-line ``drats: error: ...`` and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from drats.domain.errors import ConfigError, DratsError

# Options of `drats train` that go into TrainConfig fields (dest -> field).
_FIELDS = (
    "suite",
    "algo",
    "sampler",
    "steps",
    "seed",
    "device",
    "num_slots",
    "rollout_steps",
    "eval_every",
    "eval_episodes",
    "checkpoint_every",
    "max_episode_steps",
    "backend",
    "workers",
    "threads",
    "replay_alloc",
    "per",
    "batch_size",
    "replay_size",
    "warmup_steps",
    "window_steps",
    "updates_per_step",
)
_SAMPLER_OPTIONS = ("eta", "step_size", "eps", "target")
_LEARNER_OPTIONS = ("lr", "epochs", "minibatches", "clip", "ent_coef", "hidden", "fast_matmul")


def _floats(text: str) -> float | list[float]:
    """``"5"`` -> 5.0; ``"1,2,3"`` -> [1.0, 2.0, 3.0] (a value per task)."""
    values = [float(part) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected a number or comma-separated numbers: {text!r}")
    return values[0] if len(values) == 1 and "," not in text else values


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"drats: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="drats", description="Multi-task RL with DRATS adaptive task sampling.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train an agent (DRATS on gridworld4 by default)")
    add = train.add_argument
    add("--suite", help="gridworld4 (default), pointmass, mt10, mt50 or gym:<id>[,<id>...]")
    add("--algo", help="learner: ppo (default) or sac (off-policy, continuous actions)")
    add("--sampler", help="task sampler: drats (default), uniform, hedge, lp or smt")
    add("--steps", type=int, help="training budget in environment steps (suite default)")
    add("--seed", type=int, help="seed of pool, sampler and policy (default 0)")
    add("--out", type=Path, help="run directory (default runs/<suite>-<sampler>-seed<seed>)")
    add(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue the run in DIR from its last checkpoint",
    )
    add("--device", help="auto (default: CUDA when available), cpu or cuda")
    add("--num-slots", type=int, help="environment slots (suite default)")
    add("--rollout-steps", type=int, help="steps per slot per PPO rollout / sampler window")
    add("--eval-every", type=int, help="env steps between evaluations (0: only at the end)")
    add("--eval-episodes", type=int, help="deterministic evaluation episodes per task")
    add("--checkpoint-every", type=int, help="env steps between checkpoints")
    add("--max-episode-steps", type=int, help="time limit of training episodes (suite's own)")
    add("--backend", help="Meta-World pool backend: inprocess (default) or process")
    add("--workers", type=int, help="worker processes of the process backend (default 2)")
    add("--threads", type=int, help="torch CPU threads (default 2)")
    add("--eta", type=float, help="DRATS/LP KL strength")
    add("--step-size", type=float, help="DRATS/LP mirror-ascent step size")
    add("--eps", type=float, help="probability floor (default 1/(4K) or the suite's)")
    add(
        "--target",
        type=_floats,
        help="target return, one value or one per task (e.g. 4000,5000,...); SMT: thresholds",
    )
    add("--lr", type=float, help="PPO learning rate")
    add("--epochs", type=int, help="PPO epochs per rollout")
    add("--minibatches", type=int, help="PPO minibatches per epoch")
    add("--clip", type=float, help="PPO ratio clip")
    add("--ent-coef", type=float, help="PPO entropy bonus")
    add("--hidden", type=lambda s: [int(x) for x in s.split(",") if x], help="e.g. 400,400,400")
    add(
        "--fast-matmul",
        action="store_const",
        const=True,
        help="SAC: bfloat16 matmul inputs on CPUs with AMX/AVX512-BF16 (TF32 on CUDA)",
    )
    add("--replay-alloc", help="SAC: split each batch over tasks: equal (default) or drats (by q)")
    add("--per", action=argparse.BooleanOptionalAction, help="SAC: prioritized replay per task")
    add("--batch-size", type=int, help="SAC batch size (suite default)")
    add("--replay-size", type=int, help="SAC replay capacity, transitions over all tasks")
    add("--warmup-steps", type=int, help="SAC env steps of random actions before learning")
    add("--window-steps", type=int, help="SAC env steps per sampler window / log row")
    add("--updates-per-step", type=float, help="SAC gradient steps per vector-env step")
    add("--no-progress", action="store_true", help="no live progress line")

    ev = sub.add_parser("eval", help="evaluate a checkpoint (or the newest one in a run dir)")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--episodes", type=int, help="episodes per task (the run's setting)")
    ev.add_argument("--device", help="auto, cpu or cuda (default: the run's)")

    plot = sub.add_parser("plot", help="plot one or more runs to a PNG")
    plot.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR")
    plot.add_argument("--out", type=Path, help="PNG path (default: <first run>/curves.png)")
    return parser


def _train(args: argparse.Namespace) -> int:
    from drats.application.checkpoint import CheckpointStore, atomic_write_bytes
    from drats.application.config import TrainConfig
    from drats.application.report import steps_to_success, summary_table
    from drats.application.run_log import MetricsSink, read_rows
    from drats.bootstrap import build, make_trainer

    given = {name: getattr(args, name) for name in _FIELDS if getattr(args, name) is not None}
    sampler_opts = {n: getattr(args, n) for n in _SAMPLER_OPTIONS if getattr(args, n) is not None}
    learner_opts = {n: getattr(args, n) for n in _LEARNER_OPTIONS if getattr(args, n) is not None}
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
    try:
        if args.resume is None:
            try:
                run_dir.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise ConfigError(
                    f"--out {run_dir}: cannot create the run directory ({err})"
                ) from None
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
    finally:
        components.pool.close()
        components.eval_pool.close()
    print(summary_table(trainer, components.pool.task_names))
    reached = steps_to_success(read_rows(run_dir))
    if reached is not None:
        print(f"mean eval success first reached 0.90 at {reached:,} env steps")
    print(f"run directory: {run_dir}  (plot it with: drats plot {run_dir})")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from drats.application.checkpoint import read_checkpoint, require
    from drats.application.config import TrainConfig
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
        result = evaluate(policy, pool, episodes)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``drats`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = {"train": _train, "eval": _eval, "plot": _plot}[args.command]
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
