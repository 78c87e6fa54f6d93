"""The extension points of drats as plain data: suites, samplers and learners.

Each registry maps a name to an entry whose code is named by a lazy ``"module:attr"`` string, so
nothing heavy is imported until a run uses it. :class:`~drats.application.config.TrainConfig`,
the composition root (:mod:`drats.bootstrap`) and the command line all read these registries;
adding a suite, a sampler or a learner is one new module plus one line here (see
``docs/extending.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drats.domain.errors import ConfigError

# ------------------------------------------------------------------------------- suites


@dataclass(frozen=True)
class SuitePreset:
    """What a suite trains with unless the user says otherwise.

    Attributes:
        num_slots: environment slots N; None means one per task.
        rollout_steps: PPO: steps per slot in one rollout (one rollout is one sampler window).
        steps: default training budget in environment steps.
        eval_every: environment steps between evaluations.
        eval_episodes: evaluation episodes per task.
        eval_mode: ``greedy`` (the most likely action: Meta-World's protocol) or ``sampled``
            (actions drawn from the policy, as the paper evaluates GridWorld-4).
        checkpoint_every: environment steps between checkpoints.
        threads: torch CPU threads. A tiny network gains nothing from a second thread and loses
            much when another process holds the other core (each small op then waits for its
            partner thread to be scheduled).
        sampler: sampler settings (eta, step_size, eps, target, adaptive_target); eps defaults
            to 1/(4K) when absent.
        ppo: PPO settings that differ from :class:`~drats.adapters.learners.ppo_config.PPOConfig`'s
            defaults (which are the paper's Meta-World ones).
        sac: the off-policy defaults (``batch_size``, ``replay_size`` in transitions over all
            tasks, ``warmup_steps`` of random actions, ``window_steps`` = env steps per sampler
            window and log row, ``hidden``, optionally ``init_temperature``) and any of
            ``steps``, ``eval_every``, ``checkpoint_every`` that differ for SAC.
    """

    num_slots: int | None
    rollout_steps: int
    steps: int
    eval_every: int
    eval_episodes: int
    checkpoint_every: int
    sampler: Mapping[str, Any]
    eval_mode: str = "greedy"
    threads: int = 2
    ppo: Mapping[str, Any] = field(default_factory=dict)
    sac: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteSpec:
    """One suite: its preset and how its pools are built.

    Attributes:
        name: the ``--suite`` value (for a family of suites such as ``gym:``, the prefix).
        summary: one line for the command line's help and the docs.
        preset: the defaults a run of this suite trains with.
        pools: ``"module:attr"`` of ``build(config, *, evaluation) -> EnvPool``: the training
            pool, or with ``evaluation`` the pool evaluation episodes run in (its episodes end
            on success and its seed differs from the training pool's).
        extra: the pip extra the suite needs (``pip install 'drats[<extra>]'``), if any.
    """

    name: str
    summary: str
    preset: SuitePreset
    pools: str
    extra: str | None = None


#: name -> ``"module:attr"`` of its :class:`SuiteSpec`. A name ending in ``:`` is a prefix: the
#: suite ``gym:CartPole-v1,Acrobot-v1`` is the ``gym:`` suite over those env ids.
SUITES: dict[str, str] = {
    "gridworld4": "drats.suites.gridworld4:SUITE",
    "pointmass": "drats.suites.pointmass:SUITE",
    "mt10": "drats.suites.metaworld:MT10",
    "mt50": "drats.suites.metaworld:MT50",
    "gym:": "drats.suites.gym:SUITE",
}

# ------------------------------------------------------------------------------ samplers


@dataclass(frozen=True)
class SamplerSpec:
    """One task sampler.

    Attributes:
        adapter: ``"module:attr"`` of the class, called as ``cls(num_tasks, seed=..., **settings)``.
        summary: one line for the command line's help and the docs.
        aliases: run-setting name -> the class's own name for it (SMT calls its targets
            ``thresholds``).
    """

    adapter: str
    summary: str
    aliases: Mapping[str, str] = field(default_factory=dict)


SAMPLERS: dict[str, SamplerSpec] = {
    "drats": SamplerSpec(
        "drats.adapters.samplers.drats:DratsSampler",
        "DRATS: mirror ascent toward the tasks furthest from their target, with a floor (C++)",
    ),
    "uniform": SamplerSpec(
        "drats.adapters.samplers.uniform:UniformSampler", "every task 1/K (the DRATS code, step 0)"
    ),
    "hedge": SamplerSpec(
        "drats.adapters.samplers.hedge:HedgeSampler",
        "DoReMi-style Hedge on the return gaps (the earlier DRATS variant)",
        {"eps": "min_prob"},
    ),
    "lp": SamplerSpec(
        "drats.adapters.samplers.learning_progress:LearningProgressSampler",
        "Learning Progress: mirror ascent on |change of mean return|",
    ),
    "smt": SamplerSpec(
        "drats.adapters.samplers.smt:SmtSampler",
        "SMT, hard tasks first: an active pool of the hardest unsolved tasks",
        {"target": "thresholds"},
    ),
}

# ------------------------------------------------------------------------------ learners


@dataclass(frozen=True)
class LearnerSpec:
    """One learner: how its policy is built and which loop trains it.

    Attributes:
        policy: ``"module:attr"`` of ``build(config, pool) -> Policy``.
        trainer: ``"module:attr"`` of the training loop's class.
        summary: one line for the command line's help and the docs.
        off_policy: True when the loop needs a replay buffer.
    """

    policy: str
    trainer: str
    summary: str
    off_policy: bool = False


LEARNERS: dict[str, LearnerSpec] = {
    "ppo": LearnerSpec(
        "drats.bootstrap:build_ppo",
        "drats.application.onpolicy:OnPolicyTrainer",
        "multi-task PPO (on-policy)",
    ),
    "sac": LearnerSpec(
        "drats.bootstrap:build_sac",
        "drats.application.offpolicy:OffPolicyTrainer",
        "multi-task SAC on the per-task prioritized replay (off-policy)",
        off_policy=True,
    ),
}

# ------------------------------------------------------------------------------- lookups


def load(path: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute; a missing optional package
    is a ConfigError naming the extra to install."""
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as err:
        raise ConfigError(
            f"{path} needs a package that is not installed ({err.name}); "
            "install drats with the matching extra, e.g. pip install 'drats[metaworld]'"
        ) from None


def suite_names() -> str:
    """The suites for messages: ``gridworld4, pointmass, mt10, mt50 or gym:<id>[,<id>...]``."""
    names = [n + "<id>[,<id>...]" if n.endswith(":") else n for n in SUITES]
    return ", ".join(names[:-1]) + " or " + names[-1]


def suite_spec(suite: str) -> SuiteSpec:
    """The entry of ``suite`` (``gym:<ids>`` finds the ``gym:`` entry); ConfigError if none."""
    key = next((p for p in SUITES if p.endswith(":") and suite.startswith(p)), suite)
    if key not in SUITES:
        raise ConfigError(f"unknown suite {suite!r}; choose {suite_names()}")
    spec: SuiteSpec = load(SUITES[key])
    return spec


def sampler_spec(name: str) -> SamplerSpec:
    """The entry of sampler ``name``; ConfigError if none."""
    if name not in SAMPLERS:
        raise ConfigError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def learner_spec(name: str) -> LearnerSpec:
    """The entry of learner ``name``; ConfigError if none."""
    if name not in LEARNERS:
        raise ConfigError(f"unknown algo {name!r}; choose one of {', '.join(LEARNERS)}")
    return LEARNERS[name]


__all__ = [
    "LEARNERS",
    "SAMPLERS",
    "SUITES",
    "LearnerSpec",
    "SamplerSpec",
    "SuitePreset",
    "SuiteSpec",
    "learner_spec",
    "load",
    "sampler_spec",
    "suite_names",
    "suite_spec",
]
