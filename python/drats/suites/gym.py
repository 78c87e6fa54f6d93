"""Any set of Gymnasium env ids as one suite, ``gym:<id>[,<id>...]`` (``pip install
'drats[gym]'``): observations padded to the widest task plus the task one-hot, actions in
[-1, 1] rescaled to each task's bounds, or discrete tasks with any numbers of actions (each
task's invalid ones masked out of the policy; see ``docs/task-sets.md``).

The sampler preset is the paper's 6-task MuJoCo one (eta 8, step size 0.8, eps 1/24 for six
tasks, 12,288-step windows for SAC) with the range gap, ``(best - R) / (best - worst)``: the
returns of arbitrary Gymnasium tasks may be negative or of any scale, where the paper's
``(tau - R) / tau`` means nothing. ``--gap target`` takes each task's target from ``--target``
or, without one, from its env spec's ``reward_threshold`` (refused when a task has none > 0).
PPO uses a 2x256 network and the usual settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drats.application.registry import SuitePreset, SuiteSpec
from drats.suites import pool_seed, workers

if TYPE_CHECKING:
    from drats.application.config import TrainConfig
    from drats.domain.ports import EnvPool

SUITE = SuiteSpec(
    name="gym:",
    summary="any Gymnasium env ids, one task each: gym:<id>[,<id>...] (pip install 'drats[gym]')",
    preset=SuitePreset(
        num_slots=None,
        rollout_steps=2_048,
        steps=1_000_000,
        eval_every=100_000,
        eval_episodes=10,
        checkpoint_every=100_000,
        sampler={
            "eta": 8.0,
            "step_size": 0.8,
            "target": 1000.0,
            "adaptive_target": True,
            "gap": "range",
        },
        ppo={"hidden": (256, 256), "lr": 3e-4, "epochs": 10, "minibatches": 32, "gae_lambda": 0.95},
        sac={
            "batch_size": 1_024,
            "replay_size": 1_000_000,
            "warmup_steps": 10_000,
            "window_steps": 12_288,
            "hidden": (256, 256),
        },
    ),
    pools="drats.suites.gym:build_pool",
    extra="gym",
)


def env_ids(suite: str) -> list[str]:
    """The env ids of ``gym:<id>,<id>,...``."""
    return [part.strip() for part in suite.removeprefix("gym:").split(",") if part.strip()]


def build_pool(config: TrainConfig, *, evaluation: bool) -> EnvPool:
    """One slot per task for evaluation (episodes end on success) and, unless ``num_slots`` is
    given, for training; in this process or in ``workers`` worker processes."""
    from drats.adapters.envs.gym_tasks import GymEnvPool

    ids = env_ids(config.suite)
    slots = len(ids) if evaluation or config.num_slots is None else config.resolved("num_slots")
    return GymEnvPool(
        ids,
        slots,
        seed=pool_seed(config, evaluation),
        terminate_on_success=evaluation,
        max_episode_steps=config.max_episode_steps,
        backend="inprocess" if config.backend == "inprocess" else "process",
        num_workers=workers(config, slots),
    )
