"""Task draws: one call drawing 1,000,000 task ids from 50 tasks.

Each sampler first observes one window of episodes with spread-out returns and calls
``update()`` once, so q is non-uniform. Implementations: ``cpp`` (drats' C++ alias table),
``numpy`` (drats' numpy reference) and ``numpy-choice`` (``Generator.choice(K, size, p=q)``,
the obvious one-liner, given the same q).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

import drats

DRAWS = 1_000_000
K = 50


def _sampler(impl: str) -> Any:
    if impl == "numpy":
        try:
            module = importlib.import_module("drats.adapters.samplers.numpy_drats")
        except ImportError as err:
            pytest.skip(f"numpy sampler unavailable: {err}")
        sampler = module.NumpyDratsSampler(K, seed=0)
    else:
        sampler = drats.DratsSampler(K, seed=0)
    rng = np.random.default_rng(0)
    sampler.observe(np.arange(K), rng.uniform(0.0, 5000.0, K), np.zeros(K, dtype=bool))
    sampler.update()
    return sampler


@pytest.mark.benchmark(group="task draws 1M (50 tasks)")
@pytest.mark.parametrize("impl", ["cpp", "numpy", "numpy-choice"])
def test_task_draws(benchmark: Any, impl: str) -> None:
    benchmark.extra_info["draws"] = DRAWS  # the summary reports ns per draw from this
    if impl == "numpy-choice":
        q = _sampler("cpp").probs
        rng = np.random.default_rng(0)
        draw = rng.choice(K, size=DRAWS, p=q)  # warm-up
        benchmark(rng.choice, K, size=DRAWS, p=q)
    else:
        sampler = _sampler(impl)
        draw = sampler.sample(DRAWS)  # warm-up
        benchmark(sampler.sample, DRAWS)
    assert draw.shape == (DRAWS,)
