"""Scenarios behind ``data/sampler_checkpoints.npz``: each numpy sampler plays windows of
episodes, is saved in the middle of one, and plays on. ``test_checkpoint_compat`` replays the
recorded file against the current code, so a checkpoint written by an earlier version keeps
loading, and the draws, updates and states before and after it stay the same bit for bit.

Regenerate the file only for a deliberate change of layout or behaviour, from the repository
root: ``python -m tests.samplers.checkpoint_scenarios``.

The file (read with ``np.load(..., allow_pickle=False)``) holds, for each sampler ``name`` and
window ``i`` in ``0 .. LAST``: ``name/w<i>/draws`` (``sample(DRAWS)`` at the start of the
window, which are also the tasks of its episodes), ``name/w<i>/returns`` and
``name/w<i>/successes`` (the episodes observed), and ``name/w<i>/probs`` (the q ``update``
returns when the window closes; the last window is left open). ``name/state/<key>`` is the state
dict once window ``SAVED`` is observed (before its update), ``name/layout`` one
``key=description`` string per entry of it in order, and ``name/after/<key>`` the state dict
once window ``LAST`` is observed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from drats.adapters.samplers.hedge import HedgeSampler
from drats.adapters.samplers.learning_progress import LearningProgressSampler
from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.adapters.samplers.numpy_uniform import NumpyUniformSampler
from drats.adapters.samplers.smt import SmtSampler

PATH = Path(__file__).parent / "data" / "sampler_checkpoints.npz"
K = 5
#: Task draws (and episodes) per window.
DRAWS = 12
#: The window the checkpoint is taken in, and the last window played.
SAVED, LAST = 6, 9

#: name -> (factory, mean return per task): returns spread around these, so some tasks reach
#: their targets or thresholds and the baselines' pools, floors and adaptive targets move.
SCENARIOS: dict[str, tuple[Callable[[], Any], list[float]]] = {
    "drats": (
        lambda: NumpyDratsSampler(
            K, target=[50.0, 60.0, 70.0, 80.0, 90.0], success_window=4, seed=11
        ),
        [10.0, 40.0, 65.0, 90.0, 120.0],
    ),
    "uniform": (
        lambda: NumpyUniformSampler(K, target=80.0, seed=12),
        [10.0, 40.0, 65.0, 90.0, 0.0],
    ),
    "hedge": (
        lambda: HedgeSampler(K, lr=0.7, smoothing=0.2, target=60.0, success_window=3, seed=13),
        [10.0, 40.0, 65.0, 90.0, -5.0],
    ),
    "lp": (
        lambda: LearningProgressSampler(K, success_window=3, solved_threshold=0.5, seed=14),
        [10.0, 40.0, 65.0, 90.0, 120.0],
    ),
    "smt": (
        lambda: SmtSampler(
            K,
            thresholds=[50.0, 60.0, 200.0, 80.0, 300.0],
            active_size=2,
            budget_episodes=3,
            unsolvable_return=30.0,
            seed=15,
        ),
        [10.0, 70.0, 65.0, 90.0, 20.0],
    ),
}


def describe(value: Any) -> str:
    """How a state-dict entry is stored: its Python type, or an array's dtype and shape."""
    if isinstance(value, np.ndarray):
        return f"ndarray:{value.dtype.str}:{value.shape}"
    return type(value).__name__


def record(name: str) -> dict[str, Any]:
    """Play scenario ``name`` from scratch; the file's entries for it."""
    make, means = SCENARIOS[name]
    sampler, rng, out = make(), np.random.default_rng(0), {}
    for i in range(LAST + 1):
        draws = sampler.sample(DRAWS)
        returns = np.asarray(means)[draws] + rng.normal(0.0, 15.0, DRAWS)
        successes = returns > 50.0
        sampler.observe(draws, returns, successes)
        out.update({f"{name}/w{i}/draws": draws, f"{name}/w{i}/returns": returns})
        out[f"{name}/w{i}/successes"] = successes
        if i == SAVED:
            state = sampler.state_dict()
            out.update({f"{name}/state/{key}": value for key, value in state.items()})
            out[f"{name}/layout"] = np.array([f"{k}={describe(v)}" for k, v in state.items()])
        if i < LAST:
            out[f"{name}/w{i}/probs"] = sampler.update()
    out.update({f"{name}/after/{key}": value for key, value in sampler.state_dict().items()})
    return out


def main() -> None:
    arrays: dict[str, Any] = {}
    for name in SCENARIOS:
        arrays.update(record(name))
    np.savez_compressed(PATH, **arrays)
    with np.load(PATH, allow_pickle=False) as saved:  # it must read back without pickle
        assert sorted(saved.files) == sorted(arrays)


if __name__ == "__main__":
    main()
