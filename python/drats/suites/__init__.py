"""The suites drats trains on, one module each: its preset as data and how its training and
evaluation pools are built. Register a new one in :data:`drats.application.registry.SUITES`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drats.domain.errors import ConfigError

if TYPE_CHECKING:
    from drats.application.config import TrainConfig

#: Added to the run's seed for the evaluation pool, so evaluation episodes differ from training.
EVAL_SEED_OFFSET = 1_000_003


def pool_seed(config: TrainConfig, evaluation: bool) -> int:
    """The seed of the training pool (the run's seed) or of the evaluation pool."""
    return config.seed + (EVAL_SEED_OFFSET if evaluation else 0)


def workers(config: TrainConfig, slots: int) -> int | None:
    """``num_workers`` for a pool of ``slots`` slots: the run's ``workers`` (at most one per
    slot) on the process backend, None on the in-process one (where it cannot apply)."""
    return min(config.workers, slots) if config.backend == "process" else None


def refuse_worker_backend(config: TrainConfig, suite: str) -> None:
    """ConfigError when ``--backend process`` is asked of a suite whose pool is vectorised
    numpy in this process (it has no worker backend, so the option cannot apply)."""
    from drats.adapters.envs.factory import check_backend

    check_backend(suite, config.backend, supports_process=False)


def refuse_episode_limit(config: TrainConfig, suite: str, horizon: int) -> None:
    """ConfigError when ``--max-episode-steps`` is given to a suite with a fixed horizon."""
    if config.max_episode_steps is not None:
        raise ConfigError(f"{suite} episodes have a fixed {horizon}-step horizon")
