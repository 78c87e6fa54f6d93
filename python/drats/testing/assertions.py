"""The assertions shared by the contract checkers of :mod:`drats.testing`.

A failed check raises ``AssertionError`` (never a bare ``assert``, so the checkers also work
under ``python -O``) whose message starts with the port whose contract broke and then says what
broke, e.g. ``"ReplayBuffer contract: add: task id 2: expected UnknownTaskError, got KeyError:
2"``. A contract module makes one :class:`Contract` for its port and asserts through it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: One bad call of a contract: the error class it must raise, the call, and what it tries.
Case = tuple[type[BaseException], Callable[[], object], str]


@dataclass(frozen=True)
class Contract:
    """Assertions whose failures name the port of the contract being checked.

    Attributes:
        port: the port's name (``"ReplayBuffer"``), the first words of every failure message.
    """

    port: str

    def fail(self, message: str) -> AssertionError:
        """The error reporting that ``message`` broke this port's contract."""
        return AssertionError(f"{self.port} contract: {message}")

    def expect(self, condition: object, message: str) -> None:
        """Fail with ``message`` unless ``condition`` is true."""
        if not condition:
            raise self.fail(message)

    def raises(self, kind: type[BaseException], call: Callable[[], object], what: str) -> None:
        """``call()`` must raise ``kind`` (or a subclass); ``what`` names the call."""
        try:
            call()
        except kind:
            return
        except Exception as err:  # any other error is a contract failure
            message = f"{what}: expected {kind.__name__}, got {type(err).__name__}: {err}"
            raise self.fail(message) from err
        raise self.fail(f"{what}: expected {kind.__name__}, nothing was raised")

    def rejects_unchanged(self, obj: Any, cases: Sequence[Case]) -> None:
        """Every case raises its error class and leaves ``obj.state_dict()`` as it was."""
        before = obj.state_dict()
        for kind, call, what in cases:
            self.raises(kind, call, what)
            self.expect(
                same_state(before, obj.state_dict()), f"{what}: the failed call changed state"
            )


def same_state(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two flat state dicts hold the same keys with equal values."""
    if a.keys() != b.keys():
        return False
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def npz_roundtrip(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` after ``np.savez`` and ``np.load(allow_pickle=False)``, as a checkpoint
    stores it: every value comes back as a numpy array (a scalar as a 0-d one)."""
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
