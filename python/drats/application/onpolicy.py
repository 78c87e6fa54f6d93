"""The on-policy training loop (PPO): rollouts whose slots draw their next task from the
sampler's q, one sampler window per rollout, then one policy update on the rollout collected
under the old q. Schedules, logs and checkpoints are the base trainer's."""

from __future__ import annotations

import time
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from drats.application.base import BaseTrainer, Counters, IterationStats
from drats.domain.types import Rollout


class OnPolicyTrainer(BaseTrainer):
    """Runs one on-policy job in ``run_dir``: see :class:`~drats.application.base.BaseTrainer`
    for the arguments. One iteration is one rollout of ``rollout_steps`` steps per slot."""

    def run(self) -> Counters:
        """Train until ``config.total_steps`` environment steps (resuming from a restored
        state), then evaluate, checkpoint and return the final counters."""
        cfg, c = self.config, self.counters
        total, length = cfg.total_steps, cfg.resolved("rollout_steps")
        self._start()
        try:
            while c.env_steps < total:
                started, before = time.perf_counter(), c.env_steps
                self._new_iteration()
                # 1. Collect a rollout; every slot that ends an episode draws its next task.
                rollout, stats = self._collect(length)
                c.iteration += 1
                c.env_steps += self.pool.num_slots * length
                # 2. Close the sampler window: gaps from this rollout's episodes, one q step.
                t0 = time.perf_counter()
                q = self.sampler.update()
                t1 = time.perf_counter()
                # 3. Update the policy on the rollout collected under the old q.
                losses = self.policy.learn(rollout)
                self.seconds["sampler"] += t1 - t0
                self.seconds["learn"] += time.perf_counter() - t1
                # 4-6. Evaluate, log and checkpoint on schedule (and at the end).
                self._end_iteration(before, started, stats, q, losses)
        finally:
            self._close()
        return c

    def _collect(self, length: int) -> tuple[Rollout, IterationStats]:
        """``length`` steps of every slot: the rollout arrays (T = length, N = slots) and the
        training episodes that ended in them."""
        pool, policy, clock = self.pool, self.policy, time.perf_counter
        n, k = pool.num_slots, pool.num_tasks
        assert self.obs is not None
        obs, tasks = self.obs, self.tasks
        buf: dict[str, list[Any]] = {key: [] for key in Rollout.__dataclass_fields__}
        cut_at: list[tuple[int, NDArray[np.intp]]] = []  # (step, slots) cut by a time limit
        cut_obs: list[NDArray[np.float32]] = []
        cut_tasks: list[NDArray[np.int64]] = []
        stats = IterationStats.zeros(k)
        # Critic values come once per rollout, batched, from a policy that offers them.
        act_kwargs: dict[str, Any] = {"value": False} if self.defers_values else {}
        for t in range(length):
            t0 = clock()
            step = policy.act(obs, tasks, **act_kwargs)
            t1 = clock()
            out = pool.step(step.actions)
            self.seconds["act"] += t1 - t0
            self.seconds["env"] += clock() - t1
            if out.truncated.any():  # bootstrapped below from the final observation's value
                cut = np.flatnonzero(out.truncated & ~out.terminated)
                cut_at.append((t, cut))
                cut_obs.append(out.obs[cut])
                cut_tasks.append(tasks[cut])
            buf["obs"].append(obs)
            buf["task_ids"].append(tasks)
            buf["actions"].append(step.extras.get("raw_action", step.actions))
            buf["log_probs"].append(step.extras["log_prob"])
            if not self.defers_values:
                buf["values"].append(step.extras["value"])
            buf["rewards"].append(out.rewards)
            buf["dones"].append(out.terminated | out.truncated)
            obs, tasks = self._advance(out, tasks, stats)
        self._close_stats(obs, tasks, stats)
        # The values a rollout needs beyond its own steps, in one draw-free call: the final
        # observations of episodes cut by a time limit (so the limit is not a terminal) and
        # where every slot stands now; with a policy that defers them, the values of the
        # rollout's own observations too. The policy does not change during a rollout.
        arrays = {key: np.stack(values) for key, values in buf.items() if buf[key]}
        t0 = clock()
        extra_obs = [*cut_obs, obs]
        extra_tasks = [*cut_tasks, tasks]
        if self.defers_values:
            extra_obs.insert(0, arrays["obs"].reshape(length * n, -1))
            extra_tasks.insert(0, arrays["task_ids"].reshape(length * n))
            batched = cast(Any, policy).values  # present: see defers_values
            more = batched(np.concatenate(extra_obs), np.concatenate(extra_tasks))
            arrays["values"] = more[: length * n].reshape(length, n)
            more = more[length * n :]
        else:
            more = policy.act(
                np.concatenate(extra_obs), np.concatenate(extra_tasks), deterministic=True
            ).extras["value"]
        self.seconds["act"] += clock() - t0
        bootstrap = np.zeros((length, n), dtype=np.float32)
        at = 0
        for t, cut in cut_at:
            bootstrap[t, cut] = more[at : at + cut.size]
            at += cut.size
        return Rollout(last_values=more[at:], bootstrap=bootstrap, **arrays), stats


__all__ = ["OnPolicyTrainer"]
