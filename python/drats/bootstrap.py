"""The composition root: builds the adapters a :class:`TrainConfig` names, through registries
of lazy ``"module:attr"`` strings, so ``import drats`` stays light and tests can pass their own
adapters to the trainer instead."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drats.application.config import TrainConfig
from drats.application.offpolicy import OffPolicyTrainer
from drats.application.run_log import MetricsSink
from drats.application.trainer import Trainer
from drats.domain.errors import ConfigError
from drats.domain.ports import EnvPool, Policy, ReplayBuffer, TaskSampler

SAMPLER_REGISTRY: dict[str, str] = {
    "drats": "drats.adapters.samplers.drats:DratsSampler",
    "uniform": "drats.adapters.samplers.uniform:UniformSampler",
    "hedge": "drats.adapters.samplers.hedge:HedgeSampler",
    "lp": "drats.adapters.samplers.learning_progress:LearningProgressSampler",
    "smt": "drats.adapters.samplers.smt:SmtSampler",
}

# Sampler settings that differ in name between samplers.
_ALIASES = {"smt": {"target": "thresholds"}, "hedge": {"eps": "min_prob"}}


def load(path: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as err:
        raise ConfigError(
            f"{path} needs a package that is not installed ({err.name}); "
            "install drats with the matching extra, e.g. pip install 'drats[metaworld]'"
        ) from None


@dataclass
class Components:
    """The adapters one run uses (the trainer sees them only through their ports)."""

    pool: EnvPool
    eval_pool: EnvPool
    sampler: TaskSampler
    policy: Policy
    replay: ReplayBuffer | None = None


def build_pool(config: TrainConfig, *, evaluation: bool = False) -> EnvPool:
    """The training pool (or, with ``evaluation``, the pool evaluation episodes run in: its
    episodes end on success and its seed differs from the training pool's)."""
    seed = config.seed + (1_000_003 if evaluation else 0)
    suite = config.suite
    if suite == "pointmass":
        cls = load("drats.adapters.envs.pointmass:PointMassEnvPool")
        slots = 4 if evaluation else config.resolved("num_slots")
        kwargs: dict[str, Any] = {"seed": seed, "terminate_on_success": True}
        if config.max_episode_steps is not None:
            raise ConfigError("pointmass episodes have a fixed horizon")
        return cls(slots, **kwargs)  # type: ignore[no-any-return]
    if suite == "gridworld4":
        from drats.adapters.envs.gridworld import GridWorldEnvPool

        slots = 4 if evaluation else config.resolved("num_slots")
        if config.max_episode_steps is not None:
            raise ConfigError("gridworld4 episodes have a fixed 15-step horizon")
        return GridWorldEnvPool(slots, seed=seed)
    if suite in ("mt10", "mt50"):
        cls = load("drats.adapters.envs.metaworld:MetaWorldEnvPool")
        k = 10 if suite == "mt10" else 50
        slots = k if evaluation else config.resolved("num_slots")
        return cls(  # type: ignore[no-any-return]
            suite,
            slots,
            seed=seed,
            terminate_on_success=evaluation,
            backend=config.backend,
            num_workers=config.workers,
            max_episode_steps=config.max_episode_steps or 500,
        )
    ids = [part.strip() for part in suite[4:].split(",") if part.strip()]
    cls = load("drats.adapters.envs.gym_tasks:GymEnvPool")
    slots = len(ids) if evaluation or config.num_slots is None else config.resolved("num_slots")
    return cls(  # type: ignore[no-any-return]
        ids,
        slots,
        seed=seed,
        terminate_on_success=evaluation,
        max_episode_steps=config.max_episode_steps,
    )


def build_sampler(config: TrainConfig, num_tasks: int) -> TaskSampler:
    """The task sampler ``config.sampler`` names, with the suite's settings and the user's."""
    cls = load(SAMPLER_REGISTRY[config.sampler])
    settings = config.sampler_settings(num_tasks)
    aliases = _ALIASES.get(config.sampler, {})
    accepted = set(inspect.signature(cls).parameters) - {"num_tasks", "seed"}
    kwargs: dict[str, Any] = {}
    for name, value in settings.items():
        name = aliases.get(name, name)
        if name in accepted:
            kwargs[name] = value
        elif name in config.sampler_options:
            raise ConfigError(f"sampler {config.sampler!r} takes no option {name!r}")
    return cls(num_tasks, seed=config.seed, **kwargs)  # type: ignore[no-any-return]


def build_policy(config: TrainConfig, pool: EnvPool) -> Policy:
    """The learner ``config.algo`` names, sized for ``pool``."""
    options = dict(config.learner_options)  # PPOConfig / SACConfig check every option
    load("drats.adapters.learners.torch_nets:set_threads")(config.threads)
    if config.algo == "sac":
        from drats.adapters.learners.sac_config import SACConfig

        if "lr" in options:  # one --lr sets actor, critic and temperature rates
            lr = options.pop("lr")
            options.update(actor_lr=lr, critic_lr=lr, alpha_lr=lr)
        unknown = set(options) - set(SACConfig.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"sac takes no option(s) {sorted(unknown)}")
        options.setdefault("hidden", tuple(config.preset.sac.get("hidden", (256, 256))))
        if "init_temperature" in config.preset.sac:
            options.setdefault("init_temperature", config.preset.sac["init_temperature"])
        sac = SACConfig(batch_size=config.resolved("batch_size")).replace(**options)
        cls = load("drats.adapters.learners.sac:TorchSACPolicy")
        return cls(  # type: ignore[no-any-return]
            pool.obs_dim, pool.action_dim, pool.num_tasks, config=sac,
            device=config.device, seed=config.seed, discrete=pool.discrete,
        )  # fmt: skip
    from drats.adapters.learners import ppo_config

    ppo = getattr(ppo_config, config.preset.ppo).replace(**options)
    cls = load("drats.adapters.learners.ppo:TorchPPOPolicy")
    return cls(  # type: ignore[no-any-return]
        pool.obs_dim,
        pool.action_dim,
        pool.num_tasks,
        discrete=pool.discrete,
        config=ppo,
        device=config.device,
        seed=config.seed,
    )


def build_replay(config: TrainConfig, pool: EnvPool) -> ReplayBuffer:
    """The C++ per-task prioritized replay, ``replay_size`` transitions split over the tasks
    (``alpha = 0`` when ``per`` is off)."""
    from drats.adapters.replay.cpp_replay import CppPerTaskReplay

    capacity = max(1, config.resolved("replay_size") // pool.num_tasks)
    return CppPerTaskReplay(
        pool.num_tasks,
        capacity,
        obs_shape=(pool.obs_dim,),
        action_shape=(1 if pool.discrete else pool.action_dim,),
        alpha=config.per_alpha if config.per else 0.0,
        seed=config.seed,
    )


def build(config: TrainConfig) -> Components:
    """Every adapter of a run; closes what it opened if a later one fails to build."""
    pool = build_pool(config)
    opened = [pool]
    try:
        eval_pool = build_pool(config, evaluation=True)
        opened.append(eval_pool)
        sampler = build_sampler(config, pool.num_tasks)
        policy = build_policy(config, pool)
        replay = build_replay(config, pool) if config.algo == "sac" else None
    except BaseException:
        for p in opened:
            p.close()
        raise
    return Components(pool=pool, eval_pool=eval_pool, sampler=sampler, policy=policy, replay=replay)


def make_trainer(
    config: TrainConfig,
    parts: Components,
    run_dir: str | Path,
    *,
    sinks: list[MetricsSink] | None = None,
    progress: bool = True,
) -> Trainer:
    """The trainer for ``config.algo`` (on-policy for PPO, off-policy for SAC)."""
    if config.algo == "sac":
        if parts.replay is None:
            raise ConfigError("sac needs a replay buffer")
        return OffPolicyTrainer(
            config,
            pool=parts.pool,
            eval_pool=parts.eval_pool,
            sampler=parts.sampler,
            policy=parts.policy,
            replay=parts.replay,
            run_dir=run_dir,
            sinks=sinks,
            progress=progress,
        )
    return Trainer(
        config,
        pool=parts.pool,
        eval_pool=parts.eval_pool,
        sampler=parts.sampler,
        policy=parts.policy,
        run_dir=run_dir,
        sinks=sinks,
        progress=progress,
    )
