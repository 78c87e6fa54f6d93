"""Task draws: 1,000,000 bulk draws from 50 tasks after one DRATS update (q non-uniform),
C++ alias table vs the numpy twin vs numpy's Generator.choice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import drats

DRAWS = 1_000_000
K = 50


def _updated(sampler: Any) -> Any:
    rng = np.random.default_rng(0)
    ids = np.arange(K)
    sampler.observe(ids, rng.uniform(0, 5000, K), np.zeros(K, bool))
    sampler.update()
    return sampler


@pytest.mark.parametrize("impl", ["cpp", "numpy", "numpy-choice"])
def test_task_draws(benchmark: Any, impl: str) -> None:
    benchmark.group = "task draws 1M (50 tasks)"
    if impl == "numpy-choice":
        q = _updated(drats.NumpyDratsSampler(K)).probs
        rng = np.random.default_rng(0)
        benchmark(rng.choice, K, size=DRAWS, p=q)
        return
    cls = drats.DratsSampler if impl == "cpp" else drats.NumpyDratsSampler
    sampler = _updated(cls(K))
    benchmark(sampler.sample, DRAWS)
