"""The off-policy training loop (SAC): every vector-env step goes into the per-task replay, the
slots that end an episode draw their next task from q, and each gradient step samples one batch
split across tasks (``equal``, or in proportion to q) in one ``ReplayBuffer.sample`` call, with
the learner's TD errors fed back as priorities. One sampler window is ``window_steps`` env
steps; it is also one iteration (one log row)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.application.base import BaseTrainer, Counters, IterationStats
from drats.application.config import TrainConfig
from drats.domain.allocation import allocate_batch
from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import (
    EnvPool,
    MetricsSink,
    Policy,
    ReplayBuffer,
    TaskSampler,
    action_counts_of,
)
from drats.domain.rng import CounterRng


class OffPolicyTrainer(BaseTrainer):
    """Runs one off-policy job in ``run_dir``; the logs, schedules and checkpoints of
    :class:`~drats.application.base.BaseTrainer`, plus the whole replay in every checkpoint.

    The policy must expose ``last_td_errors`` (float32[B], after each ``learn(batch)``) when
    ``config.per`` is set.
    """

    extra_parts = ("replay", "offpolicy")

    def __init__(
        self,
        config: TrainConfig,
        *,
        pool: EnvPool,
        eval_pool: EnvPool,
        sampler: TaskSampler,
        policy: Policy,
        replay: ReplayBuffer,
        run_dir: str | Path,
        sinks: list[MetricsSink] | None = None,
        progress: bool = True,
    ) -> None:
        super().__init__(
            config,
            pool=pool,
            eval_pool=eval_pool,
            sampler=sampler,
            policy=policy,
            run_dir=run_dir,
            sinks=sinks,
            progress=progress,
        )
        if config.per and not hasattr(policy, "last_td_errors"):
            raise ConfigError("prioritized replay needs a policy with last_td_errors")
        self.replay = replay
        self.updates = 0
        self.update_credit = 0.0
        self.warmup_rng = CounterRng(config.seed + 7_919)
        #: each task's number of discrete actions (None: every action valid for every task)
        self.action_counts = action_counts_of(pool)

    timed_parts = ("act", "env", "replay", "sampler", "learn", "eval")

    # ------------------------------------------------------------------------ the loop

    def run(self) -> Counters:
        """Train until ``config.total_steps`` env steps (resuming from a restored state)."""
        cfg, c = self.config, self.counters
        n = self.pool.num_slots
        vector_steps = max(1, math.ceil(cfg.resolved("window_steps") / n))
        self._start()
        try:
            while c.env_steps < cfg.total_steps:
                started, before = time.perf_counter(), c.env_steps
                self._new_iteration()
                # 1. Interact for one window: store every transition, feed finished episodes
                #    to the sampler, reset ended slots on tasks drawn from q, and take this
                #    step's share of gradient steps once the warm-up is over.
                stats, losses = self._interact(vector_steps)
                c.iteration += 1
                # 2. Close the sampler window.
                t0 = time.perf_counter()
                q = self.sampler.update()
                self.seconds["sampler"] += time.perf_counter() - t0
                # 3-5. Evaluate, log and checkpoint on schedule (and at the end).
                self._end_iteration(before, started, stats, q, losses)
        finally:
            self._close()
        return c

    def _interact(self, vector_steps: int) -> tuple[IterationStats, dict[str, float]]:
        cfg, c = self.config, self.counters
        pool, replay = self.pool, self.replay
        n, k = pool.num_slots, pool.num_tasks
        assert self.obs is not None
        obs, tasks = self.obs, self.tasks
        stats = IterationStats.zeros(k)
        sums: dict[str, float] = {}
        updates_before = self.updates
        warmup = cfg.resolved("warmup_steps")
        clock = time.perf_counter
        for _ in range(vector_steps):
            t0 = clock()
            actions = self._actions(obs, tasks, random=c.env_steps < warmup)
            t1 = clock()
            out = pool.step(actions)
            t2 = clock()
            # Discrete actions are stored as their index in a width-1 float column.
            stored = actions.reshape(n, -1).astype(np.float32)
            replay.add(tasks, obs, stored, out.rewards, out.obs, out.terminated)
            t3 = clock()
            self.seconds["act"] += t1 - t0
            self.seconds["env"] += t2 - t1
            self.seconds["replay"] += t3 - t2
            obs, tasks = self._advance(out, tasks, stats)  # times its env and sampler parts
            c.env_steps += n
            if c.env_steps >= warmup:
                self.update_credit += cfg.updates_per_step
                while self.update_credit >= 1.0:
                    self.update_credit -= 1.0
                    for key, value in self._update().items():
                        sums[key] = sums.get(key, 0.0) + value
        self._close_stats(obs, tasks, stats)
        done = self.updates - updates_before
        losses = {key: value / done for key, value in sums.items()} if done else {}
        losses["updates"] = float(self.updates)
        return stats, losses

    def _actions(
        self, obs: NDArray[np.float32], tasks: NDArray[np.int64], *, random: bool
    ) -> NDArray[Any]:
        """The policy's actions, or uniform random ones during the warm-up."""
        pool = self.pool
        n = pool.num_slots
        if not random:
            return np.asarray(self.policy.act(obs, tasks).actions)
        if pool.discrete:  # uniform over each slot's own task's actions
            u = self.warmup_rng.uniform(n)
            counts = self.action_counts
            limit = pool.action_dim if counts is None else counts[tasks]
            return np.minimum((u * limit).astype(np.int64), limit - 1)
        u = self.warmup_rng.uniform(n * pool.action_dim)
        return (2.0 * u - 1.0).astype(np.float32).reshape(n, pool.action_dim)

    def _update(self) -> dict[str, float]:
        """One gradient step: one batch over all tasks, priorities fed back."""
        cfg = self.config
        counts = allocate_batch(
            cfg.replay_alloc, cfg.resolved("batch_size"), self.replay.sizes(), self.sampler.probs
        )
        clock = time.perf_counter
        t0 = clock()
        batch = self.replay.sample(counts, beta=cfg.per_beta)
        t1 = clock()
        metrics = self.policy.learn(batch)
        t2 = clock()
        if cfg.per:
            td: NDArray[np.float32] = self.policy.last_td_errors  # type: ignore[attr-defined]
            self.replay.update_priorities(batch.indices, np.abs(td) + 1e-6)
        self.seconds["replay"] += t1 - t0 + clock() - t2
        self.seconds["learn"] += t2 - t1
        self.updates += 1
        return metrics

    # ------------------------------------------------------------------------ checkpoints

    def _extra_parts(self) -> dict[str, dict[str, Any]]:
        return {
            "replay": self.replay.state_dict(),
            "offpolicy": {
                "updates": self.updates,
                "update_credit": self.update_credit,
                "warmup_rng": self.warmup_rng.get_state(),
            },
        }

    def _load_extra(self, parts: dict[str, dict[str, Any]]) -> None:
        state = parts["offpolicy"]
        try:
            updates, credit = int(state["updates"]), float(state["update_credit"])
            rng = np.asarray(state["warmup_rng"], dtype=np.uint64)
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"bad off-policy trainer state: {err}") from None
        if updates < 0 or not 0.0 <= credit < max(1.0, self.config.updates_per_step + 1.0):
            raise CheckpointError("bad off-policy trainer counters")
        if rng.shape != (2,):
            raise CheckpointError("bad warm-up RNG state")
        self.replay.load_state_dict(parts["replay"])
        self.updates, self.update_credit = updates, credit
        self.warmup_rng.set_state(rng)
