"""The composition root: builds the adapters a :class:`TrainConfig` names through the registries
of :mod:`drats.application.registry` (lazy ``"module:attr"`` strings), so ``import drats`` stays
light and tests can hand the trainer their own adapters instead."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from drats.application.base import BaseTrainer
from drats.application.config import TrainConfig
from drats.application.registry import learner_spec, load, sampler_spec, suite_spec
from drats.domain.errors import ConfigError
from drats.domain.ports import EnvPool, MetricsSink, Policy, ReplayBuffer, TaskSampler


@dataclass
class Components:
    """The adapters one run uses (the trainer sees them only through their ports)."""

    pool: EnvPool
    eval_pool: EnvPool
    sampler: TaskSampler
    policy: Policy
    replay: ReplayBuffer | None = None

    def close(self) -> None:
        """Close both pools (safe to call twice)."""
        self.pool.close()
        self.eval_pool.close()


def build_pool(config: TrainConfig, *, evaluation: bool = False) -> EnvPool:
    """The training pool of ``config.suite`` (or, with ``evaluation``, the pool evaluation
    episodes run in: its episodes end on success and its seed differs from the training
    pool's)."""
    pool: EnvPool = load(suite_spec(config.suite).pools)(config, evaluation=evaluation)
    return pool


def build_sampler(config: TrainConfig, num_tasks: int) -> TaskSampler:
    """The task sampler ``config.sampler`` names, with the suite's settings and the user's; a
    user's option the sampler does not take is a ConfigError (the suite's are dropped)."""
    spec = sampler_spec(config.sampler)
    cls = load(spec.adapter)
    settings = config.sampler_settings(num_tasks)
    accepted = set(inspect.signature(cls).parameters) - {"num_tasks", "seed"}
    kwargs: dict[str, Any] = {}
    for name, value in settings.items():
        own = spec.aliases.get(name, name)
        if own in accepted:
            kwargs[own] = value
        elif name in config.sampler_options:
            raise ConfigError(f"sampler {config.sampler!r} takes no option {name!r}")
    sampler: TaskSampler = cls(num_tasks, seed=config.seed, **kwargs)
    return sampler


def build_policy(config: TrainConfig, pool: EnvPool) -> Policy:
    """The learner ``config.algo`` names, sized for ``pool``."""
    load("drats.adapters.learners.torch_nets:set_threads")(config.resolved("threads"))
    policy: Policy = load(learner_spec(config.algo).policy)(config, pool)
    return policy


def build_ppo(config: TrainConfig, pool: EnvPool) -> Policy:
    """Multi-task PPO with the suite's PPO settings, then the user's ``learner_options``
    (PPOConfig checks every one)."""
    from drats.adapters.learners.ppo import TorchPPOPolicy
    from drats.adapters.learners.ppo_config import PPOConfig

    ppo = PPOConfig().replace(**{**config.preset.ppo, **config.learner_options})
    return TorchPPOPolicy(
        pool.obs_dim, pool.action_dim, pool.num_tasks, discrete=pool.discrete,
        config=ppo, device=config.device, seed=config.seed,
    )  # fmt: skip


def build_sac(config: TrainConfig, pool: EnvPool) -> Policy:
    """Multi-task SAC with the suite's SAC settings, then the user's ``learner_options``
    (one ``lr`` sets the actor, critic and temperature rates)."""
    from drats.adapters.learners.sac import TorchSACPolicy
    from drats.adapters.learners.sac_config import SACConfig

    names = {f.name for f in fields(SACConfig)}
    options = dict(config.learner_options)
    if "lr" in options:
        lr = options.pop("lr")
        options.update(actor_lr=lr, critic_lr=lr, alpha_lr=lr)
    unknown = set(options) - names
    if unknown:
        raise ConfigError(f"sac takes no option(s) {sorted(unknown)}")
    preset = {k: v for k, v in config.preset.sac.items() if k in names and k != "batch_size"}
    sac = SACConfig(batch_size=config.resolved("batch_size")).replace(**{**preset, **options})
    return TorchSACPolicy(
        pool.obs_dim, pool.action_dim, pool.num_tasks, config=sac,
        device=config.device, seed=config.seed, discrete=pool.discrete,
    )  # fmt: skip


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
        off_policy = learner_spec(config.algo).off_policy
        replay = build_replay(config, pool) if off_policy else None
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
) -> BaseTrainer:
    """The training loop of ``config.algo`` over ``parts`` (the off-policy one gets the
    replay)."""
    spec = learner_spec(config.algo)
    kwargs: dict[str, Any] = {
        "pool": parts.pool,
        "eval_pool": parts.eval_pool,
        "sampler": parts.sampler,
        "policy": parts.policy,
        "run_dir": run_dir,
        "sinks": sinks,
        "progress": progress,
    }
    if spec.off_policy:
        if parts.replay is None:
            raise ConfigError(f"{config.algo} needs a replay buffer")
        kwargs["replay"] = parts.replay
    trainer: BaseTrainer = load(spec.trainer)(config, **kwargs)
    return trainer
