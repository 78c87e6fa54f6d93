"""The C++ replay and its numpy twin driven in lockstep by hypothesis: after every operation
they hold the same data, leaves, ring positions and per-task maximum priority, and every
sample returns the same rows (or both raise the same error)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from drats import CppPerTaskReplay, NumpyPerTaskReplay

OBS, ACT = 2, 1


class ReplayTwins(RuleBasedStateMachine):
    @initialize(
        k=st.integers(1, 4),
        cap=st.integers(1, 20),
        alpha=st.sampled_from([0.0, 0.5, 1.0]),
        seed=st.integers(0, 2**32),
    )
    def make(self, k: int, cap: int, alpha: float, seed: int) -> None:
        self.k = k
        self.cpp = CppPerTaskReplay(k, cap, OBS, ACT, alpha=alpha, seed=seed)
        self.ref = NumpyPerTaskReplay(k, cap, OBS, ACT, alpha=alpha, seed=seed)
        self.serial = 0

    def both(self, name: str, *args: object, **kwargs: object) -> tuple[object, object]:
        outcomes = []
        for buf in (self.cpp, self.ref):
            try:
                outcomes.append(getattr(buf, name)(*args, **kwargs))
            except Exception as err:  # compared below
                outcomes.append(err)
        a, b = outcomes
        if isinstance(a, Exception) or isinstance(b, Exception):
            assert type(a) is type(b), f"{name}: {a!r} vs {b!r}"
        return a, b

    @rule(data=st.data())
    def add(self, data: st.DataObject) -> None:
        ids = np.asarray(data.draw(st.lists(st.integers(0, self.k - 1), max_size=30)), np.int64)
        n = ids.size
        serial = np.arange(self.serial, self.serial + n, dtype=np.float32)
        self.serial += n
        obs = np.repeat(serial[:, None], OBS, axis=1)
        self.both("add", ids, obs, -serial[:, None], serial, obs + 1, serial % 2)

    @rule(data=st.data(), beta=st.floats(0.0, 1.0))
    def sample_and_reprioritise(self, data: st.DataObject, beta: float) -> None:
        counts = np.asarray(
            data.draw(st.lists(st.integers(0, 12), min_size=self.k, max_size=self.k))
        )
        a, b = self.both("sample", counts, beta=beta)
        if isinstance(a, Exception):
            return
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_allclose(a.weights, b.weights, rtol=2e-6)
        if len(a):
            raw = data.draw(st.lists(st.floats(1e-3, 1e3), min_size=len(a), max_size=len(a)))
            self.both("update_priorities", a.indices, np.asarray(raw))

    @rule(index=st.integers(-2, 90), priority=st.sampled_from([0.5, 7.0, 0.0, np.nan, -1.0]))
    def update_one(self, index: int, priority: float) -> None:
        self.both("update_priorities", np.array([index]), np.array([priority]))

    @invariant()
    def same_state(self) -> None:
        if not hasattr(self, "cpp"):
            return
        x, y = self.cpp.state_dict(), self.ref.state_dict()
        assert x.keys() == y.keys()
        for key in x:
            np.testing.assert_allclose(
                np.asarray(x[key], dtype=float),
                np.asarray(y[key], dtype=float),
                rtol=1e-13,
                err_msg=key,
            )


TestReplayTwins = ReplayTwins.TestCase
