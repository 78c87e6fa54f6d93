"""The assertion helpers every contract checker shares: their failures say which port's contract
broke and what broke."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drats.domain.errors import InvalidInputError, UnknownTaskError
from drats.testing.assertions import Contract, npz_roundtrip, same_state

C = Contract("Widget")


class Counter:
    """A tiny stateful object: ``bump`` adds one, ``bad`` adds one and then raises."""

    def __init__(self) -> None:
        self.n = 0

    def bump(self) -> None:
        self.n += 1

    def bad(self) -> None:
        self.n += 1
        raise InvalidInputError("bad")

    def state_dict(self) -> dict[str, Any]:
        return {"n": self.n}


def test_expect_names_the_port_and_what_broke() -> None:
    C.expect(True, "never shown")
    with pytest.raises(AssertionError, match=r"^Widget contract: sizes are wrong$"):
        C.expect(np.array([]).size, "sizes are wrong")


def test_raises_accepts_the_class_and_its_subclasses_only() -> None:
    C.raises(InvalidInputError, Counter().bad, "bad call")
    C.raises(ValueError, Counter().bad, "bad call")  # InvalidInputError is a ValueError
    with pytest.raises(
        AssertionError,
        match=r"^Widget contract: bad call: expected UnknownTaskError, got InvalidInputError: bad$",
    ):
        C.raises(UnknownTaskError, Counter().bad, "bad call")
    with pytest.raises(
        AssertionError, match=r"^Widget contract: quiet: expected UnknownTaskError, nothing was"
    ):
        C.raises(UnknownTaskError, Counter().bump, "quiet")


def test_rejects_unchanged_catches_a_failed_call_that_changed_state() -> None:
    counter = Counter()
    with pytest.raises(
        AssertionError, match=r"^Widget contract: half-done: the failed call changed"
    ):
        C.rejects_unchanged(counter, [(InvalidInputError, counter.bad, "half-done")])


def test_same_state_compares_keys_and_values() -> None:
    a = {"x": np.arange(3), "k": 2}
    assert same_state(a, {"x": np.arange(3), "k": 2})
    assert not same_state(a, {"x": np.arange(3)})
    assert not same_state(a, {"x": np.arange(3), "k": 3})
    assert not same_state(a, {"x": np.arange(1, 4), "k": 2})


def test_npz_roundtrip_gives_back_arrays_as_a_checkpoint_does() -> None:
    state = {"kind": "fake", "n": 3, "x": np.arange(4, dtype=np.uint64)}
    back = npz_roundtrip(state)
    assert back.keys() == state.keys()
    assert all(isinstance(v, np.ndarray) for v in back.values())
    assert back["kind"].ndim == 0
    assert str(back["kind"]) == "fake"
    assert back["x"].dtype == np.uint64
    assert np.array_equal(back["x"], state["x"])
    assert same_state(state, back)
