"""Run configuration: one frozen dataclass whose fields carry their own help (the command line
is built from them) and a JSON round trip (the config is saved beside every run so ``--resume``
and ``drats eval`` rebuild the same components). Suite defaults come from
:mod:`drats.application.registry`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from drats.application.registry import (
    LEARNERS,
    SAMPLERS,
    SuitePreset,
    learner_spec,
    sampler_spec,
    suite_names,
    suite_spec,
)
from drats.domain.checks import as_floor, as_int_in_range
from drats.domain.errors import ConfigError

ALLOCATIONS = ("equal", "drats")
BACKENDS = ("inprocess", "process")
EVAL_MODES = ("greedy", "sampled")


def _field(default: Any, help: str, *, algo: str | None = None, cli: bool = True) -> Any:
    """A TrainConfig field with its help text; ``algo`` names the only learner it applies to
    (a value other than the default is refused for the others); ``cli=False`` keeps it off the
    command line."""
    return field(default=default, metadata={"help": help, "algo": algo, "cli": cli})


@dataclass(frozen=True)
class Option:
    """A command-line option that lands in ``sampler_options`` or ``learner_options``.

    Attributes:
        kind: ``float``, ``int``, ``floats`` (one value or one per task), ``ints`` (a
            comma-separated list) or ``flag`` (present or not).
        help: the help text, saying what it sets for each sampler or learner.
    """

    kind: str
    help: str


#: ``--<name>`` options that set the sampler's settings (``TrainConfig.sampler_options``).
SAMPLER_OPTIONS: dict[str, Option] = {
    "eta": Option("float", "DRATS, LP: KL strength eta (q's fixed point is softmax(eta * gap))"),
    "step_size": Option("float", "DRATS, LP: mirror-ascent step size (step_size / eta <= 1)"),
    "eps": Option("float", "probability floor of every task (default 1/(4K) or the suite's)"),
    "target": Option(
        "floats", "target return, one value or one per task (e.g. 4000,5000,...); SMT: thresholds"
    ),
    "gap": Option(
        "str",
        "DRATS, Uniform, Hedge: the return gap, target ((tau - R) / tau, the paper's) or range "
        "((best - R) / (best - worst), any reward scale; the gym: suite's default)",
    ),
}
#: The values of the ``gap`` sampler option.
GAPS = ("target", "range")

#: ``--<name>`` options that set the learner's settings (``TrainConfig.learner_options``).
LEARNER_OPTIONS: dict[str, Option] = {
    "lr": Option(
        "float",
        "learning rate: PPO's actor and critic optimisers; SAC's actor, critic and temperature",
    ),
    "epochs": Option("int", "PPO: epochs over each rollout"),
    "minibatches": Option("int", "PPO: minibatches per epoch"),
    "clip": Option("float", "PPO: ratio clip"),
    "ent_coef": Option("float", "PPO: entropy bonus weight"),
    "hidden": Option("ints", "PPO and SAC: hidden widths, e.g. 400,400,400 (empty: linear PPO)"),
    "fast_matmul": Option(
        "flag", "SAC: bfloat16 matmul inputs on CPUs with AMX/AVX512-BF16 (TF32 on CUDA)"
    ),
}


_OPTIONS_META = {
    kind: {"help": f"overrides of the {kind}'s settings ({table})", "algo": None, "cli": False}
    for kind, table in (("sampler", "SAMPLER_OPTIONS"), ("learner", "LEARNER_OPTIONS"))
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved as ``config.json`` in the run directory).

    Every field's help text is in its metadata (``fields(TrainConfig)``), which is also the
    ``drats train`` help. None means "the suite's preset" wherever a field allows it.
    """

    suite: str = _field("gridworld4", f"the task suite: {suite_names()}")
    algo: str = _field("ppo", "the learner: " + ", ".join(LEARNERS))
    sampler: str = _field("drats", "the task sampler: " + ", ".join(SAMPLERS))
    steps: int | None = _field(None, "training budget in env steps, all slots together")
    seed: int = _field(0, "seeds the pools, the sampler and the policy")
    device: str = _field("auto", "auto (CUDA when available), cpu, cuda or cuda:<index>")
    num_slots: int | None = _field(None, "environment slots, each able to play any task")
    rollout_steps: int | None = _field(
        None, "PPO: steps per slot per rollout (one rollout is one sampler window)", algo="ppo"
    )
    eval_every: int | None = _field(None, "env steps between evaluations (0: none)")
    eval_episodes: int | None = _field(None, "evaluation episodes per task")
    eval_mode: str | None = _field(
        None, "evaluation actions: greedy (the most likely) or sampled (the suite's default)"
    )
    checkpoint_every: int | None = _field(
        None, "env steps between checkpoints (0: only at the end)"
    )
    max_episode_steps: int | None = _field(
        None, "time limit of training episodes (the suite's own: 500 for Meta-World)"
    )
    backend: str = _field("inprocess", "env-pool backend: inprocess or process (worker processes)")
    workers: int = _field(2, "worker processes of the process backend")
    threads: int | None = _field(
        None, "torch CPU threads (the suite's default: 1 for GridWorld-4, 2 otherwise)"
    )
    sampler_options: dict[str, Any] = field(default_factory=dict, metadata=_OPTIONS_META["sampler"])
    learner_options: dict[str, Any] = field(default_factory=dict, metadata=_OPTIONS_META["learner"])
    replay_alloc: str = _field(
        "equal",
        "SAC: split each batch over tasks: equal, or drats (in proportion to q)",
        algo="sac",
    )
    per: bool = _field(True, "SAC: prioritized replay inside each task", algo="sac")
    per_alpha: float = _field(0.6, "SAC: prioritization exponent", algo="sac")
    per_beta: float = _field(0.4, "SAC: importance-weight exponent", algo="sac")
    batch_size: int | None = _field(None, "SAC: batch size over all tasks", algo="sac")
    replay_size: int | None = _field(
        None, "SAC: replay capacity in transitions over all tasks", algo="sac"
    )
    warmup_steps: int | None = _field(
        None, "SAC: env steps of random actions before learning", algo="sac"
    )
    window_steps: int | None = _field(
        None, "SAC: env steps per sampler window and log row", algo="sac"
    )
    updates_per_step: float = _field(
        1.0, "SAC: gradient steps per vector-env step (fractions accumulate)", algo="sac"
    )

    def __post_init__(self) -> None:
        self._check_types()
        suite_spec(self.suite)  # an unknown suite fails here
        if self.suite.startswith("gym:") and not self.suite[4:].strip(","):
            raise ConfigError("suite gym:<ids> needs at least one Gymnasium env id")
        learner_spec(self.algo)
        sampler_spec(self.sampler)
        self._check_applies()
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be auto, cpu or cuda, got {self.device!r}")
        gap = self.sampler_options.get("gap", "target")
        if not isinstance(gap, str) or gap not in GAPS:
            raise ConfigError(f"gap must be target or range, got {gap!r}")
        target = self.sampler_options.get("target")
        if target is not None:
            values = target if isinstance(target, list | tuple) else [target]
            if not values or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in values
            ):
                raise ConfigError(f"target must be finite numbers, got {target!r}")
        if self.eval_mode not in (None, *EVAL_MODES):
            raise ConfigError(f"eval_mode must be greedy or sampled, got {self.eval_mode!r}")
        for name, allowed in (("replay_alloc", ALLOCATIONS), ("backend", BACKENDS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        if not 0.0 <= self.per_alpha <= 1.0 or not 0.0 <= self.per_beta <= 1.0:
            raise ConfigError("per_alpha and per_beta must lie in [0, 1]")
        if not (self.updates_per_step > 0 and math.isfinite(self.updates_per_step)):
            raise ConfigError(f"updates_per_step must be > 0, got {self.updates_per_step}")
        positive = (
            "steps", "num_slots", "rollout_steps", "eval_episodes", "max_episode_steps",
            "batch_size", "replay_size", "window_steps", "workers", "threads",
        )  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value}")
        for name in ("eval_every", "checkpoint_every", "warmup_steps"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}")
        # A run's seed also seeds derived streams (the evaluation pool's is seed + 1,000,003),
        # so it is kept well inside the 64-bit range every component accepts.
        as_int_in_range(self.seed, "seed", 0, 2**63 - 1)

    def _check_types(self) -> None:
        """ConfigError naming the first field whose value is not of its declared type (a
        config.json edited by hand, or a TrainConfig built in code); bools are not ints."""
        allowed: dict[str, tuple[type, ...]] = {
            "str": (str,),
            "str | None": (str, type(None)),
            "int": (int,),
            "int | None": (int, type(None)),
            "float": (int, float),
            "bool": (bool,),
            "dict[str, Any]": (dict,),
        }
        for f in fields(self):
            value = getattr(self, f.name)
            kinds = allowed[str(f.type)]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise ConfigError(f"{f.name} must be of type {f.type}, got {value!r}")

    def _check_applies(self) -> None:
        """ConfigError for a setting given (not left at its default) that the learner does
        not use, rather than ignoring it silently."""
        for f in fields(self):
            algo = f.metadata.get("algo")
            if algo is None or algo == self.algo:
                continue
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            if getattr(self, f.name) != default:
                raise ConfigError(
                    f"{f.name} applies to --algo {algo} only; this run's algo is {self.algo}"
                )

    # -------------------------------------------------------------------- resolved values

    @property
    def preset(self) -> SuitePreset:
        return suite_spec(self.suite).preset

    @property
    def total_steps(self) -> int:
        return self.resolved("steps")

    def resolved(self, name: str) -> int:
        """A schedule or size setting (``steps``, ``num_slots``, ``rollout_steps``,
        ``eval_every``, ``eval_episodes``, ``checkpoint_every``, ``batch_size``,
        ``replay_size``, ``warmup_steps``, ``window_steps``, ``threads``) with None replaced by
        the suite preset (SAC's own defaults first when ``algo`` is ``sac``)."""
        value = getattr(self, name)
        if value is not None:
            return int(value)
        preset = self.preset
        if self.algo == "sac" and name in preset.sac:
            return int(preset.sac[name])
        return int(getattr(preset, name))

    @property
    def greedy_eval(self) -> bool:
        """Whether evaluation takes the most likely action (else it samples the policy)."""
        return (self.eval_mode or self.preset.eval_mode) == "greedy"

    def sampler_settings(self, num_tasks: int) -> dict[str, Any]:
        """Preset sampler options overlaid with the user's; eps defaults to 1/(4K)."""
        settings = dict(self.preset.sampler)
        settings.setdefault("eps", 1.0 / (4 * num_tasks))
        settings.update(self.sampler_options)
        if settings.get("eps") is not None:
            as_floor(settings["eps"], num_tasks)
        return settings

    def return_targets(
        self, num_tasks: int, task_targets: Sequence[float] | None
    ) -> list[float | None]:
        """Per task, the target return a report scales the task's returns by when it has no
        success signal: the user's ``--target`` (one value or one per task), else the target
        the task carries (``task_targets``, NaN where none: e.g. a Gymnasium
        ``reward_threshold``); None where neither is a finite number > 0."""
        given = self.sampler_options.get("target")
        values: list[Any]
        if isinstance(given, list | tuple) and len(given) == num_tasks:
            values = list(given)
        elif isinstance(given, int | float):
            values = [given] * num_tasks
        elif task_targets is not None and len(task_targets) == num_tasks:
            values = [float(t) for t in task_targets]
        else:
            values = [None] * num_tasks
        return [
            float(v)
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            else None
            for v in values
        ]

    # -------------------------------------------------------------------- persistence

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"config.json is not valid JSON: {err}") from None
        if not isinstance(raw, dict):
            raise ConfigError("config.json must hold an object")
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ConfigError(f"config.json has unknown field(s) {sorted(unknown)}")
        return cls(**raw)

    def with_steps(self, steps: int) -> TrainConfig:
        return replace(self, steps=steps)
