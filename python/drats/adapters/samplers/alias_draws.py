"""The draw side of the numpy samplers: q, its alias table, and the counter-based stream the
draws come from. The alias table and the stream are those of the C++ samplers, so the same q
and seed give the same task ids in both."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from drats.domain.checks import as_count, as_seed
from drats.domain.drats_math import alias_draw, build_alias
from drats.domain.errors import CheckpointError
from drats.domain.rng import CounterRng


def checked_probs(probs: NDArray[np.floating]) -> NDArray[np.float64]:
    """A saved q as a fresh float64 array; CheckpointError unless it is a probability vector."""
    if not (np.all(np.isfinite(probs) & (probs >= 0)) and abs(probs.sum() - 1.0) <= 1e-6):
        raise CheckpointError("state dict 'probs' must be a probability vector")
    return probs.astype(np.float64, copy=True)


class AliasDraws:
    """Task draws from q through Vose's alias table (:func:`~drats.domain.drats_math.build_alias`)
    and a :class:`~drats.domain.rng.CounterRng` stream: one uniform per draw.

    Args:
        num_tasks: K >= 1 (already checked); q starts uniform.
        seed: seed of the stream (ConfigError unless :func:`~drats.domain.checks.as_seed`
            accepts it).
    """

    def __init__(self, num_tasks: int, seed: object) -> None:
        self._probs = np.full(num_tasks, 1.0 / num_tasks)
        self._rng = CounterRng(as_seed(seed))
        self._alias = build_alias(self._probs)

    @property
    def probs(self) -> NDArray[np.float64]:
        """float64[K], q (a copy)."""
        return self._probs.copy()

    def set_probs(self, probs: NDArray[np.float64]) -> None:
        """Draw from ``probs`` (a probability vector the caller owns no more) from now on."""
        self._probs = probs
        self._alias = build_alias(probs)

    def sample(self, n: object) -> NDArray[np.int64]:
        """``n`` task ids (an int in [0, MAX_DRAWS], not a bool; InvalidInputError otherwise)."""
        count = as_count(n, "n")
        return alias_draw(*self._alias, self._rng.uniform(count))

    def rng_state(self) -> NDArray[np.uint64]:
        """uint64[2], the stream's state (its ``rng`` state-dict entry)."""
        return self._rng.get_state()

    def load(self, probs: NDArray[np.float64], rng_state: NDArray[np.unsignedinteger]) -> None:
        """Install a checked q (:func:`checked_probs`) and a stream state read from a state
        dict (shape (2,), unsigned)."""
        self.set_probs(probs)
        self._rng.set_state(rng_state)
