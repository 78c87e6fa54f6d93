"""PointMass-4: a cheap continuous suite (numpy): a point in the square reaching goals 0.3, 0.6
and 0.9 away, and one behind a wall it has to go round. SAC + DRATS solves it in minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drats.application.registry import SuitePreset, SuiteSpec
from drats.suites import pool_seed, refuse_episode_limit, refuse_worker_backend

if TYPE_CHECKING:
    from drats.application.config import TrainConfig
    from drats.domain.ports import EnvPool

SUITE = SuiteSpec(
    name="pointmass",
    summary="a point reaching 4 goals in the unit square, one behind a wall (numpy, continuous)",
    preset=SuitePreset(
        num_slots=4,
        rollout_steps=512,
        steps=200_000,
        eval_every=10_000,
        eval_episodes=5,
        checkpoint_every=20_000,
        sampler={"eta": 8.0, "step_size": 0.5, "target": 10.0, "adaptive_target": True},
        ppo={"hidden": (256, 256), "lr": 3e-4, "epochs": 10, "minibatches": 32, "gae_lambda": 0.95},
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
    pools="drats.suites.pointmass:build_pool",
)


def build_pool(config: TrainConfig, *, evaluation: bool) -> EnvPool:
    """4 slots for evaluation, the run's ``num_slots`` for training; episodes end on success."""
    from drats.adapters.envs.pointmass import PointMassEnvPool

    refuse_worker_backend(config, "pointmass")
    refuse_episode_limit(config, "pointmass", 50)
    slots = 4 if evaluation else config.resolved("num_slots")
    return PointMassEnvPool(slots, seed=pool_seed(config, evaluation), terminate_on_success=True)
