"""Reusable contract checkers: call one on a factory of your adapter to prove that it honours
its port. Each check raises ``AssertionError`` with a message naming what broke (no bare
``assert``, so they also work under ``python -O``).

    check_replay_buffer(MyReplay)   # MyReplay(num_tasks, capacity_per_task, obs_shape,
                                    #          action_shape, *, alpha, seed)
    check_task_sampler(MySampler)   # MySampler(num_tasks, *, seed)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from drats.domain.errors import CheckpointError, EmptyTaskError
from drats.domain.ports import ReplayBuffer, TaskSampler
from drats.domain.types import Batch

ReplayFactory = Callable[..., ReplayBuffer]
SamplerFactory = Callable[..., TaskSampler]

OBS, ACT = (2, 3), 2


def _expect(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _same_state(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def _raises(kind: type[BaseException], call: Callable[[], object], what: str) -> None:
    try:
        call()
    except kind:
        return
    except Exception as err:  # any other error is a contract failure
        raise AssertionError(
            f"{what}: expected {kind.__name__}, got {type(err).__name__}: {err}"
        ) from err
    raise AssertionError(f"{what}: expected {kind.__name__}, nothing was raised")


# --------------------------------------------------------------------------- replay buffer


def _transitions(
    ids: list[int], first: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Transitions whose every field encodes a serial number, so a sampled row can be traced."""
    n = len(ids)
    serial = np.arange(first, first + n, dtype=np.float32)
    obs = np.broadcast_to(serial[:, None, None], (n, *OBS)).astype(np.float32)
    actions = np.broadcast_to(-serial[:, None], (n, ACT)).astype(np.float32)
    return (
        np.asarray(ids, dtype=np.int64),
        obs,
        actions,
        serial * 10,
        obs + 0.5,
        (serial % 2).astype(np.float32),
    )


def _serials(batch: Batch) -> np.ndarray:
    """The serial number of each sampled row, after checking all its fields agree."""
    serial = batch.obs.reshape(len(batch), -1)[:, 0]
    _expect(np.all(batch.obs == serial[:, None, None]), "obs rows were mixed up")
    _expect(np.all(batch.actions == -serial[:, None]), "actions do not match their obs")
    _expect(np.all(batch.rewards == serial * 10), "rewards do not match their obs")
    _expect(np.all(batch.next_obs == batch.obs + 0.5), "next_obs does not match its obs")
    _expect(np.all(batch.terminated == serial % 2), "terminated does not match its obs")
    return serial.astype(np.int64)


def _check_batch_layout(batch: Batch, counts: np.ndarray) -> None:
    b = int(counts.sum())
    for name, shape, kind in (
        ("obs", (b, *OBS), np.float32),
        ("actions", (b, ACT), np.float32),
        ("rewards", (b,), np.float32),
        ("next_obs", (b, *OBS), np.float32),
        ("terminated", (b,), np.float32),
        ("task_ids", (b,), np.int64),
        ("indices", (b,), np.int64),
        ("weights", (b,), np.float32),
    ):
        arr = getattr(batch, name)
        _expect(isinstance(arr, np.ndarray), f"Batch.{name} is not a numpy array")
        _expect(arr.shape == shape, f"Batch.{name} has shape {arr.shape}, expected {shape}")
        _expect(arr.dtype == kind, f"Batch.{name} has dtype {arr.dtype}, expected {kind}")
    expected_ids = np.repeat(np.arange(counts.size), counts)
    _expect(np.array_equal(batch.task_ids, expected_ids), "rows are not grouped by task id")
    if b:
        w = batch.weights
        _expect(np.all((w > 0) & (w <= 1)), "weights must lie in (0, 1]")
        _expect(w.max() == 1.0, "the largest weight must be exactly 1")


def _check_accounting_and_fifo(make: ReplayFactory, alpha: float) -> None:
    buf = make(3, 4, OBS, ACT, alpha=alpha, seed=0)
    _expect(isinstance(buf, ReplayBuffer), "the adapter does not implement ReplayBuffer")
    _expect(len(buf) == 0 and buf.sizes().tolist() == [0, 0, 0], "a new buffer is not empty")
    buf.add(*_transitions([0, 1, 0, 0, 0, 0, 0], first=0))  # task 0 gets 6 > capacity 4
    _expect(buf.size(0) == 4 and buf.size(1) == 1 and buf.size(2) == 0, "sizes are wrong")
    _expect(len(buf) == 5, f"len is {len(buf)}, expected 5")
    _expect(buf.sizes().tolist() == [4, 1, 0], "sizes() disagrees with size()")
    counts = np.array([40, 3, 0])
    batch = buf.sample(counts)
    _check_batch_layout(batch, counts)
    serial = _serials(batch)
    _expect(set(serial[:40].tolist()) <= {3, 4, 5, 6}, "FIFO: an overwritten transition came back")
    _expect(set(serial[40:].tolist()) == {1}, "task 1 returned a transition it never held")
    _expect(len(buf.sample(np.zeros(3, dtype=np.int64))) == 0, "counts of 0 must give no rows")


def _check_priorities(make: ReplayFactory) -> None:
    buf = make(2, 32, OBS, ACT, alpha=0.6, seed=1)
    buf.add(*_transitions([0] * 20 + [1] * 20, first=0))
    # Index of every transition of task 0 (serials 0..19), learned from samples.
    index_of: dict[int, int] = {}
    for _ in range(50):
        seen = buf.sample(np.array([20, 0]))
        index_of.update(zip(_serials(seen).tolist(), seen.indices.tolist(), strict=True))
        if len(index_of) == 20:
            break
    _expect(len(index_of) == 20, "1000 uniform-priority draws never reached some transitions")
    serials = np.arange(20)
    indices = np.array([index_of[s] for s in serials.tolist()])
    buf.update_priorities(indices, np.where(serials == 7, 1e6, 1e-3))
    again = buf.sample(np.array([200, 0]))
    hits = np.mean(_serials(again) == 7)
    _expect(hits > 0.9, f"a 1e9x larger priority drew only {hits:.0%} of its task's rows")
    buf.update_priorities(indices, np.linspace(0.1, 9.0, 20))
    mixed = buf.sample(np.array([20, 0]))
    _expect(mixed.weights.min() < 0.9, "rows of unequal priority must get unequal weights")
    uniform = make(2, 32, OBS, ACT, alpha=0.0, seed=1)
    uniform.add(*_transitions([0] * 20, first=0))
    uniform.update_priorities(indices, np.linspace(0.1, 9, 20))
    _expect(np.all(uniform.sample(np.array([30, 0])).weights == 1.0), "alpha=0 needs weights 1")


def _check_bad_input(make: ReplayFactory, alpha: float) -> None:
    buf = make(2, 8, OBS, ACT, alpha=alpha, seed=2)
    good = _transitions([0, 0, 1], first=0)
    buf.add(*good)
    before = buf.state_dict()
    ids, obs, actions, rewards, next_obs, done = good
    cases: list[tuple[type[BaseException], Callable[[], object], str]] = [
        (IndexError, lambda: buf.add(np.array([0, 2, 1]), *good[1:]), "add: unknown task id"),
        (TypeError, lambda: buf.add(ids.astype(float), *good[1:]), "add: float task ids"),
        (ValueError, lambda: buf.add(ids, obs[:, :1], *good[2:]), "add: wrong obs shape"),
        (ValueError, lambda: buf.add(ids, obs, actions[:2], *good[3:]), "add: short actions"),
        (
            ValueError,
            lambda: buf.add(ids, obs, actions, np.array([0, np.nan, 0]), next_obs, done),
            "add: NaN reward",
        ),
        (
            ValueError,
            lambda: buf.add(ids, obs, actions, rewards, next_obs, np.array([0, 2, 0])),
            "add: terminated not 0/1",
        ),
        (ValueError, lambda: buf.sample(np.array([1, 1, 1])), "sample: counts of wrong length"),
        (ValueError, lambda: buf.sample(np.array([-1, 1])), "sample: negative count"),
        (TypeError, lambda: buf.sample(np.array([1.0, 1.0])), "sample: float counts"),
        (ValueError, lambda: buf.sample(np.array([1, 1]), beta=-0.5), "sample: beta < 0"),
        (IndexError, lambda: buf.update_priorities([16], [1.0]), "update: index out of range"),
        (IndexError, lambda: buf.update_priorities([5], [1.0]), "update: empty slot"),
        (ValueError, lambda: buf.update_priorities([0], [np.nan]), "update: NaN priority"),
        (ValueError, lambda: buf.update_priorities([0], [-1.0]), "update: negative priority"),
        (ValueError, lambda: buf.update_priorities([0, 1], [1.0]), "update: length mismatch"),
        (IndexError, lambda: buf.size(2), "size: unknown task"),
    ]
    for kind, call, what in cases:
        _raises(kind, call, what)
        _expect(_same_state(before, buf.state_dict()), f"{what}: the failed call changed state")
    empty = make(2, 8, OBS, ACT, alpha=alpha, seed=2)
    empty.add(*_transitions([0], first=0))
    _raises(EmptyTaskError, lambda: empty.sample(np.array([1, 1])), "sample: empty task")


def _check_state(make: ReplayFactory, alpha: float) -> None:
    buf = make(3, 16, OBS, ACT, alpha=alpha, seed=3)
    buf.add(*_transitions([0, 1, 2] * 7, first=0))
    b = buf.sample(np.array([5, 5, 5]))
    buf.update_priorities(b.indices, np.linspace(0.5, 3.0, len(b)))
    state = buf.state_dict()
    twin = make(3, 16, OBS, ACT, alpha=alpha, seed=99)
    twin.load_state_dict(state)
    counts = np.array([7, 3, 9])
    x, y = buf.sample(counts), twin.sample(counts)
    _expect(np.array_equal(x.indices, y.indices), "a restored buffer sampled differently")
    _expect(np.array_equal(_serials(x), _serials(y)), "a restored buffer holds other data")
    same_seed = make(3, 16, OBS, ACT, alpha=alpha, seed=3)
    same_seed.add(*_transitions([0, 1, 2] * 7, first=0))
    _expect(
        np.array_equal(same_seed.sample(np.array([5, 5, 5])).indices, b.indices),
        "the same seed and operations gave different samples",
    )
    other = make(4, 16, OBS, ACT, alpha=alpha, seed=3)
    _raises(CheckpointError, lambda: other.load_state_dict(state), "load: other num_tasks")
    broken = dict(state)
    broken.pop(sorted(broken)[0])
    before = twin.state_dict()
    _raises(CheckpointError, lambda: twin.load_state_dict(broken), "load: missing key")
    _expect(_same_state(before, twin.state_dict()), "a failed load changed state")


def check_replay_buffer(make: ReplayFactory, *, prioritized: bool = True) -> None:
    """Check a ReplayBuffer adapter; ``prioritized=False`` for uniform-only (alpha=0) ones."""
    alphas = [0.0, 0.6] if prioritized else [0.0]
    for alpha in alphas:
        _check_accounting_and_fifo(make, alpha)
        _check_bad_input(make, alpha)
        _check_state(make, alpha)
    if prioritized:
        _check_priorities(make)


# --------------------------------------------------------------------------- task sampler


def _check_simplex(q: np.ndarray, k: int, what: str) -> None:
    _expect(isinstance(q, np.ndarray) and q.dtype == np.float64, f"{what}: not float64 array")
    _expect(q.shape == (k,), f"{what}: shape {q.shape}, expected ({k},)")
    _expect(np.all(q >= 0) and abs(q.sum() - 1.0) < 1e-9, f"{what}: not a probability vector")


def _feed(sampler: TaskSampler, rng: np.random.Generator, k: int) -> None:
    ids = sampler.sample(12)
    sampler.observe(ids, rng.normal(100.0 * (ids + 1), 10.0), rng.random(12) < 0.5)
    sampler.update()


def check_task_sampler(make: SamplerFactory) -> None:
    """Check a TaskSampler adapter built by ``make(num_tasks, *, seed)``."""
    k = 5
    sampler = make(k, seed=0)
    _expect(isinstance(sampler, TaskSampler), "the adapter does not implement TaskSampler")
    _expect(sampler.num_tasks == k, "num_tasks is wrong")
    _check_simplex(sampler.probs, k, "initial probs")
    _expect(sampler.gaps.shape == (k,), "gaps must have one entry per task")
    draws = sampler.sample(1000)
    _expect(draws.dtype == np.int64 and draws.shape == (1000,), "sample: wrong dtype or shape")
    _expect(draws.min() >= 0 and draws.max() < k, "sample: task id out of range")
    _expect(sampler.sample(0).shape == (0,), "sample(0) must be empty")
    _expect(np.array_equal(make(k, seed=0).sample(1000), draws), "the same seed drew differently")
    rng = np.random.default_rng(0)
    for _ in range(3):
        _feed(sampler, rng, k)
        _check_simplex(sampler.probs, k, "probs after update")
    _check_simplex(sampler.update(), k, "update() return value")

    before = sampler.state_dict()
    ids = np.array([0, 1])
    for kind, call, what in [
        (IndexError, lambda: sampler.observe([0, k], [1.0, 2.0], [True, False]), "unknown task"),
        (TypeError, lambda: sampler.observe([0.0, 1.0], [1.0, 2.0], [1, 0]), "float task ids"),
        (ValueError, lambda: sampler.observe(ids, [1.0], [1, 0]), "length mismatch"),
        (ValueError, lambda: sampler.observe(ids, [1.0, np.nan], [1, 0]), "NaN return"),
        (ValueError, lambda: sampler.sample(-1), "negative draw count"),
    ]:
        _raises(kind, call, f"{type(sampler).__name__}: {what}")
        _expect(_same_state(before, sampler.state_dict()), f"{what}: the failed call changed state")

    twin = make(k, seed=123)
    twin.load_state_dict(sampler.state_dict())
    _expect(np.array_equal(twin.sample(500), sampler.sample(500)), "restored draws differ")
    _feed(twin, np.random.default_rng(1), k)
    _feed(sampler, np.random.default_rng(1), k)
    _expect(np.allclose(twin.probs, sampler.probs, rtol=0, atol=1e-12), "restored update differs")
    other = make(k + 1, seed=0)
    _raises(CheckpointError, lambda: other.load_state_dict(sampler.state_dict()), "load: other K")
    broken = dict(sampler.state_dict())
    broken.pop(sorted(broken)[0])
    _raises(CheckpointError, lambda: twin.load_state_dict(broken), "load: missing key")
