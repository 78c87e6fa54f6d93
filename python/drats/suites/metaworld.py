"""Meta-World MT10 and MT50 (stock ``metaworld`` 3.x, ``pip install 'drats[metaworld]'``): 39-d
observation plus the task one-hot, v2 reward, 500-step episodes, 50 seeded goal variants per
task; training does not end episodes on success, evaluation does.

The PPO preset is the paper's (3x400 multi-head actor and critic, 10,000 steps per slot per
rollout, 16 epochs x 32 minibatches, approx-KL stop, lr 5e-4, entropy 0.01 / 0.03 for MT50;
DRATS eta 8, step size 0.5, eps 1/(4K), target 5000 then the running best once solved); the SAC
preset is Meta-World's MT-SAC standard (batch 128 per task, replay 1M).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drats.application.registry import SuitePreset, SuiteSpec
from drats.suites import pool_seed, workers

if TYPE_CHECKING:
    from drats.application.config import TrainConfig
    from drats.domain.ports import EnvPool

_SAMPLER = {"eta": 8.0, "step_size": 0.5, "target": 5000.0, "adaptive_target": True}
_SAC: dict[str, Any] = {"replay_size": 1_000_000, "hidden": (400, 400, 400)}

MT10 = SuiteSpec(
    name="mt10",
    summary="Meta-World MT10: 10 manipulation tasks (pip install 'drats[metaworld]')",
    preset=SuitePreset(
        num_slots=10,
        rollout_steps=10_000,
        steps=100_000_000,
        eval_every=2_000_000,
        eval_episodes=50,
        checkpoint_every=1_000_000,
        sampler=_SAMPLER,
        sac={
            **_SAC,
            "steps": 20_000_000,
            "eval_every": 500_000,
            "checkpoint_every": 500_000,
            "batch_size": 1_280,
            "warmup_steps": 10_000,
            "window_steps": 10_000,
        },
    ),
    pools="drats.suites.metaworld:build_pool",
    extra="metaworld",
)

MT50 = SuiteSpec(
    name="mt50",
    summary="Meta-World MT50: 50 manipulation tasks (pip install 'drats[metaworld]')",
    preset=SuitePreset(
        num_slots=50,
        rollout_steps=10_000,
        steps=500_000_000,
        eval_every=10_000_000,
        eval_episodes=50,
        checkpoint_every=5_000_000,
        sampler=_SAMPLER,
        ppo={"ent_coef": 0.03},
        sac={
            **_SAC,
            "steps": 100_000_000,
            "eval_every": 2_500_000,
            "checkpoint_every": 2_500_000,
            "batch_size": 6_400,
            "warmup_steps": 50_000,
            "window_steps": 50_000,
        },
    ),
    pools="drats.suites.metaworld:build_pool",
    extra="metaworld",
)


def build_pool(config: TrainConfig, *, evaluation: bool) -> EnvPool:
    """K slots for evaluation (episodes end on success), the run's ``num_slots`` for training,
    in this process or in ``workers`` worker processes."""
    from drats.adapters.envs.metaworld import MetaWorldEnvPool

    k = 10 if config.suite == "mt10" else 50
    slots = k if evaluation else config.resolved("num_slots")
    return MetaWorldEnvPool(
        "mt10" if config.suite == "mt10" else "mt50",
        slots,
        seed=pool_seed(config, evaluation),
        terminate_on_success=evaluation,
        backend="inprocess" if config.backend == "inprocess" else "process",
        num_workers=workers(config, slots),
        max_episode_steps=config.max_episode_steps or 500,
    )
