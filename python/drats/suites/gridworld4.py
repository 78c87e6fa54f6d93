"""GridWorld-4, the paper's didactic suite: four 5x5 grids with a wall of length 1-4 between
the start and the goal, horizon 15, vectorised numpy (shipped in the package).

The preset is the paper's: linear PPO (lr 3e-3, 256 steps per update, one epoch, one minibatch,
no ratio clipping, no entropy bonus) and DRATS with eta 16, step size 3.2, eps 0.01 and target
return 1, one sampler window per 256-step rollout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drats.application.registry import SuitePreset, SuiteSpec
from drats.suites import pool_seed, refuse_episode_limit, refuse_worker_backend

if TYPE_CHECKING:
    from drats.application.config import TrainConfig
    from drats.domain.ports import EnvPool

SUITE = SuiteSpec(
    name="gridworld4",
    summary="the paper's didactic suite: 4 grids, a wall of length 1-4, horizon 15 (numpy)",
    preset=SuitePreset(
        num_slots=4,
        rollout_steps=64,
        steps=300_000,
        eval_every=8_192,
        eval_episodes=5,
        checkpoint_every=50_000,
        sampler={
            "eta": 16.0,
            "step_size": 3.2,
            "eps": 0.01,
            "target": 1.0,
            "adaptive_target": False,
        },
        ppo={
            "hidden": (),
            "multi_head": False,
            "lr": 3e-3,
            "epochs": 1,
            "minibatches": 1,
            "clip": None,
            "ent_coef": 0.0,
            "gae_lambda": 0.95,
            "max_grad_norm": None,
            "target_kl": None,
        },
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
    ),
    pools="drats.suites.gridworld4:build_pool",
)


def build_pool(config: TrainConfig, *, evaluation: bool) -> EnvPool:
    """4 slots for evaluation, the run's ``num_slots`` for training."""
    from drats.adapters.envs.gridworld import GridWorldEnvPool

    refuse_worker_backend(config, "gridworld4")
    refuse_episode_limit(config, "gridworld4", 15)
    slots = 4 if evaluation else config.resolved("num_slots")
    return GridWorldEnvPool(slots, seed=pool_seed(config, evaluation))
