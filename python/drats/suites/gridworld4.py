"""GridWorld-4, the paper's didactic suite: four 5x5 grids with a wall of length 1-4 between
the start and the goal, horizon 15, vectorised numpy (shipped in the package).

The preset is the paper's: linear PPO on the cell and task one-hots (lr 3e-3, 256 steps per
update, one epoch, one minibatch, no ratio clipping, no entropy bonus, no advantage
normalisation, grad-norm clip 0.5, actor and critic heads initialised at std 0.01), DRATS with
eta 16, step size 3.2, eps 0.01 and target return 1, one sampler window per 256-step rollout, and
evaluation on 100 sampled episodes per task. Where drats differs from the paper (4 slots x 64
steps per rollout instead of one env x 256; a time-limited episode bootstraps from its final
state's value) the reasons are in ``docs/results.md``.

The critic's init matters: at gain 1 its random initial values (up to about +-0.5) swamp these
rewards, and on some seeds the actor learnt to stay away from the goal before the critic caught
up, never to recover (seed 106 did, under either sampler).
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
        steps=1_000_000,
        eval_every=20_480,
        eval_episodes=100,
        eval_mode="sampled",
        threads=1,
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
            "max_grad_norm": 0.5,
            "target_kl": None,
            "per_task_adv_norm": False,
            "critic_gain": 0.01,
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
    """The run's ``num_slots`` for training; for evaluation one slot per episode of a task (up
    to 100), so the episodes of all tasks run side by side in one vectorised wave."""
    from drats.adapters.envs.gridworld import GridWorldEnvPool

    refuse_worker_backend(config, "gridworld4")
    refuse_episode_limit(config, "gridworld4", 15)
    wave = 4 * min(config.resolved("eval_episodes"), 100)
    slots = wave if evaluation else config.resolved("num_slots")
    return GridWorldEnvPool(slots, seed=pool_seed(config, evaluation))
