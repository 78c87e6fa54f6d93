"""Evaluation: a fixed number of episodes per task on a pool whose episodes end on success,
with the policy's most likely actions (Meta-World's protocol) or actions sampled from it;
success = success at any step. A task whose pool reports no success signal
(``reports_success``) has its success "not reported" (NaN here, None in logs), never 0."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from drats.domain.errors import ConfigError
from drats.domain.ports import EnvPool, Policy, reports_success_of


@dataclass(frozen=True)
class EvalResult:
    """Per-task evaluation numbers (float64[K] each) and their summaries. ``success`` is NaN
    for a task without a success signal; the success summaries are over the tasks that report
    one (NaN when none does)."""

    success: NDArray[np.float64]
    returns: NDArray[np.float64]
    lengths: NDArray[np.float64]

    @property
    def reported(self) -> NDArray[np.bool_]:
        """bool[K], the tasks with a success signal."""
        out: NDArray[np.bool_] = ~np.isnan(self.success)
        return out

    @property
    def mean_success(self) -> float:
        shown = self.success[self.reported]
        return float(shown.mean()) if shown.size else math.nan

    @property
    def worst_success(self) -> float:
        shown = self.success[self.reported]
        return float(shown.min()) if shown.size else math.nan

    @property
    def mean_return(self) -> float:
        return float(self.returns.mean())

    @property
    def worst_return(self) -> float:
        return float(self.returns.min())


def evaluate(
    policy: Policy, pool: EnvPool, episodes_per_task: int, *, greedy: bool = True
) -> EvalResult:
    """Run ``episodes_per_task`` episodes of every task on ``pool``, acting greedily (the most
    likely action) or, with ``greedy=False``, with actions sampled from the policy.

    Slots take the pending episodes task by task; once nothing is pending, a free slot plays
    a filler episode whose result is discarded (every slot must keep stepping).
    """
    if episodes_per_task < 1:
        raise ConfigError(f"episodes_per_task must be >= 1, got {episodes_per_task}")
    k, n = pool.num_tasks, pool.num_slots
    pending = list(np.repeat(np.arange(k), episodes_per_task))[::-1]  # pop() takes task 0 first
    done = np.zeros(k, dtype=np.int64)
    success, returns, lengths = np.zeros(k), np.zeros(k), np.zeros(k)

    def assign(count: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        tasks = np.zeros(count, dtype=np.int64)
        real = np.zeros(count, dtype=bool)
        for i in range(count):
            if pending:
                tasks[i], real[i] = pending.pop(), True
        return tasks, real

    tasks, counted = assign(n)  # counted: the slot's current episode is a real one
    obs = pool.reset(tasks)
    while done.sum() < k * episodes_per_task:
        actions = policy.act(obs, tasks, deterministic=greedy).actions
        out = pool.step(actions)
        ended = np.flatnonzero(out.terminated | out.truncated)
        eps = out.episodes
        for slot in ended.tolist():
            if not counted[slot]:
                continue
            j = int(np.searchsorted(ended, slot))  # episodes come in increasing slot order
            t = int(eps.task_ids[j])
            success[t] += float(eps.successes[j])
            returns[t] += float(eps.returns[j])
            lengths[t] += float(eps.lengths[j])
            done[t] += 1
        obs = out.obs.copy()
        if ended.size:
            new, real = assign(ended.size)
            obs[ended] = pool.reset_slots(ended, new)
            tasks = tasks.copy()
            tasks[ended] = new
            counted[ended] = real
    e = float(episodes_per_task)
    success = np.where(reports_success_of(pool), success / e, np.nan)
    return EvalResult(success=success, returns=returns / e, lengths=lengths / e)
