"""The on-policy training loop: rollouts whose slots draw their next task from the sampler's q,
one sampler window per rollout, a policy update, evaluation, logging and crash-safe checkpoints.

The trainer talks to the world only through the ports (EnvPool, TaskSampler, Policy); the
composition root (:mod:`drats.bootstrap`) or a test hands it the adapters.
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
from drats.application.run_log import MetricsLog, MetricsSink, Progress
from drats.domain.errors import CheckpointError
from drats.domain.ports import EnvPool, Policy, TaskSampler
from drats.domain.types import PoolStep, Rollout


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


class Trainer:
    """Runs one training job in ``run_dir`` (``metrics.jsonl``, ``checkpoints/``).

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
        self.last_eval: EvalResult | None = None
        self.last_stats: IterationStats | None = None
        self.obs: NDArray[np.float32] | None = None
        self.tasks: NDArray[np.int64] = np.zeros(pool.num_slots, np.int64)

    # ------------------------------------------------------------------------ the loop

    def run(self) -> Counters:
        """Train until ``config.total_steps`` environment steps (resuming if a checkpoint of
        this run exists), then evaluate, checkpoint and return the final counters."""
        cfg, c = self.config, self.counters
        total, per_iter = cfg.total_steps, self.pool.num_slots * cfg.resolved("rollout_steps")
        if self.obs is None:  # a fresh run: every slot draws its first task from q
            self.tasks = self.sampler.sample(self.pool.num_slots)
            self.obs = self.pool.reset(self.tasks)
        self.progress = self._make_progress()
        try:
            while c.env_steps < total:
                started, before = time.perf_counter(), c.env_steps
                # 1. Collect a rollout; every slot that ends an episode draws its next task.
                rollout, stats = self._collect(cfg.resolved("rollout_steps"))
                c.iteration += 1
                c.env_steps += per_iter
                # 2. Close the sampler window: gaps from this rollout's episodes, one q step.
                q = self.sampler.update()
                # 3. Update the policy on the rollout collected under the old q.
                losses = self.policy.learn(rollout)
                # 4-6. Evaluate, log and checkpoint on schedule (and at the end).
                self._end_iteration(before, started, stats, q, losses)
        finally:
            self._close()
        return c

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
            evaluated = self.last_eval = evaluate(
                self.policy, self.eval_pool, cfg.resolved("eval_episodes")
            )
        seconds = time.perf_counter() - started
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

    def _collect(self, length: int) -> tuple[Rollout, IterationStats]:
        pool, policy = self.pool, self.policy
        n, k = pool.num_slots, pool.num_tasks
        assert self.obs is not None
        obs, tasks = self.obs, self.tasks
        buf: dict[str, list[Any]] = {key: [] for key in Rollout.__dataclass_fields__}
        stats = IterationStats.zeros(k)
        for _ in range(length):
            step = policy.act(obs, tasks)
            out = pool.step(step.actions)
            bootstrap = np.zeros(n, dtype=np.float32)
            cut = np.flatnonzero(out.truncated & ~out.terminated)
            if cut.size:  # value of the final observation, so a time limit is not a terminal
                bootstrap[cut] = policy.act(out.obs[cut], tasks[cut]).extras["value"]
            buf["obs"].append(obs)
            buf["task_ids"].append(tasks.copy())
            buf["actions"].append(step.extras.get("raw_action", step.actions))
            buf["log_probs"].append(step.extras["log_prob"])
            buf["values"].append(step.extras["value"])
            buf["rewards"].append(out.rewards)
            buf["dones"].append(out.terminated | out.truncated)
            buf["bootstrap"].append(bootstrap)
            obs, tasks = self._advance(out, tasks, stats)
        self._close_stats(obs, tasks, stats)
        last_values = policy.act(obs, tasks).extras["value"]
        arrays = {key: np.stack(values) for key, values in buf.items() if key != "last_values"}
        return Rollout(last_values=last_values, **arrays), stats

    def _advance(
        self, out: PoolStep, tasks: NDArray[np.int64], stats: IterationStats
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """After one pool step: count it, feed the finished episodes to the sampler, and
        restart every ended slot on a task drawn from q; returns the next (obs, tasks)."""
        stats.steps += np.bincount(tasks, minlength=stats.steps.size)
        eps = out.episodes
        if len(eps):
            self.sampler.observe(eps.task_ids, eps.returns, eps.successes)
            np.add.at(stats.returns, eps.task_ids, eps.returns)
            np.add.at(stats.successes, eps.task_ids, eps.successes.astype(np.float64))
            np.add.at(stats.episodes, eps.task_ids, 1)
        obs = out.obs.copy()
        ended = np.flatnonzero(out.terminated | out.truncated)
        if ended.size:
            new = self.sampler.sample(ended.size)
            obs[ended] = self.pool.reset_slots(ended, new)
            tasks = tasks.copy()
            tasks[ended] = new
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
            "train_success": stats.mean(stats.successes),
            **{f"loss/{key}": value for key, value in losses.items()},
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
        return row

    def _progress_text(self, q: NDArray[np.float64]) -> str:
        shown = " ".join(f"{p:.2f}" for p in q[:10]) + (" ..." if q.size > 10 else "")
        text = f"q=[{shown}]"
        if self.last_eval is not None:
            text += f" eval success {self.last_eval.mean_success:.2f}"
            text += f" (worst {self.last_eval.worst_success:.2f})"
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
