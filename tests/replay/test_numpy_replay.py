"""Behaviour of NumpyPerTaskReplay, the numpy oracle of the C++ replay: FIFO rings, priority
leaves, stratified proportional sampling, importance weights, errors and the state dict.

Statistical tests use fixed seeds and state their tolerance; the chi-square bound is the 0.999
quantile (scipy when installed, else the Wilson-Hilferty approximation, within 1% there).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drats.adapters.replay.numpy_replay import NumpyPerTaskReplay
from drats.domain.errors import (
    CheckpointError,
    ConfigError,
    EmptyTaskError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.rng import CounterRng
from drats.testing import FakeReplayBuffer

TINY = np.finfo(np.float64).tiny


def chi2_bound(df: int, q: float = 0.999) -> float:
    """The ``q`` quantile of the chi-square distribution with ``df`` degrees of freedom."""
    try:
        from scipy.stats import chi2  # type: ignore[import-untyped]
    except ImportError:  # Wilson-Hilferty; z is the standard normal quantile of 0.999
        z = 3.090232306167813
        return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3
    return float(chi2.ppf(q, df))


def rows(ids: list[int], first: int = 0, obs_dim: int = 3, act_dim: int = 2) -> tuple[Any, ...]:
    """Transitions whose fields all encode a serial number (``obs[i] == first + i``)."""
    n = len(ids)
    s = np.arange(first, first + n, dtype=np.float32)
    return (
        np.asarray(ids, dtype=np.int64),
        np.repeat(s[:, None], obs_dim, axis=1),
        np.repeat(-s[:, None], act_dim, axis=1),
        s * 10,
        np.repeat(s[:, None] + 0.5, obs_dim, axis=1),
        (s % 2).astype(np.float32),
    )


def make(k: int = 2, cap: int = 8, *, alpha: float = 0.6, seed: int = 0) -> NumpyPerTaskReplay:
    return NumpyPerTaskReplay(k, cap, 3, 2, alpha=alpha, seed=seed)


# ------------------------------------------------------------------------------ construction


def test_shapes_accept_an_int_or_a_tuple() -> None:
    buf = NumpyPerTaskReplay(2, 4, (2, 3), 4, alpha=0.5)
    assert (buf.obs_shape, buf.action_shape, buf.alpha) == ((2, 3), (4,), 0.5)
    assert buf.state_dict()["obs"].shape == (2, 4, 2, 3)
    assert buf.state_dict()["obs_shape"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((0, 4, 3, 2), {}, "num_tasks"),
        ((True, 4, 3, 2), {}, "num_tasks"),
        ((2, 0, 3, 2), {}, "capacity_per_task"),
        ((2, 2.5, 3, 2), {}, "capacity_per_task"),
        ((2, 4, (), 2), {}, "obs_shape"),
        ((2, 4, (3, 0), 2), {}, "obs_shape"),
        ((2, 4, "3", 2), {}, "obs_shape"),
        ((2, 4, 3, -1), {}, "action_shape"),
        ((2, 4, 3, 2), {"alpha": -0.1}, "alpha"),
        ((2, 4, 3, 2), {"alpha": float("nan")}, "alpha"),
        ((2, 4, 3, 2), {"alpha": "big"}, "alpha"),
        ((2, 4, 3, 2), {"seed": 1.5}, "seed"),
    ],
)
def test_bad_settings_raise_config_error_naming_them(
    args: tuple[Any, ...], kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        NumpyPerTaskReplay(*args, **kwargs)


# ---------------------------------------------------------------------------------------- add


def test_rows_fill_each_ring_in_order_and_overwrite_the_oldest() -> None:
    buf = make(2, 3)
    buf.add(*rows([0, 1, 0, 0, 0], first=0))  # task 0: serials 0 2 3 4 -> 4 overwrites 0
    s = buf.state_dict()
    assert s["obs"][0, :, 0].tolist() == [4, 2, 3]
    assert s["obs"][1, :, 0].tolist() == [1, 0, 0]
    assert s["positions"].tolist() == [1, 1]
    assert s["sizes"].tolist() == [3, 1]
    buf.add(*rows([0] * 7, first=10))  # more rows than capacity in one call: last 3 survive
    s = buf.state_dict()
    assert s["obs"][0, :, 0].tolist() == [15, 16, 14]
    assert s["positions"].tolist() == [(1 + 7) % 3, 1]
    assert (buf.size(0), buf.size(1), len(buf)) == (3, 1, 4)


def test_every_field_lands_in_the_same_slot() -> None:
    buf = make(1, 4)
    buf.add(*rows([0, 0, 0]))
    s = buf.state_dict()
    np.testing.assert_array_equal(s["actions"][0, :3, 0], [0, -1, -2])
    np.testing.assert_array_equal(s["rewards"][0, :3], [0, 10, 20])
    np.testing.assert_array_equal(s["next_obs"][0, :3, 0], [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(s["terminated"][0], [0, 1, 0, 0])


def test_accepted_dtypes_are_cast() -> None:
    buf = make(2, 4)
    buf.add(
        np.array([1, 0], dtype=np.uint8),
        np.ones((2, 3), dtype=np.int32),
        np.zeros((2, 2), dtype=bool),
        np.array([1, 2], dtype=np.int64),
        np.ones((2, 3), dtype=np.float64),
        np.array([True, False]),
    )
    s = buf.state_dict()
    assert s["obs"].dtype == np.float32
    assert s["terminated"][1, 0] == 1.0
    none = np.zeros(0)
    buf.add(none.astype(int), np.zeros((0, 3)), np.zeros((0, 2)), none, np.zeros((0, 3)), none)
    assert buf.sizes().tolist() == [1, 1]


def test_a_new_transition_enters_with_the_task_max_priority() -> None:
    buf = make(2, 4, alpha=0.5)
    buf.add(*rows([0, 1]))
    np.testing.assert_array_equal(buf.state_dict()["priorities"][:, 0], [1.0, 1.0])
    buf.update_priorities([0], [16.0])
    buf.update_priorities([0], [4.0])  # max_priority stays at the largest raw value seen
    buf.add(*rows([0, 1]))
    s = buf.state_dict()
    assert s["priorities"][0, :2].tolist() == [2.0, 4.0]  # 4 ** 0.5, then 16 ** 0.5
    assert s["priorities"][1, :2].tolist() == [1.0, 1.0]  # task 1 unaffected
    assert s["max_priority"].tolist() == [16.0, 1.0]


def test_priority_leaves_and_their_floor() -> None:
    buf = make(1, 4, alpha=1.0)
    buf.add(*rows([0, 0, 0]))
    buf.update_priorities([0, 1, 2, 1], [3.0, 1e-320, 5.0, 7.0])  # repeated index: last wins
    leaves = buf.state_dict()["priorities"][0]
    assert leaves.tolist() == [3.0, 7.0, 5.0, 0.0]
    buf.update_priorities([1], [1e-320])  # below DBL_MIN: the leaf is DBL_MIN, never 0
    assert buf.state_dict()["priorities"][0, 1] == TINY
    zero_alpha = make(1, 4, alpha=0.0)
    zero_alpha.add(*rows([0, 0]))
    zero_alpha.update_priorities([0, 1], [1e-9, 1e9])
    assert zero_alpha.state_dict()["priorities"][0].tolist() == [1.0, 1.0, 0.0, 0.0]


# ------------------------------------------------------------------------------------- sample


def reference_sample(
    state: dict[str, Any], counts: list[int], beta: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """A direct, loop-by-loop transcription of the sampling rule in per_task_replay.h."""
    rng = CounterRng(0)
    rng.set_state(state["rng"])
    u = rng.uniform(sum(counts))
    cap = state["priorities"].shape[1]
    indices, weights = [], []
    j = 0
    for t, n in enumerate(counts):
        leaves = state["priorities"][t]
        c = np.cumsum(leaves)
        total = c[-1]
        for i in range(n):
            x = (i + u[j]) * (total / n)
            j += 1
            slot = int(np.searchsorted(c, x, side="right"))
            if slot >= cap:
                slot = int(np.flatnonzero(leaves > 0)[-1])
            indices.append(t * cap + slot)
            weights.append((state["sizes"][t] * leaves[slot] / total) ** (-beta))
    w = np.array(weights)
    return np.array(indices, dtype=np.int64), (w / w.max()).astype(np.float32)


@pytest.mark.parametrize("beta", [0.0, 0.4, 1.0])
def test_sample_follows_the_reference_rule_exactly(beta: float) -> None:
    buf = make(3, 16, alpha=0.7, seed=11)
    buf.add(*rows([0] * 20 + [2] * 9))  # task 0 wrapped, task 1 empty, task 2 partly full
    prio = np.random.default_rng(0).uniform(0.01, 5.0, 16)
    buf.update_priorities(np.arange(16), prio)
    buf.update_priorities(32 + np.arange(9), prio[:9])
    counts = [13, 0, 5]
    want_idx, want_w = reference_sample(buf.state_dict(), counts, beta, 0.7)
    got = buf.sample(counts, beta=beta)
    np.testing.assert_array_equal(got.indices, want_idx)
    np.testing.assert_allclose(got.weights, want_w, rtol=1e-6)
    assert got.weights.max() == 1.0
    np.testing.assert_array_equal(got.task_ids, [0] * 13 + [2] * 5)
    slots = got.indices % 16
    state = buf.state_dict()
    np.testing.assert_array_equal(got.obs, state["obs"][got.task_ids, slots])


def unmix64(y: int) -> int:
    """The inverse of SplitMix64's output function (each step is a bijection on 64 bits)."""

    def unshift(v: int, s: int) -> int:  # inverse of v ^ (v >> s)
        x = v
        for _ in range(64 // s + 1):
            x = v ^ (x >> s)
        return x

    mod = 1 << 64
    z = unshift(y, 31) * pow(0x94D049BB133111EB, -1, mod) % mod
    z = unshift(z, 27) * pow(0xBF58476D1CE4E5B9, -1, mod) % mod
    return unshift(z, 30)


def test_a_draw_rounded_past_the_total_falls_back_to_the_last_filled_slot() -> None:
    # Choose the stream so that the 2nd draw is the largest uniform, 1 - 2**-53: then
    # x = (1 + u) * (total / 2) rounds to total, past every cumulative sum.
    gamma = 0x9E3779B97F4A7C15  # drats.domain.rng.GAMMA
    key = (unmix64((1 << 64) - 1) - 2 * gamma) % (1 << 64)
    rng = CounterRng(0)
    rng.set_state(np.array([key, 0], dtype=np.uint64))
    u = rng.uniform(2)
    assert u[1] == 1 - 2.0**-53
    assert (1 + u[1]) * 0.5 == 1.0  # the rounding this test is about
    buf = make(1, 8, alpha=1.0)
    buf.add(*rows([0, 0, 0]))  # 3 of 8 slots filled: slots 3..7 have leaf 0
    buf.update_priorities([0, 1, 2], [0.3, 0.1, 0.6])
    buf.load_state_dict({**buf.state_dict(), "rng": np.array([key, 0], dtype=np.uint64)})
    b = buf.sample([2])
    assert b.indices[1] == 2  # the last slot with a positive leaf, not an empty one
    assert np.all(np.isfinite(b.weights))


def test_the_stream_advances_by_exactly_the_batch_size() -> None:
    buf = make(3, 8, seed=5)
    buf.add(*rows([0, 0, 2]))
    start = int(buf.state_dict()["rng"][1])
    buf.sample([0, 0, 0])
    assert int(buf.state_dict()["rng"][1]) == start  # B == 0 draws nothing
    buf.sample([3, 0, 2])
    assert int(buf.state_dict()["rng"][1]) == start + 5


def test_an_empty_request_gives_an_empty_batch_with_the_right_shapes() -> None:
    buf = NumpyPerTaskReplay(2, 4, (2, 3), 5)
    b = buf.sample([0, 0])  # allowed even though both tasks are empty
    assert b.obs.shape == (0, 2, 3)
    assert b.actions.shape == (0, 5)
    assert b.weights.shape == (0,)
    assert b.indices.dtype == np.int64
    assert b.weights.dtype == np.float32


def test_equal_priorities_and_count_equal_to_size_return_every_slot_once() -> None:
    for alpha in (0.0, 0.6):
        buf = make(2, 8, alpha=alpha, seed=3)
        buf.add(*rows([0] * 7 + [1] * 5))
        for _ in range(20):
            b = buf.sample([7, 5])
            assert sorted(b.indices[:7].tolist()) == list(range(7))
            assert sorted(b.indices[7:].tolist()) == list(range(8, 13))
            np.testing.assert_array_equal(b.weights, 1.0)


def test_frequencies_within_a_task_follow_priority_to_the_alpha() -> None:
    # 2000 calls of 32 stratified draws from 10 slots; stratification only lowers the
    # statistic, so the 0.999 chi-square quantile (df = 9) is a conservative bound.
    alpha, cap = 0.6, 10
    buf = make(2, cap, alpha=alpha, seed=7)
    buf.add(*rows([0] * cap + [1] * 3))
    raw = np.random.default_rng(1).uniform(0.05, 20.0, cap)
    buf.update_priorities(np.arange(cap), raw)
    hits = np.zeros(cap)
    for _ in range(2000):
        b = buf.sample([32, 1])
        hits += np.bincount(b.indices[:32], minlength=cap)
    p = raw**alpha / (raw**alpha).sum()
    expected = hits.sum() * p
    assert (((hits - expected) ** 2) / expected).sum() < chi2_bound(cap - 1)


def test_single_draws_match_priorities_by_chi_square() -> None:
    # counts of 1 are not stratified at all: plain proportional sampling. 6000 draws, df = 4.
    buf = make(1, 5, alpha=1.0, seed=9)
    buf.add(*rows([0] * 5))
    raw = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    buf.update_priorities(np.arange(5), raw)
    hits = np.bincount([int(buf.sample([1]).indices[0]) for _ in range(6000)], minlength=5)
    expected = 6000 * raw / raw.sum()
    assert (((hits - expected) ** 2) / expected).sum() < chi2_bound(4)


def test_weights_are_the_normalised_importance_ratios() -> None:
    buf = make(2, 4, alpha=1.0, seed=2)
    buf.add(*rows([0, 0, 0, 0, 1, 1]))
    buf.update_priorities([0, 1, 2, 3, 4, 5], [1.0, 2.0, 3.0, 4.0, 1.0, 3.0])
    beta = 0.5
    b = buf.sample([4, 2], beta=beta)
    p = np.array([1, 2, 3, 4, 1, 3]) / np.array([10, 10, 10, 10, 4, 4])
    n = np.array([4, 4, 4, 4, 2, 2])
    w = (n * p) ** -beta
    slot_of = {i: j for j, i in enumerate([0, 1, 2, 3, 4, 5])}
    want = w[[slot_of[int(i)] for i in b.indices]]
    np.testing.assert_allclose(b.weights, want / want.max(), rtol=1e-6)
    assert b.weights.max() == 1.0


def test_same_seed_same_samples_other_seed_other_samples() -> None:
    a, b, c = make(seed=4), make(seed=4), make(seed=5)
    for buf in (a, b, c):
        buf.add(*rows([0] * 8 + [1] * 8))
        buf.update_priorities(np.arange(16), np.arange(1.0, 17.0))
    x, y, z = (buf.sample([3, 3]).indices for buf in (a, b, c))
    np.testing.assert_array_equal(x, y)
    assert not np.array_equal(x, z)


# ------------------------------------------------------------------------------------- errors


def test_messages_name_the_argument_and_the_expected_shape() -> None:
    buf = make(2, 4)
    ids, obs, actions, rewards, next_obs, done = rows([0, 1, 1])
    with pytest.raises(InvalidInputError, match=r"obs must have shape \(n, 3\) = \(3, 3\), got"):
        buf.add(ids, obs[:, :2], actions, rewards, next_obs, done)
    with pytest.raises(InvalidInputError, match=r"counts must have shape \(K,\) = \(2,\)"):
        buf.sample([1, 1, 1])
    with pytest.raises(InvalidDtypeError, match="task_ids"):
        buf.add(ids.astype(np.float32), obs, actions, rewards, next_obs, done)
    with pytest.raises(InvalidDtypeError, match="counts"):
        buf.sample(np.array([True, False]))
    with pytest.raises(InvalidInputError, match="terminated"):
        buf.add(ids, obs, actions, rewards, next_obs, np.array([0.0, 0.5, 1.0]))
    with pytest.raises(UnknownTaskError, match="task_ids"):
        buf.add(np.array([0, 2, 1]), obs, actions, rewards, next_obs, done)
    buf.add(*rows([0]))
    with pytest.raises(EmptyTaskError, match="task 1"):
        buf.sample([1, 1])
    with pytest.raises(UnknownTaskError, match="empty slot"):
        buf.update_priorities([1], [1.0])
    with pytest.raises(UnknownTaskError, match="indices"):
        buf.update_priorities([8], [1.0])
    with pytest.raises(InvalidInputError, match="priorities"):
        buf.update_priorities([0], [0.0])
    with pytest.raises(InvalidInputError, match="beta"):
        buf.sample([1, 0], beta=float("nan"))


def test_values_that_overflow_float32_are_rejected_not_stored() -> None:
    buf = make(1, 4)
    ids, obs, actions, rewards, next_obs, done = rows([0], first=1)
    with pytest.raises(InvalidInputError, match="obs must be finite"):
        buf.add(ids, obs.astype(np.float64) * 1e300, actions, rewards, next_obs, done)
    assert len(buf) == 0


def test_errors_are_checked_index_by_index_like_the_cpp_twin() -> None:
    buf = make(1, 4)
    buf.add(*rows([0, 0]))
    with pytest.raises(InvalidInputError):  # position 0 fails first: bad priority
        buf.update_priorities([0, 9], [-1.0, 1.0])
    with pytest.raises(UnknownTaskError):  # position 0 fails first: unknown index
        buf.update_priorities([9, 0], [1.0, -1.0])


# --------------------------------------------------------------------------------- state dict


def test_state_dict_layout() -> None:
    buf = NumpyPerTaskReplay(3, 5, (2, 2), 4, alpha=0.3)
    s = buf.state_dict()
    assert set(s) == {
        "num_tasks",
        "capacity_per_task",
        "obs_shape",
        "action_shape",
        "alpha",
        "obs",
        "actions",
        "rewards",
        "next_obs",
        "terminated",
        "priorities",
        "positions",
        "sizes",
        "max_priority",
        "rng",
    }
    assert (s["num_tasks"], s["capacity_per_task"], s["alpha"]) == (3, 5, 0.3)
    for key, shape, dtype in [
        ("obs_shape", (2,), np.int64),
        ("action_shape", (1,), np.int64),
        ("obs", (3, 5, 2, 2), np.float32),
        ("actions", (3, 5, 4), np.float32),
        ("rewards", (3, 5), np.float32),
        ("next_obs", (3, 5, 2, 2), np.float32),
        ("terminated", (3, 5), np.float32),
        ("priorities", (3, 5), np.float64),
        ("positions", (3,), np.int64),
        ("sizes", (3,), np.int64),
        ("max_priority", (3,), np.float64),
        ("rng", (2,), np.uint64),
    ]:
        assert (s[key].shape, s[key].dtype) == (shape, dtype), key


def corrupt(state: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**state, key: value}


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("num_tasks", lambda s: 3),
        ("capacity_per_task", lambda s: 9),
        ("obs_shape", lambda s: np.array([4])),
        ("action_shape", lambda s: np.array([2, 1])),
        ("alpha", lambda s: 0.5),
        ("obs", lambda s: s["obs"][:, :4]),
        ("obs", lambda s: np.where(s["obs"] == 1, np.nan, s["obs"]).astype(np.float32)),
        ("rewards", lambda s: s["rewards"].astype(np.int64)),
        ("terminated", lambda s: s["terminated"] * 2),
        ("priorities", lambda s: s["priorities"] * -1),
        ("priorities", lambda s: s["priorities"] + 1.0),  # > 0 on empty slots
        ("sizes", lambda s: s["sizes"] + 9),
        ("sizes", lambda s: s["sizes"] - 5),
        ("positions", lambda s: s["positions"] + 1),  # not full: position must equal size
        ("max_priority", lambda s: s["max_priority"] * 0),
        ("max_priority", lambda s: s["max_priority"] * np.inf),
        ("rng", lambda s: s["rng"].astype(np.int64)),
    ],
)
def test_load_rejects_bad_states_naming_the_key(key: str, change: Any) -> None:
    buf = make(2, 8)
    buf.add(*rows([0, 0, 1]))
    state = buf.state_dict()
    twin = make(2, 8, seed=1)
    before = twin.state_dict()
    with pytest.raises(CheckpointError, match=key):
        twin.load_state_dict(corrupt(state, key, change(state)))
    after = twin.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_load_rejects_a_missing_key_and_accepts_a_full_ring() -> None:
    buf = make(1, 4)
    buf.add(*rows([0] * 6))  # full, position 2
    state = buf.state_dict()
    assert state["positions"].tolist() == [2]
    make(1, 4).load_state_dict(state)
    with pytest.raises(CheckpointError, match="'max_priority'"):
        make(1, 4).load_state_dict({k: v for k, v in state.items() if k != "max_priority"})


def test_round_trip_through_npz_restores_data_and_stream(tmp_path: Path) -> None:
    buf = make(2, 8, seed=3)
    buf.add(*rows([0, 1] * 6))
    buf.update_priorities([0, 1, 8], [5.0, 0.1, 2.0])
    np.savez(tmp_path / "r.npz", **buf.state_dict())
    with np.load(tmp_path / "r.npz", allow_pickle=False) as data:
        state = dict(data)
    twin = make(2, 8, seed=0)
    twin.load_state_dict(state)
    x, y = buf.sample([5, 4]), twin.sample([5, 4])
    np.testing.assert_array_equal(x.indices, y.indices)
    np.testing.assert_array_equal(x.obs, y.obs)
    np.testing.assert_array_equal(x.weights, y.weights)


def test_states_move_between_the_numpy_replay_and_the_fake_at_alpha_zero() -> None:
    buf = NumpyPerTaskReplay(2, 4, 3, 2, alpha=0.0, seed=1)
    buf.add(*rows([0, 1, 1, 0, 0]))
    fake = FakeReplayBuffer(2, 4, 3, 2, seed=9)
    fake.load_state_dict(buf.state_dict())
    assert fake.sizes().tolist() == [3, 2]
    back = NumpyPerTaskReplay(2, 4, 3, 2, alpha=0.0)
    back.load_state_dict(fake.state_dict())
    s, t = buf.state_dict(), back.state_dict()
    assert all(np.array_equal(s[k], t[k]) for k in s)
