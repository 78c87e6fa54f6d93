"""The C++ fanout-8 sum forest against a plain numpy model (hypothesis stateful test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from drats import _core, _core_testing
from drats.domain.errors import InvalidDtypeError, InvalidInputError, UnknownTaskError


def model_find(leaves: np.ndarray, u: float) -> int:
    """First leaf whose prefix sum exceeds u; past the end, the last positive leaf."""
    i = int(np.searchsorted(np.cumsum(leaves), u, side="right"))
    if i >= len(leaves):
        i = int(np.flatnonzero(leaves > 0)[-1])
    return i


class SumForestMachine(RuleBasedStateMachine):
    @initialize(trees=st.integers(1, 3), capacity=st.integers(1, 600))
    def make(self, trees: int, capacity: int) -> None:
        self.forest = _core_testing.SumForest(trees, capacity)
        # Takes every change leaf by leaf: its sums must equal, to the bit, those the batch
        # updates leave in `forest` (each node is always the same sum of its children).
        self.twin = _core_testing.SumForest(trees, capacity)
        self.leaves = np.zeros((trees, capacity))

    @rule(data=st.data(), value=st.floats(0.0, 1e3) | st.just(0.0))
    def set_leaf(self, data: st.DataObject, value: float) -> None:
        t = data.draw(st.integers(0, self.leaves.shape[0] - 1))
        i = data.draw(st.integers(0, self.leaves.shape[1] - 1))
        self.forest.set(t, i, value)
        self.twin.set(t, i, value)
        self.leaves[t, i] = value

    @rule(data=st.data())
    def set_batch(self, data: st.DataObject) -> None:
        # Up to 100 slots in any order, repeats allowed (the last wins): large batches on a
        # small tree take the whole-level path, small ones the slot-by-slot one.
        t = data.draw(st.integers(0, self.leaves.shape[0] - 1))
        n = data.draw(st.integers(0, 100))
        cap = self.leaves.shape[1]
        slots = data.draw(st.lists(st.integers(0, cap - 1), min_size=n, max_size=n))
        if data.draw(st.booleans()):
            slots.sort()  # as a sample's indices come
        values = data.draw(st.lists(st.floats(0.0, 1e3) | st.just(0.0), min_size=n, max_size=n))
        self.forest.set_batch(t, np.asarray(slots, dtype=np.int64), np.asarray(values))
        for i, v in zip(slots, values, strict=True):
            self.twin.set(t, i, v)
            self.leaves[t, i] = v

    @rule(data=st.data())
    def find(self, data: st.DataObject) -> None:
        t = data.draw(st.integers(0, self.leaves.shape[0] - 1))
        leaves = self.leaves[t]
        total = leaves.sum()
        if total <= 0:
            return
        u = data.draw(st.floats(0.0, 1.0, exclude_max=True)) * self.forest.total(t)
        got = self.forest.find(t, u)
        assert leaves[got] > 0
        # Exact agreement away from a boundary; at a boundary either neighbour is correct.
        if np.min(np.abs(np.cumsum(leaves) - u)) > 1e-9 * total:
            assert got == model_find(leaves, u)

    @rule(data=st.data())
    def find_batch_matches_find(self, data: st.DataObject) -> None:
        live = np.flatnonzero(self.leaves.sum(axis=1) > 0)
        if live.size == 0:
            return
        n = data.draw(st.integers(0, 40))
        trees = np.asarray(
            data.draw(st.lists(st.sampled_from(live.tolist()), min_size=n, max_size=n)),
            dtype=np.int64,
        )
        fracs = np.asarray(
            data.draw(st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=n, max_size=n))
        )
        u = fracs * np.asarray([self.forest.total(int(t)) for t in trees])
        batch = self.forest.find_batch(trees, u)
        assert batch.tolist() == [
            self.forest.find(int(t), x) for t, x in zip(trees, u, strict=True)
        ]

    @rule(data=st.data())
    def find_stratified_matches_find(self, data: st.DataObject) -> None:
        live = self.leaves.sum(axis=1) > 0
        counts = np.array(
            [data.draw(st.integers(0, 30)) if ok else 0 for ok in live], dtype=np.int64
        )
        u = []
        for t, c in enumerate(counts.tolist()):  # stratified: sorted draws within each tree
            fracs = data.draw(
                st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=c, max_size=c)
            )
            u += sorted(f * self.forest.total(t) for f in fracs)
        got = self.forest.find_stratified(counts, np.asarray(u))
        trees = np.repeat(np.arange(counts.size), counts)
        for t, x, leaf in zip(trees.tolist(), u, got.tolist(), strict=True):
            assert self.leaves[t, leaf] > 0
            cum = np.cumsum(self.leaves[t])
            if np.min(np.abs(cum - x)) > 1e-9 * cum[-1]:  # away from a boundary: exact
                assert leaf == model_find(self.leaves[t], x)

    @invariant()
    def totals_and_leaves_agree(self) -> None:
        if not hasattr(self, "forest"):
            return
        for t in range(self.leaves.shape[0]):
            assert self.forest.total(t) == pytest.approx(self.leaves[t].sum(), rel=1e-12, abs=1e-12)
            assert self.forest.total(t) == self.twin.total(t)
            i = self.leaves.shape[1] // 2
            assert self.forest.get(t, i) == self.leaves[t, i]


TestSumForestMachine = SumForestMachine.TestCase


def test_trees_are_independent() -> None:
    forest = _core_testing.SumForest(3, 50)
    forest.set(1, 7, 2.0)
    assert forest.total(0) == 0.0
    assert forest.total(2) == 0.0
    assert forest.total(1) == 2.0
    assert forest.find(1, 1.9) == 7


def test_find_past_total_returns_last_positive_leaf() -> None:
    forest = _core_testing.SumForest(1, 20)
    forest.set(0, 3, 1.0)
    forest.set(0, 11, 2.0)
    assert forest.find(0, forest.total(0)) == 11
    assert forest.find(0, forest.total(0) * 10) == 11
    assert forest.find(0, 0.0) == 3


def test_zero_leaves_are_never_found() -> None:
    forest = _core_testing.SumForest(2, 64)
    for i in range(0, 64, 3):
        forest.set(1, i, 0.5)
    u = np.linspace(0, forest.total(1), 1000, endpoint=False)
    found = forest.find_batch(np.ones(1000, dtype=np.int64), u)
    assert set(found.tolist()) == set(range(0, 64, 3))


def test_no_drift_after_many_updates() -> None:
    rng = np.random.default_rng(0)
    forest = _core_testing.SumForest(1, 1000)
    leaves = np.zeros(1000)
    for _ in range(20000):
        i = int(rng.integers(1000))
        v = float(rng.uniform(0, 1e6)) if rng.random() < 0.5 else float(rng.uniform(0, 1e-6))
        forest.set(0, i, v)
        leaves[i] = v
    assert forest.total(0) == pytest.approx(leaves.sum(), rel=1e-13)


def test_find_stratified_rejects_unsorted_queries() -> None:
    forest = _core_testing.SumForest(1, 16)
    for i in range(16):
        forest.set(0, i, 1.0)
    with pytest.raises(InvalidInputError, match="must not decrease"):
        forest.find_stratified([2], [5.0, 1.0])


def test_bad_input() -> None:
    forest = _core_testing.SumForest(2, 8)
    with pytest.raises(InvalidInputError):
        forest.find(0, 0.0)  # empty tree
    with pytest.raises(UnknownTaskError):
        forest.set(0, 8, 1.0)
    with pytest.raises(UnknownTaskError):
        forest.set(2, 0, 1.0)
    with pytest.raises(InvalidInputError):
        forest.set(0, 0, float("nan"))
    with pytest.raises(InvalidInputError):
        forest.set(0, 0, -1.0)
    with pytest.raises(InvalidInputError):
        _core_testing.SumForest(1, 0)
    forest.set(1, 3, 2.0)
    bad_batches = [
        (UnknownTaskError, 1, [3, 8], [1.0, 1.0]),  # a slot past the capacity
        (UnknownTaskError, 1, [-1], [1.0]),
        (UnknownTaskError, 2, np.zeros(0, np.int64), []),  # an unknown tree, nothing to set
        (InvalidInputError, 1, [3, 4], [1.0, float("nan")]),
        (InvalidInputError, 1, [3], [-1.0]),
        (InvalidInputError, 1, [3, 4], [1.0]),  # lengths differ
        (InvalidDtypeError, 1, [3.0], [1.0]),
    ]
    for error, tree, slots, values in bad_batches:
        with pytest.raises(error):
            forest.set_batch(tree, slots, values)
        assert forest.total(1) == 2.0  # nothing applied
        assert forest.get(1, 3) == 2.0


def test_the_production_module_does_not_expose_the_forest() -> None:
    assert hasattr(_core_testing, "SumForest")
    assert not hasattr(_core, "SumForest")
