"""Counter-based SplitMix64 random numbers, the twin of ``cpp/include/drats/rng.h``.

Draw k (k = 1, 2, ...) of a stream with key ``key`` is ``mix(key + k * GAMMA)`` (mod 2**64), so
a stream is fully described by ``(key, counter)`` and numpy can draw a whole block at once.
The key of a seed is ``mix(seed + GAMMA)``. Uniform doubles are ``(x >> 11) * 2**-53`` in [0, 1).
Both implementations produce bit-identical sequences, which is what lets the numpy adapters
serve as exact oracles for the C++ ones.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


def mix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's output function, applied element-wise (wrapping uint64 arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def seed_key(seed: int) -> int:
    """The stream key of an integer seed (any Python int; taken mod 2**64)."""
    z = np.array([(int(seed) + int(GAMMA)) & _MASK64], dtype=np.uint64)
    return int(mix64(z)[0])


class CounterRng:
    """A SplitMix64 stream: ``key`` fixes the stream, ``counter`` counts the draws made."""

    __slots__ = ("counter", "key")

    def __init__(self, seed: int = 0) -> None:
        self.key = seed_key(seed)
        self.counter = 0

    def next_u64(self, n: int) -> NDArray[np.uint64]:
        """The next ``n`` raw 64-bit draws (the counter wraps mod 2**64, as in C++)."""
        steps = np.uint64((self.counter + 1) & _MASK64) + np.arange(n, dtype=np.uint64)
        self.counter = (self.counter + n) & _MASK64
        return mix64(np.uint64(self.key) + steps * GAMMA)

    def uniform(self, n: int) -> NDArray[np.float64]:
        """The next ``n`` doubles in [0, 1)."""
        return (self.next_u64(n) >> np.uint64(11)).astype(np.float64) * (2.0**-53)

    def get_state(self) -> NDArray[np.uint64]:
        """uint64[2]: (key, counter)."""
        return np.array([self.key, self.counter], dtype=np.uint64)

    def set_state(self, state: NDArray[np.uint64]) -> None:
        self.key, self.counter = int(state[0]), int(state[1])


class UniformStream:
    """The uniform doubles of a :class:`CounterRng`, drawn in blocks and handed out a few at a
    time: the same sequence as calling ``rng.uniform`` for every request, at a fraction of the
    per-call cost when the requests are small (a handful of actions per environment step).

    The state is the position of the next double handed out, not of the block, so a stream
    restored from :meth:`get_state` continues with exactly the doubles the original would have.
    """

    __slots__ = ("_block", "_buffer", "_next", "_rng")

    def __init__(self, seed: int = 0, block: int = 4096) -> None:
        self._rng = CounterRng(seed)
        self._block = block
        self._buffer = np.zeros(0)
        self._next = 0

    def uniform(self, n: int) -> NDArray[np.float64]:
        """The next ``n`` doubles in [0, 1) (a fresh array)."""
        if self._next + n > self._buffer.size:
            rest = self._buffer[self._next :]
            fresh = self._rng.uniform(max(self._block, n - rest.size))
            self._buffer, self._next = np.concatenate([rest, fresh]), 0
        out = self._buffer[self._next : self._next + n].copy()
        self._next += n
        return out

    def get_state(self) -> NDArray[np.uint64]:
        """uint64[2]: (key, number of doubles handed out), as :meth:`CounterRng.get_state`."""
        unused = self._buffer.size - self._next
        return np.array([self._rng.key, (self._rng.counter - unused) & _MASK64], dtype=np.uint64)

    def set_state(self, state: NDArray[np.uint64]) -> None:
        self._rng.set_state(state)
        self._buffer, self._next = np.zeros(0), 0
