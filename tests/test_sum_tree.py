"""The C++ fanout-8 sum tree against a plain numpy model (hypothesis stateful test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from drats import _core
from drats.domain.errors import InvalidInputError, UnknownTaskError


def model_find(leaves: np.ndarray, u: float) -> int:
    """First leaf whose prefix sum exceeds u; past the end, the last positive leaf."""
    c = np.cumsum(leaves)
    i = int(np.searchsorted(c, u, side="right"))
    if i >= len(leaves):
        i = int(np.flatnonzero(leaves > 0)[-1])
    return i


class SumTreeMachine(RuleBasedStateMachine):
    @initialize(capacity=st.integers(1, 600))
    def make(self, capacity: int) -> None:
        self.tree = _core.SumTree(capacity)
        self.leaves = np.zeros(capacity)

    @rule(data=st.data(), value=st.floats(0.0, 1e3) | st.just(0.0))
    def set_leaf(self, data: st.DataObject, value: float) -> None:
        i = data.draw(st.integers(0, len(self.leaves) - 1))
        self.tree.set(i, value)
        self.leaves[i] = value

    @rule(data=st.data())
    def find(self, data: st.DataObject) -> None:
        total = self.leaves.sum()
        if total <= 0:
            return
        frac = data.draw(st.floats(0.0, 1.0, exclude_max=True))
        u = frac * self.tree.total()
        got = self.tree.find(u)
        assert self.leaves[got] > 0
        c = np.cumsum(self.leaves)
        # Exact agreement away from a boundary; at a boundary either neighbour is correct.
        if np.min(np.abs(c - u)) > 1e-9 * total:
            assert got == model_find(self.leaves, u)

    @rule(data=st.data())
    def find_batch_matches_find(self, data: st.DataObject) -> None:
        if self.leaves.sum() <= 0:
            return
        fracs = data.draw(st.lists(st.floats(0.0, 1.0, exclude_max=True), max_size=40))
        u = np.asarray(fracs, dtype=np.float64) * self.tree.total()
        batch = self.tree.find_batch(u)
        assert batch.tolist() == [self.tree.find(x) for x in u]

    @invariant()
    def totals_and_leaves_agree(self) -> None:
        if not hasattr(self, "tree"):
            return
        assert self.tree.total() == pytest.approx(self.leaves.sum(), rel=1e-12, abs=1e-12)
        i = len(self.leaves) // 2
        assert self.tree.get(i) == self.leaves[i]


TestSumTreeMachine = SumTreeMachine.TestCase


def test_find_past_total_returns_last_positive_leaf() -> None:
    tree = _core.SumTree(20)
    tree.set(3, 1.0)
    tree.set(11, 2.0)
    assert tree.find(tree.total()) == 11
    assert tree.find(tree.total() * 10) == 11
    assert tree.find(0.0) == 3


def test_zero_leaves_are_never_found() -> None:
    tree = _core.SumTree(64)
    for i in range(0, 64, 3):
        tree.set(i, 0.5)
    u = np.linspace(0, tree.total(), 1000, endpoint=False)
    found = tree.find_batch(u)
    assert set(found.tolist()) == set(range(0, 64, 3))


def test_no_drift_after_many_updates() -> None:
    rng = np.random.default_rng(0)
    tree = _core.SumTree(1000)
    leaves = np.zeros(1000)
    for _ in range(20000):
        i = int(rng.integers(1000))
        v = float(rng.uniform(0, 1e6)) if rng.random() < 0.5 else float(rng.uniform(0, 1e-6))
        tree.set(i, v)
        leaves[i] = v
    assert tree.total() == pytest.approx(leaves.sum(), rel=1e-13)


def test_bad_input() -> None:
    tree = _core.SumTree(8)
    with pytest.raises(InvalidInputError):
        tree.find(0.0)  # empty tree
    with pytest.raises(UnknownTaskError):
        tree.set(8, 1.0)
    with pytest.raises(InvalidInputError):
        tree.set(0, float("nan"))
    with pytest.raises(InvalidInputError):
        tree.set(0, -1.0)
    with pytest.raises(InvalidInputError):
        _core.SumTree(0)
