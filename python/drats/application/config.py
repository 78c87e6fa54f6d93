"""Run configuration: one frozen dataclass, suite presets, and a JSON round trip (the config is
saved beside every run so ``--resume`` and ``drats eval`` rebuild the same components)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from drats.domain.errors import ConfigError

SAMPLERS = ("drats", "uniform", "hedge", "lp", "smt")
ALGOS = ("ppo", "sac")
NAMED_SUITES = ("gridworld4", "pointmass", "mt10", "mt50")
ALLOCATIONS = ("equal", "drats")


@dataclass(frozen=True)
class SuitePreset:
    """What a suite trains with unless the user says otherwise.

    Attributes:
        num_slots: environment slots N.
        rollout_steps: steps per slot in one PPO rollout (one rollout is one sampler window).
        steps: default training budget in environment steps.
        eval_every: environment steps between evaluations.
        eval_episodes: deterministic evaluation episodes per task.
        checkpoint_every: environment steps between checkpoints.
        sampler: default task-sampler options (eta, step_size, eps, target, adaptive_target).
        ppo: name of the PPO preset in :mod:`drats.adapters.learners.ppo_config`.
        sac: the off-policy defaults (``batch_size``, ``replay_size`` in transitions over all
            tasks, ``warmup_steps`` of random actions, ``window_steps`` = env steps per
            sampler window and log row, ``hidden``, optionally ``init_temperature``) and any
            of ``steps``, ``eval_every``,
            ``checkpoint_every`` that differ for SAC; empty when SAC does not apply.
    """

    num_slots: int | None
    rollout_steps: int
    steps: int
    eval_every: int
    eval_episodes: int
    checkpoint_every: int
    sampler: dict[str, Any]
    ppo: str
    sac: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, SuitePreset] = {
    # The paper's didactic setting: eta 16, step 3.2, eps 0.01, window 256 steps, target 1.
    "gridworld4": SuitePreset(
        num_slots=4,
        rollout_steps=64,
        steps=300_000,
        eval_every=8_192,
        eval_episodes=5,
        checkpoint_every=50_000,
        # Discrete SAC (categorical actor, one Q per action); windows of 256 steps as PPO's.
        sac={
            "steps": 200_000,
            "batch_size": 256,
            "replay_size": 100_000,
            "warmup_steps": 2_000,
            "window_steps": 256,
            "hidden": (64, 64),
            # Rewards are 1 at the goal and -0.001 per step: a small temperature, or entropy
            # would drown them.
            "init_temperature": 0.01,
        },
        sampler={
            "eta": 16.0,
            "step_size": 3.2,
            "eps": 0.01,
            "target": 1.0,
            "adaptive_target": False,
        },
        ppo="GRIDWORLD_PPO",
    ),
    # A cheap continuous suite for off-policy learners: SAC + DRATS solves it in minutes.
    "pointmass": SuitePreset(
        num_slots=4,
        rollout_steps=512,
        steps=200_000,
        eval_every=10_000,
        eval_episodes=5,
        checkpoint_every=20_000,
        sampler={"eta": 8.0, "step_size": 0.5, "target": 10.0, "adaptive_target": True},
        ppo="GYM_PPO",
        sac={
            "steps": 60_000,
            "eval_every": 4_000,
            "checkpoint_every": 10_000,
            "batch_size": 256,
            "replay_size": 200_000,
            "warmup_steps": 2_000,
            "window_steps": 2_000,
            "hidden": (256, 256),
            # Per-step rewards here are ~0.1 (Meta-World's are up to 10): a temperature
            # starting at 1 would make entropy outweigh the task for thousands of updates.
            "init_temperature": 0.1,
        },
    ),
    # Meta-World (paper): eta 8, step 0.5, eps 1/(4K), 10,000 steps per slot per window.
    "mt10": SuitePreset(
        num_slots=10,
        rollout_steps=10_000,
        steps=100_000_000,
        eval_every=2_000_000,
        eval_episodes=50,
        checkpoint_every=1_000_000,
        sampler={"eta": 8.0, "step_size": 0.5, "target": 5000.0, "adaptive_target": True},
        ppo="METAWORLD_PPO",
        # Meta-World's MT-SAC standard: batch 128 per task, replay 1M, 2M steps per task.
        sac={
            "steps": 20_000_000,
            "eval_every": 500_000,
            "checkpoint_every": 500_000,
            "batch_size": 1_280,
            "replay_size": 1_000_000,
            "warmup_steps": 10_000,
            "window_steps": 10_000,
            "hidden": (400, 400, 400),
        },
    ),
    "mt50": SuitePreset(
        num_slots=50,
        rollout_steps=10_000,
        steps=500_000_000,
        eval_every=10_000_000,
        eval_episodes=50,
        checkpoint_every=5_000_000,
        sampler={"eta": 8.0, "step_size": 0.5, "target": 5000.0, "adaptive_target": True},
        ppo="MT50_PPO",
        sac={
            "steps": 100_000_000,
            "eval_every": 2_500_000,
            "checkpoint_every": 2_500_000,
            "batch_size": 6_400,
            "replay_size": 1_000_000,
            "warmup_steps": 50_000,
            "window_steps": 50_000,
            "hidden": (400, 400, 400),
        },
    ),
    # Gymnasium sets (the paper's 6-task MuJoCo: eta 8, step 0.8, eps 1/24, 12,288-step
    # windows); one slot per task, 2048 steps per slot.
    "gym": SuitePreset(
        num_slots=None,
        rollout_steps=2_048,
        steps=1_000_000,
        eval_every=100_000,
        eval_episodes=10,
        checkpoint_every=100_000,
        sampler={"eta": 8.0, "step_size": 0.8, "target": 1000.0, "adaptive_target": True},
        ppo="GYM_PPO",
        sac={
            "batch_size": 1_024,
            "replay_size": 1_000_000,
            "warmup_steps": 10_000,
            "window_steps": 12_288,
            "hidden": (256, 256),
        },
    ),
}


def preset_for(suite: str) -> SuitePreset:
    """The preset of ``suite`` (``gym:<ids>`` suites share the ``gym`` one)."""
    key = "gym" if suite.startswith("gym:") else suite
    if key not in PRESETS:
        raise ConfigError(
            f"unknown suite {suite!r}; choose gridworld4, pointmass, mt10, mt50 or "
            "gym:<id>[,<id>...]"
        )
    return PRESETS[key]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved as ``config.json`` in the run directory).

    Attributes:
        suite: ``gridworld4``, ``pointmass``, ``mt10``, ``mt50`` or ``gym:<id>,<id>,...``.
        algo: learner: ``ppo`` (on-policy) or ``sac`` (off-policy, continuous actions).
        sampler: task sampler: ``drats``, ``uniform``, ``hedge``, ``lp`` or ``smt``.
        steps: training budget in environment steps (all slots together).
        seed: seeds the pool, the sampler and the policy.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        num_slots: environment slots; None takes the suite's preset.
        rollout_steps: steps per slot per rollout; None takes the preset.
        eval_every, eval_episodes, checkpoint_every: None take the preset; 0 disables
            evaluation (or checkpoints before the last one).
        max_episode_steps: time limit of training episodes; None keeps the suite's own
            (500 for Meta-World, each env's for Gymnasium; GridWorld-4 is fixed at 15).
        backend: env-pool backend for Meta-World: ``inprocess`` or ``process``.
        workers: worker processes of the ``process`` backend.
        threads: torch CPU threads (the machines have 2 cores).
        sampler_options: overrides of the sampler's settings (eta, step_size, eps, target...).
        learner_options: overrides of the learner preset's settings (PPO: lr, epochs, clip...;
            SAC: actor_lr, hidden, ...).
        replay_alloc: SAC: how a batch is split over tasks, ``equal`` or ``drats`` (in
            proportion to the sampler's q, at least one row per non-empty task).
        per: SAC: prioritized replay inside each task (False is uniform, alpha = 0).
        per_alpha, per_beta: SAC: prioritization exponent and importance-weight exponent.
        batch_size, replay_size, warmup_steps, window_steps: SAC; None take the preset.
        updates_per_step: SAC gradient steps per vector-env step (fractions accumulate).
    """

    suite: str = "gridworld4"
    algo: str = "ppo"
    sampler: str = "drats"
    steps: int | None = None
    seed: int = 0
    device: str = "auto"
    num_slots: int | None = None
    rollout_steps: int | None = None
    eval_every: int | None = None
    eval_episodes: int | None = None
    checkpoint_every: int | None = None
    max_episode_steps: int | None = None
    backend: str = "inprocess"
    workers: int = 2
    threads: int = 2
    sampler_options: dict[str, Any] = field(default_factory=dict)
    learner_options: dict[str, Any] = field(default_factory=dict)
    replay_alloc: str = "equal"
    per: bool = True
    per_alpha: float = 0.6
    per_beta: float = 0.4
    batch_size: int | None = None
    replay_size: int | None = None
    warmup_steps: int | None = None
    window_steps: int | None = None
    updates_per_step: float = 1.0

    def __post_init__(self) -> None:
        self._check_types()
        preset_for(self.suite)  # an unknown suite fails here
        if self.suite.startswith("gym:") and not self.suite[4:].strip(","):
            raise ConfigError("suite gym:<ids> needs at least one Gymnasium env id")
        if self.algo not in ALGOS:
            raise ConfigError(f"unknown algo {self.algo!r}; choose one of {', '.join(ALGOS)}")
        if self.sampler not in SAMPLERS:
            raise ConfigError(
                f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}"
            )
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.replay_alloc not in ALLOCATIONS:
            raise ConfigError(
                f"replay_alloc must be one of {', '.join(ALLOCATIONS)}, got {self.replay_alloc!r}"
            )
        if not 0.0 <= self.per_alpha <= 1.0 or not 0.0 <= self.per_beta <= 1.0:
            raise ConfigError("per_alpha and per_beta must lie in [0, 1]")
        if not (self.updates_per_step > 0 and math.isfinite(self.updates_per_step)):
            raise ConfigError(f"updates_per_step must be > 0, got {self.updates_per_step}")
        if self.backend not in ("inprocess", "process"):
            raise ConfigError(f"backend must be inprocess or process, got {self.backend!r}")
        positive = {
            "steps": self.steps,
            "num_slots": self.num_slots,
            "rollout_steps": self.rollout_steps,
            "eval_episodes": self.eval_episodes,
            "max_episode_steps": self.max_episode_steps,
            "batch_size": self.batch_size,
            "replay_size": self.replay_size,
            "window_steps": self.window_steps,
            "workers": self.workers,
            "threads": self.threads,
        }
        for name, value in positive.items():
            if value is not None and (isinstance(value, bool) or int(value) < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value}")
        for name in ("eval_every", "checkpoint_every", "warmup_steps"):
            value = getattr(self, name)
            if value is not None and int(value) < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")

    def _check_types(self) -> None:
        """ConfigError naming the first field whose value is not of its declared type (a
        config.json edited by hand, or a TrainConfig built in code); bools are not ints."""
        allowed: dict[str, tuple[type, ...]] = {
            "str": (str,),
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

    # -------------------------------------------------------------------- resolved values

    @property
    def preset(self) -> SuitePreset:
        return preset_for(self.suite)

    @property
    def total_steps(self) -> int:
        return self.resolved("steps")

    def resolved(self, name: str) -> int:
        """A schedule or size setting (``steps``, ``num_slots``, ``rollout_steps``,
        ``eval_every``, ``eval_episodes``, ``checkpoint_every``, ``batch_size``,
        ``replay_size``, ``warmup_steps``, ``window_steps``) with None replaced by the suite
        preset (SAC's own defaults first when ``algo`` is ``sac``)."""
        value = getattr(self, name)
        if value is not None:
            return int(value)
        preset = self.preset
        if self.algo == "sac" and name in preset.sac:
            return int(preset.sac[name])
        return int(getattr(preset, name))

    def sampler_settings(self, num_tasks: int) -> dict[str, Any]:
        """Preset sampler options overlaid with the user's; eps defaults to 1/(4K)."""
        settings = dict(self.preset.sampler)
        settings.setdefault("eps", 1.0 / (4 * num_tasks))
        settings.update(self.sampler_options)
        eps = settings.get("eps")
        if eps is not None and (not math.isfinite(eps) or eps < 0 or eps * num_tasks > 1):
            raise ConfigError(
                f"eps must satisfy 0 <= eps and eps * K <= 1 (K={num_tasks}), got {eps}"
            )
        return settings

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
