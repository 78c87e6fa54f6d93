"""Third-party prioritized replays behind drats' per-task call signature, for the replay
benchmarks' comparison columns.

cpprb and torchrl know no tasks, so each gets one prioritized buffer per task behind drats'
``add`` / ``sample`` / ``update_priorities`` (:class:`PerTaskAdapter`); the per-task routing is
part of what they are timed on, just as it is for drats, whose one call serves every task.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

import drats
from workload import ACT_DIM, ALPHA, BETA, OBS_DIM


def _by_task(task_ids: np.ndarray, num_tasks: int) -> Iterator[tuple[int, np.ndarray]]:
    """(task, row positions) for every task present in ``task_ids``, in task order."""
    order = np.argsort(task_ids, kind="stable")
    bounds = np.searchsorted(task_ids[order], np.arange(num_tasks + 1))
    for t in range(num_tasks):
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo:
            yield t, order[lo:hi]


class PerTaskAdapter:
    """One third-party prioritized buffer per task behind drats' ``add`` / ``sample`` /
    ``update_priorities`` signatures. Replay indices are ``task * capacity + slot`` as in
    drats; ``sample`` returns one concatenated :class:`drats.Batch` (weights as the library
    gives them, i.e. normalised within each task's draw)."""

    def __init__(self, num_tasks: int, capacity: int) -> None:
        self.num_tasks = num_tasks
        self.capacity = capacity

    def add(
        self,
        task_ids: np.ndarray,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
    ) -> None:
        for t, rows in _by_task(np.asarray(task_ids, np.int64), self.num_tasks):
            self._add(t, obs[rows], actions[rows], rewards[rows], next_obs[rows], terminated[rows])

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        tasks, slots = np.divmod(np.asarray(indices, np.int64), self.capacity)
        priorities = np.asarray(priorities, np.float64)
        for t, rows in _by_task(tasks, self.num_tasks):
            self._update(t, slots[rows], priorities[rows])

    def sample(self, counts: np.ndarray, *, beta: float = BETA) -> drats.Batch:
        parts = [(t, self._sample(t, int(n), beta)) for t, n in enumerate(counts) if n > 0]

        def cat(i: int) -> np.ndarray:
            return np.concatenate([p[i] for _, p in parts])

        sizes = [len(p[5]) for _, p in parts]
        tasks = np.repeat(np.array([t for t, _ in parts], np.int64), sizes)
        return drats.Batch(
            obs=cat(0),
            actions=cat(1),
            rewards=cat(2).reshape(-1),
            next_obs=cat(3),
            terminated=cat(4).reshape(-1),
            task_ids=tasks,
            indices=tasks * self.capacity + cat(5).astype(np.int64),
            weights=cat(6).reshape(-1),
        )

    # one task's buffer: fields come back as (obs, act, rew, next_obs, done, slots, weights)
    def _add(self, t: int, *fields: np.ndarray) -> None:
        raise NotImplementedError

    def _update(self, t: int, slots: np.ndarray, priorities: np.ndarray) -> None:
        raise NotImplementedError

    def _sample(self, t: int, n: int, beta: float) -> tuple[np.ndarray, ...]:
        raise NotImplementedError


class CpprbPerTask(PerTaskAdapter):
    """cpprb ``PrioritizedReplayBuffer`` per task (its sum tree and storage are C++)."""

    def __init__(self, num_tasks: int, capacity: int) -> None:
        import cpprb

        super().__init__(num_tasks, capacity)
        env = {
            "obs": {"shape": OBS_DIM},
            "act": {"shape": ACT_DIM},
            "rew": {},
            "next_obs": {"shape": OBS_DIM},
            "done": {},
        }
        self.buffers = [
            cpprb.PrioritizedReplayBuffer(capacity, env, alpha=ALPHA) for _ in range(num_tasks)
        ]

    def _add(self, t: int, *fields: np.ndarray) -> None:
        obs, act, rew, next_obs, done = fields
        self.buffers[t].add(obs=obs, act=act, rew=rew, next_obs=next_obs, done=done)

    def _update(self, t: int, slots: np.ndarray, priorities: np.ndarray) -> None:
        self.buffers[t].update_priorities(slots, priorities)

    def _sample(self, t: int, n: int, beta: float) -> tuple[np.ndarray, ...]:
        s = self.buffers[t].sample(n, beta=beta)
        keys = ("obs", "act", "rew", "next_obs", "done", "indexes", "weights")
        return tuple(s[k] for k in keys)


class TorchrlPerTask(PerTaskAdapter):
    """torchrl ``PrioritizedReplayBuffer`` over a ``LazyTensorStorage`` per task (CPU)."""

    def __init__(self, num_tasks: int, capacity: int) -> None:
        import torch
        from tensordict import TensorDict
        from torchrl.data import LazyTensorStorage, PrioritizedReplayBuffer

        super().__init__(num_tasks, capacity)
        self._torch, self._td = torch, TensorDict
        self.buffers = [
            PrioritizedReplayBuffer(alpha=ALPHA, beta=BETA, storage=LazyTensorStorage(capacity))
            for _ in range(num_tasks)
        ]

    def _add(self, t: int, *fields: np.ndarray) -> None:
        keys = ("obs", "act", "rew", "next_obs", "done")
        data = {
            k: self._torch.from_numpy(np.ascontiguousarray(v))
            for k, v in zip(keys, fields, strict=True)
        }
        self.buffers[t].extend(self._td(data, batch_size=[len(fields[0])]))

    def _update(self, t: int, slots: np.ndarray, priorities: np.ndarray) -> None:
        torch = self._torch
        self.buffers[t].update_priority(torch.from_numpy(slots), torch.from_numpy(priorities))

    def _sample(self, t: int, n: int, beta: float) -> tuple[np.ndarray, ...]:
        data, info = self.buffers[t].sample(n, return_info=True)  # beta fixed at construction
        keys = ("obs", "act", "rew", "next_obs", "done")
        index = self._torch.as_tensor(info["index"]).numpy()
        weights = self._torch.as_tensor(info["_weight"]).numpy()
        return (*(data[k].numpy() for k in keys), index, weights)
