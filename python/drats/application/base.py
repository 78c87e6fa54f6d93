"""What every training loop shares: the run's counters, the episode bookkeeping that feeds the
sampler and restarts ended slots on tasks drawn from q, the evaluation / logging / checkpoint
schedules, the time split of each iteration, and save / restore.

:class:`~drats.application.onpolicy.OnPolicyTrainer` (PPO) and
:class:`~drats.application.offpolicy.OffPolicyTrainer` (SAC) are the two loops on this base;
each one's ``run`` reads top to bottom. A trainer talks to the world only through the ports
(EnvPool, TaskSampler, Policy, MetricsSink); the composition root (:mod:`drats.bootstrap`) or a
test hands it the adapters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.application.checkpoint import CheckpointStore, read_checkpoint, require
from drats.application.config import TrainConfig
from drats.application.evaluation import EvalResult, evaluate
from drats.application.run_log import MetricsLog, Progress
from drats.domain.errors import CheckpointError
from drats.domain.ports import (
    EnvPool,
    MetricsSink,
    Policy,
    TaskSampler,
    defers_values,
    reports_success_of,
    task_targets_of,
)
from drats.domain.types import PoolStep


@dataclass
class Counters:
    """Where the run stands; saved in every checkpoint."""

    iteration: int = 0
    env_steps: int = 0
    steps_per_task: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    episodes_per_task: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class IterationStats:
    """Training episodes finished during one rollout, per task (float64[K] / int64[K])."""

    returns: NDArray[np.float64]
    successes: NDArray[np.float64]
    episodes: NDArray[np.int64]
    steps: NDArray[np.int64]

    @classmethod
    def zeros(cls, num_tasks: int) -> IterationStats:
        k = num_tasks
        return cls(np.zeros(k), np.zeros(k), np.zeros(k, np.int64), np.zeros(k, np.int64))

    def mean(self, values: NDArray[np.float64]) -> list[float | None]:
        return [float(v / c) if c else None for v, c in zip(values, self.episodes, strict=True)]


class BaseTrainer:
    """One training job in ``run_dir`` (``metrics.jsonl``, ``checkpoints/``); subclasses
    supply ``run`` (the loop) and, if they save more, :meth:`_extra_parts` / :meth:`_load_extra`.

    Args:
        config: the run's settings (budget, schedules, seed).
        pool, eval_pool, sampler, policy: the adapters, seen only through their ports.
        run_dir: where logs and checkpoints go.
        sinks: extra metric sinks (TensorBoard).
        progress: show a progress line on stderr.
    """

    #: names of the checkpoint parts :meth:`_extra_parts` adds
    extra_parts: tuple[str, ...] = ()

    def __init__(
        self,
        config: TrainConfig,
        *,
        pool: EnvPool,
        eval_pool: EnvPool,
        sampler: TaskSampler,
        policy: Policy,
        run_dir: str | Path,
        sinks: list[MetricsSink] | None = None,
        progress: bool = True,
    ) -> None:
        self.config, self.pool, self.eval_pool = config, pool, eval_pool
        self.sampler, self.policy = sampler, policy
        self.run_dir = Path(run_dir)
        self.store = CheckpointStore(self.run_dir)
        self.log = MetricsLog(self.run_dir, sinks or [])
        self.show_progress = progress
        self.progress: Progress | None = None
        k = pool.num_tasks
        self.counters = Counters(
            steps_per_task=np.zeros(k, np.int64), episodes_per_task=np.zeros(k, np.int64)
        )
        #: bool[K], the tasks with a success signal (the others' success is "not reported")
        self.reports_success = reports_success_of(pool)
        self.defers_values = defers_values(policy)
        #: per task, the target return a report scales an unreported task's returns by
        targets = task_targets_of(pool)
        self.return_targets = config.return_targets(
            k, None if targets is None else targets.tolist()
        )
        self.last_eval: EvalResult | None = None
        self.last_stats: IterationStats | None = None
        self.obs: NDArray[np.float32] | None = None
        self.tasks: NDArray[np.int64] = np.zeros(pool.num_slots, np.int64)
        #: seconds per part of the last iteration (logged as ``seconds/<part>``)
        self.seconds: dict[str, float] = dict.fromkeys(self.timed_parts, 0.0)
        #: seconds per part of every iteration this process ran, and of the whole loop
        self.total_seconds: dict[str, float] = dict.fromkeys((*self.timed_parts, "all"), 0.0)

    #: the parts of an iteration whose time is logged; ``sampler`` is observe, sample and
    #: update, ``env`` is stepping and resetting slots, ``eval`` the evaluation episodes.
    timed_parts: tuple[str, ...] = ("act", "env", "sampler", "learn", "eval")

    # ------------------------------------------------------------------------ the loop

    def run(self) -> Counters:
        """Train until ``config.total_steps`` environment steps (resuming from a restored
        state), then evaluate, checkpoint and return the final counters."""
        raise NotImplementedError

    def _start(self) -> None:
        """Before the first iteration: a fresh run's slots draw their first tasks from q."""
        if self.obs is None:
            self.tasks = self.sampler.sample(self.pool.num_slots)
            self.obs = self.pool.reset(self.tasks)
        self.progress = self._make_progress()

    def _new_iteration(self) -> None:
        """Zero the time split of the iteration that starts."""
        self.seconds = dict.fromkeys(self.timed_parts, 0.0)

    def _end_iteration(
        self,
        before: int,
        started: float,
        stats: IterationStats,
        q: NDArray[np.float64],
        losses: dict[str, float],
    ) -> None:
        """Evaluate, log one row and checkpoint, each on its schedule and at the end."""
        cfg, c = self.config, self.counters
        eval_every, ckpt_every = cfg.resolved("eval_every"), cfg.resolved("checkpoint_every")
        last = c.env_steps >= cfg.total_steps
        evaluated = None
        if eval_every and (last or c.env_steps // eval_every > before // eval_every):
            t0 = time.perf_counter()
            evaluated = self.last_eval = evaluate(
                self.policy, self.eval_pool, cfg.resolved("eval_episodes"), greedy=cfg.greedy_eval
            )
            self.seconds["eval"] += time.perf_counter() - t0
        seconds = time.perf_counter() - started
        for part, value in self.seconds.items():
            self.total_seconds[part] += value
        self.total_seconds["all"] += seconds
        self.log.write(self._row(stats, q, self.sampler.gaps, losses, evaluated, seconds))
        if last or (ckpt_every and c.env_steps // ckpt_every > before // ckpt_every):
            self.save()
        if self.progress is not None:
            self.progress.update(c.env_steps, self._progress_text(q), force=last)

    def _make_progress(self) -> Progress | None:
        if not self.show_progress:
            return None
        return Progress(self.config.total_steps, start=self.counters.env_steps)

    def _close(self) -> None:
        if self.progress is not None:
            self.progress.close()
        self.log.close()

    def _advance(
        self, out: PoolStep, tasks: NDArray[np.int64], stats: IterationStats
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """After one pool step: count it, feed the finished episodes to the sampler, and
        restart every ended slot on a task drawn from q; returns the next (obs, tasks)."""
        clock = time.perf_counter
        t0 = clock()
        k = stats.steps.size
        stats.steps += np.bincount(tasks, minlength=k)
        eps = out.episodes
        obs = out.obs
        if len(eps):
            # a task without a success signal is never "solved": its flags reach no sampler
            successes = eps.successes & self.reports_success[eps.task_ids]
            self.sampler.observe(eps.task_ids, eps.returns, successes)
            stats.returns += np.bincount(eps.task_ids, weights=eps.returns, minlength=k)
            stats.successes += np.bincount(eps.task_ids, weights=eps.successes, minlength=k)
            stats.episodes += np.bincount(eps.task_ids, minlength=k)
        done = out.terminated | out.truncated
        if done.any():
            ended = np.flatnonzero(done)
            new = self.sampler.sample(ended.size)
            t1 = clock()
            obs = obs.copy()
            obs[ended] = self.pool.reset_slots(ended, new)
            self.seconds["env"] += clock() - t1
            tasks = tasks.copy()
            tasks[ended] = new
            t0 += clock() - t1
        self.seconds["sampler"] += clock() - t0
        return obs, tasks

    def _close_stats(
        self, obs: NDArray[np.float32], tasks: NDArray[np.int64], stats: IterationStats
    ) -> None:
        """Keep where the slots stand and add the iteration's counts to the run's."""
        self.obs, self.tasks = obs, tasks
        self.counters.steps_per_task += stats.steps
        self.counters.episodes_per_task += stats.episodes
        self.last_stats = stats

    # ------------------------------------------------------------------------ logging

    def _row(
        self,
        stats: IterationStats,
        q: NDArray[np.float64],
        gaps: NDArray[np.float64],
        losses: dict[str, float],
        evaluated: EvalResult | None,
        seconds: float,
    ) -> dict[str, Any]:
        c = self.counters
        row: dict[str, Any] = {
            "iteration": c.iteration,
            "env_steps": c.env_steps,
            "steps_per_sec": float(stats.steps.sum() / max(seconds, 1e-9)),
            "wall_time": time.time(),
            "q": q.tolist(),
            "gap": gaps.tolist(),
            "task_steps": c.steps_per_task.tolist(),
            "train_episodes": stats.episodes.tolist(),
            "train_return": stats.mean(stats.returns),
            "train_success": [  # None: no episode, or no success signal ("not reported")
                v if shown else None
                for v, shown in zip(stats.mean(stats.successes), self.reports_success, strict=True)
            ],
            **{f"loss/{key}": value for key, value in losses.items()},
            **{f"seconds/{part}": value for part, value in self.seconds.items()},
        }
        if evaluated is not None:
            row.update(
                eval_success=evaluated.success.tolist(),
                eval_return=evaluated.returns.tolist(),
                eval_mean_success=evaluated.mean_success,
                eval_worst_success=evaluated.worst_success,
                eval_mean_return=evaluated.mean_return,
                eval_worst_return=evaluated.worst_return,
            )
            if not self.reports_success.all():  # what a report scales their returns by
                row["eval_return_target"] = list(self.return_targets)
        return row

    def _progress_text(self, q: NDArray[np.float64]) -> str:
        shown = " ".join(f"{p:.2f}" for p in q[:10]) + (" ..." if q.size > 10 else "")
        text = f"q=[{shown}]"
        ev = self.last_eval
        if ev is not None and self.reports_success.any():
            text += f" eval success {ev.mean_success:.2f} (worst {ev.worst_success:.2f})"
        elif ev is not None:
            text += f" eval return {ev.mean_return:.3g} (worst {ev.worst_return:.3g})"
        return text

    # ------------------------------------------------------------------------ checkpoints

    def save(self) -> Path:
        c = self.counters
        assert self.obs is not None
        trainer_state = {
            "iteration": c.iteration,
            "env_steps": c.env_steps,
            "steps_per_task": c.steps_per_task,
            "episodes_per_task": c.episodes_per_task,
            "obs": self.obs,
            "tasks": self.tasks,
        }
        meta = {"iteration": c.iteration, "env_steps": c.env_steps, "config": self.config.to_json()}
        parts = {
            "trainer": trainer_state,
            "policy": self.policy.state_dict(),
            "sampler": self.sampler.state_dict(),
            "pool": self.pool.state_dict(),
            "eval_pool": self.eval_pool.state_dict(),
            **self._extra_parts(),
        }
        return self.store.save(c.env_steps, meta, parts)

    def _extra_parts(self) -> dict[str, dict[str, Any]]:
        """Checkpoint parts a subclass adds (the replay, say)."""
        return {}

    def _load_extra(self, parts: dict[str, dict[str, Any]]) -> None:
        """Restore what :meth:`_extra_parts` saved (called before the shared parts load)."""

    def restore(self, path: str | Path | None = None) -> bool:
        """Load the newest checkpoint of this run (or ``path``); False when there is none.

        Everything is checked before the run's log is touched; metric rows written after the
        checkpoint are dropped, since the resumed run writes them again.
        """
        target = path or self.store.latest()
        if target is None:  # killed before its first checkpoint: start again from scratch
            self.log.truncate(0)
            return False
        meta, parts = read_checkpoint(target)
        wanted = ("trainer", "policy", "sampler", "pool", "eval_pool", *self.extra_parts)
        require(meta, parts, part_names=wanted)
        t = parts["trainer"]
        n, k = self.pool.num_slots, self.pool.num_tasks
        try:
            obs = np.asarray(t["obs"], dtype=np.float32)
            tasks = np.asarray(t["tasks"], dtype=np.int64)
            steps = np.asarray(t["steps_per_task"], dtype=np.int64)
            episodes = np.asarray(t["episodes_per_task"], dtype=np.int64)
            iteration, env_steps = int(t["iteration"]), int(t["env_steps"])
        except (KeyError, ValueError, TypeError) as err:
            raise CheckpointError(f"checkpoint {meta['path']}: bad trainer state ({err})") from None
        if obs.shape != (n, self.pool.obs_dim) or tasks.shape != (n,) or steps.shape != (k,):
            raise CheckpointError(
                f"checkpoint {meta['path']} is from a run with another pool "
                f"(obs {obs.shape}, tasks {tasks.shape}); this run has {n} slots and {k} tasks"
            )
        if episodes.shape != (k,) or np.any((tasks < 0) | (tasks >= k)):
            raise CheckpointError(f"checkpoint {meta['path']}: bad trainer counters")
        if min(iteration, env_steps, int(steps.min()), int(episodes.min())) < 0:
            raise CheckpointError(f"checkpoint {meta['path']}: negative trainer counters")
        if not np.all(np.isfinite(obs)):
            raise CheckpointError(f"checkpoint {meta['path']}: trainer 'obs' must be finite")
        self._load_extra(parts)
        self.policy.load_state_dict(parts["policy"])
        self.sampler.load_state_dict(parts["sampler"])
        self.pool.load_state_dict(parts["pool"])
        self.eval_pool.load_state_dict(parts["eval_pool"])
        self.counters = Counters(iteration, env_steps, steps, episodes)
        self.tasks = tasks
        # A pool that cannot snapshot its simulators restarts the episodes in flight.
        self.obs = obs if self.pool.restores_episodes else self.pool.reset(tasks)
        self.log.truncate(iteration)
        return True
