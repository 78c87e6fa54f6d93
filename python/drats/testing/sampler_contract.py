"""Contract checker for the TaskSampler port: ``check_task_sampler(make)`` proves that a
sampler adapter honours :class:`drats.domain.ports.TaskSampler` (probabilities on the simplex,
draws in range and reproducible for a seed, ``update`` returning the new ``probs``, typed
errors that leave the sampler unchanged, and state dicts that restore its draws exactly).

A third-party adapter passes a factory that builds a fresh sampler on every call::

    make(num_tasks, *, seed) -> TaskSampler

    from drats.testing import check_task_sampler

    def test_my_sampler_honours_the_port() -> None:
        check_task_sampler(MySampler)
        check_task_sampler(lambda k, *, seed: MySampler(k, seed=seed, eta=0.5))

Bad input must raise the classes of :mod:`drats.domain.errors` and leave ``state_dict()``
unchanged. A broken contract raises ``AssertionError("TaskSampler contract: ...")`` naming
what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from drats.domain.errors import (
    CheckpointError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import TaskSampler
from drats.testing.assertions import Contract

SamplerFactory = Callable[..., TaskSampler]

_c = Contract("TaskSampler")


def _check_simplex(q: Any, k: int, what: str) -> None:
    _c.expect(isinstance(q, np.ndarray) and q.dtype == np.float64, f"{what}: not a float64 array")
    _c.expect(q.shape == (k,), f"{what}: shape {q.shape}, expected ({k},)")
    _c.expect(np.all(q >= 0) and abs(q.sum() - 1.0) < 1e-9, f"{what}: not a probability vector")


def _feed(sampler: TaskSampler, rng: np.random.Generator) -> None:
    ids = sampler.sample(12)
    sampler.observe(ids, rng.normal(100.0 * (ids + 1), 10.0), rng.random(12) < 0.5)
    sampler.update()


def _check_sampler_basics(make: SamplerFactory, k: int) -> None:
    sampler = make(k, seed=0)
    _c.expect(isinstance(sampler, TaskSampler), "the adapter does not implement TaskSampler")
    _c.expect(sampler.num_tasks == k, "num_tasks is wrong")
    _check_simplex(sampler.probs, k, "initial probs")
    gaps = sampler.gaps
    _c.expect(gaps.dtype == np.float64 and gaps.shape == (k,), "gaps must be float64[K]")
    draws = sampler.sample(1000)
    _c.expect(draws.dtype == np.int64 and draws.shape == (1000,), "sample: wrong dtype or shape")
    _c.expect(draws.min() >= 0 and draws.max() < k, "sample: task id out of range")
    _c.expect(sampler.sample(0).shape == (0,), "sample(0) must be empty")
    _c.expect(np.array_equal(make(k, seed=0).sample(1000), draws), "the same seed drew differently")
    q = sampler.probs
    q[:] = 0
    _check_simplex(sampler.probs, k, "probs after changing a returned copy")


def _check_sampler_updates(make: SamplerFactory, k: int) -> None:
    sampler = make(k, seed=1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        _feed(sampler, rng)
        _check_simplex(sampler.probs, k, "probs after update")
    sampler.observe(np.array([], dtype=np.int64), np.array([]), np.array([], dtype=bool))
    q = sampler.update()
    _check_simplex(q, k, "update() return value")
    _c.expect(np.array_equal(q, sampler.probs), "update() must return the new probs")


def _check_sampler_bad_input(make: SamplerFactory, k: int) -> None:
    sampler = make(k, seed=2)
    _feed(sampler, np.random.default_rng(2))
    ids = np.array([0, k - 1])
    _c.rejects_unchanged(
        sampler,
        [
            (UnknownTaskError, lambda: sampler.observe([0, k], [1.0, 2.0], [1, 0]), "task id K"),
            (UnknownTaskError, lambda: sampler.observe([-1], [1.0], [1]), "task id -1"),
            (InvalidDtypeError, lambda: sampler.observe([0.0, 1.0], [1, 2], [1, 0]), "float ids"),
            (InvalidDtypeError, lambda: sampler.observe([True], [1.0], [1]), "bool ids"),
            (InvalidInputError, lambda: sampler.observe(ids, [1.0], [1, 0]), "lengths differ"),
            (InvalidInputError, lambda: sampler.observe(ids, [1.0, np.nan], [1, 0]), "NaN"),
            (InvalidInputError, lambda: sampler.observe(ids, [1.0, 2.0], [1, 2]), "success 2"),
            (InvalidInputError, lambda: sampler.sample(-1), "negative draw count"),
        ],
    )


def _check_sampler_state(make: SamplerFactory, k: int) -> None:
    sampler = make(k, seed=3)
    _feed(sampler, np.random.default_rng(3))
    sampler.sample(7)
    twin = make(k, seed=123)
    twin.load_state_dict(sampler.state_dict())
    _c.expect(np.array_equal(twin.sample(500), sampler.sample(500)), "restored draws differ")
    _feed(twin, np.random.default_rng(1))
    _feed(sampler, np.random.default_rng(1))
    _c.expect(np.allclose(twin.probs, sampler.probs, rtol=0, atol=1e-12), "restored update differs")
    _c.expect(np.array_equal(twin.sample(100), sampler.sample(100)), "restored draws differ")
    other = make(k + 1, seed=0)
    state = sampler.state_dict()
    missing = dict(state)
    missing.pop(sorted(missing)[0])
    _c.rejects_unchanged(
        other, [(CheckpointError, lambda: other.load_state_dict(state), "load: other K")]
    )
    _c.rejects_unchanged(
        twin, [(CheckpointError, lambda: twin.load_state_dict(missing), "load: missing key")]
    )


def check_task_sampler(make: SamplerFactory) -> None:
    """Check a TaskSampler adapter built by ``make(num_tasks, *, seed)``."""
    for k in (1, 5):
        _check_sampler_basics(make, k)
        _check_sampler_updates(make, k)
        _check_sampler_bad_input(make, k)
        _check_sampler_state(make, k)
