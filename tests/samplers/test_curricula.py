"""The curriculum baselines (Hedge, Learning Progress, SMT): contract, update rules checked
against hand-computed numbers, checkpoints and argument checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drats.adapters.samplers.hedge import HedgeSampler
from drats.adapters.samplers.learning_progress import LearningProgressSampler
from drats.adapters.samplers.smt import ACTIVE, MAIN, SOLVED, UNSOLVABLE, SmtSampler
from drats.domain.drats_math import hedge_step, mirror_ascent_step
from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.ports import TaskSampler
from drats.testing import check_task_sampler

CLASSES = [HedgeSampler, LearningProgressSampler, SmtSampler]
M, A, S, U = MAIN, ACTIVE, SOLVED, UNSOLVABLE


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------------- contract


@pytest.mark.parametrize("cls", CLASSES)
def test_each_sampler_honours_the_task_sampler_contract(cls: Any) -> None:
    check_task_sampler(cls)
    assert isinstance(cls(3), TaskSampler)
    assert TaskSampler in cls.__mro__  # subclassed explicitly, not only duck-typed


def test_kinds() -> None:
    assert [c(2).state_dict()["kind"] for c in CLASSES] == ["hedge", "lp", "smt"]


# ------------------------------------------------------------------------------------ Hedge


def test_hedge_defaults() -> None:
    st = HedgeSampler(10).state_dict()
    assert (st["lr"], st["smoothing"], st["min_prob"]) == (1.0, 0.1, 1 / 40)
    assert (st["adaptive_target"], st["success_window"], st["success_threshold"]) == (
        True,
        50,
        0.5,
    )
    assert not {"eta", "step_size", "eps"} & set(st)
    np.testing.assert_array_equal(st["targets"], np.full(10, 5000.0))


def test_hedge_update_matches_a_hand_computed_step() -> None:
    s = HedgeSampler(3, lr=1.0, smoothing=0.1, min_prob=0.05, target=100.0)
    s.observe([0, 0, 1], [50.0, 150.0, 25.0], [0, 0, 0])
    q = s.update()
    g = np.array([0.0, 0.75, 1.0])  # task 2 unvisited: Rbar = 0, gap 1
    np.testing.assert_allclose(s.gaps, g)
    e = np.exp(g)  # uniform w times exp(lr * g), normalised
    p = 0.9 * e / e.sum() + 0.1 / 3
    np.testing.assert_allclose(q, p / p.sum(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(q, [0.1875675, 0.3598471, 0.4525853], atol=1e-7)
    np.testing.assert_array_equal(
        q, hedge_step(np.full(3, 1 / 3), g, lr=1.0, smoothing=0.1, min_prob=0.05)
    )


def test_hedge_min_prob_binds_then_renormalises() -> None:
    s = HedgeSampler(3, lr=10.0, smoothing=0.1, min_prob=0.05, target=100.0)
    s.observe([0, 0, 1], [50.0, 150.0, 25.0], [0, 0, 0])
    q = s.update()
    e = np.exp(10.0 * np.array([0.0, 0.75, 1.0]))
    p = 0.9 * e / e.sum() + 0.1 / 3
    assert p[0] < 0.05  # the clip is active
    p = np.maximum(p, 0.05)
    np.testing.assert_allclose(q, p / p.sum(), rtol=0, atol=1e-15)
    q2 = s.update()  # empty window: every gap is 1, so only smoothing and the clip act
    np.testing.assert_array_equal(s.gaps, np.ones(3))
    np.testing.assert_array_equal(
        q2, hedge_step(q, np.ones(3), lr=10, smoothing=0.1, min_prob=0.05)
    )


def test_hedge_ignores_negative_gaps_and_uses_the_adaptive_target() -> None:
    s = HedgeSampler(2, lr=1.0, smoothing=0.0, min_prob=0.0, target=10.0, success_window=1)
    s.observe([0, 1], [30.0, 10.0], [0, 0])  # gaps -2 and 0: max(g, 0) = 0 for both
    np.testing.assert_allclose(s.update(), [0.5, 0.5])
    np.testing.assert_allclose(s.gaps, [-2.0, 0.0])
    s.observe([1], [4.0], [1])  # a ring of 1 success: solved, target = best return 10 -> 10
    s.observe([1], [8.0], [0])  # later episode ends refresh nothing above the best 10
    np.testing.assert_allclose(s.targets, [10.0, 10.0])


# ---------------------------------------------------------------------- Learning Progress


def test_lp_defaults() -> None:
    st = LearningProgressSampler(10).state_dict()
    assert (st["eta"], st["step_size"], st["eps"]) == (8.0, 0.5, 1 / 40)
    assert (st["success_window"], st["success_threshold"]) == (50, 0.9)
    np.testing.assert_array_equal(st["prev_means"], np.zeros(10))


def test_lp_scores_over_hand_computed_windows() -> None:
    s = LearningProgressSampler(3, eta=8.0, step_size=0.5, eps=0.05)
    # Window 1: first measurements have nothing to compare with: every score 0, q stays.
    s.observe([0, 0, 1], [10.0, 20.0, 40.0], [0, 0, 0])
    np.testing.assert_array_equal(s.update(), np.full(3, 1 / 3))
    np.testing.assert_array_equal(s.gaps, np.zeros(3))
    np.testing.assert_array_equal(s.state_dict()["prev_means"], [15.0, 40.0, 0.0])
    # Window 2: task 0 moves 15 -> 30; task 1 is unvisited (carried: score 0); task 2 is
    # measured for the first time (score 0).
    s.observe([0, 2], [30.0, 5.0], [0, 0])
    q = s.update()
    scores = np.array([15.0 / 15.01, 0.0, 0.0])
    np.testing.assert_allclose(s.gaps, scores, rtol=0, atol=1e-15)
    expected = mirror_ascent_step(np.full(3, 1 / 3), scores, eta=8.0, step_size=0.5, eps=0.05)
    np.testing.assert_allclose(q, expected, rtol=0, atol=1e-15)
    assert q[0] > 1 / 3 > q[1]
    np.testing.assert_array_equal(s.state_dict()["prev_means"], [30.0, 40.0, 5.0])
    # Window 3: task 0 unvisited (carried 30), tasks 1 and 2 both move by 4.
    s.observe([1, 2, 2], [44.0, 0.0, 2.0], [0, 0, 0])
    q2 = s.update()
    np.testing.assert_allclose(s.gaps, [0.0, 4 / 4.01, 4 / 4.01], rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        q2, mirror_ascent_step(q, s.gaps, eta=8.0, step_size=0.5, eps=0.05), atol=1e-15
    )


def test_lp_offset_matters_for_small_returns() -> None:
    s = LearningProgressSampler(2)
    s.observe([0, 1], [0.5, 0.5], [0, 0])
    s.update()
    s.observe([0, 1], [0.52, 0.49], [0, 0])  # |diff| = 0.02 and 0.01
    s.update()
    np.testing.assert_allclose(s.gaps, [0.02 / 0.03, 0.01 / 0.03], atol=1e-12)


def test_lp_solved_task_goes_to_the_floor_and_the_rest_keeps_its_ratios() -> None:
    s = LearningProgressSampler(4, step_size=0.0, eps=0.1, success_window=4)
    s.observe([0, 0, 0], [1.0, 1.0, 1.0], [1, 1, 1])
    np.testing.assert_array_equal(s.update(), np.full(4, 0.25))  # ring not full yet
    s.observe([0, 1, 1, 1, 1], [1.0] * 5, [1, 1, 1, 1, 0])  # task 0: 4/4 > 0.9; task 1: 3/4
    np.testing.assert_allclose(s.update(), [0.1, 0.3, 0.3, 0.3], rtol=0, atol=1e-15)
    assert s.solved_now.tolist() == [True, False, False, False]
    s.observe([1, 1, 1, 1], [1.0] * 4, [1, 1, 1, 1])  # task 1: 4/4 as well
    np.testing.assert_allclose(s.update(), [0.1, 0.1, 0.4, 0.4], rtol=0, atol=1e-15)
    s.observe([2, 2, 2, 2, 3, 3, 3, 3], [1.0] * 8, [1] * 8)  # every task solved: uniform
    np.testing.assert_allclose(s.update(), np.full(4, 0.25), rtol=0, atol=1e-15)


def test_lp_floor_rule_after_a_mirror_step_keeps_the_floor_and_is_not_sticky() -> None:
    s = LearningProgressSampler(3, eta=8.0, step_size=0.5, eps=0.05, success_window=2)
    s.observe([0, 1, 2], [0.0, 0.0, 0.0], [0, 0, 0])
    s.update()
    s.observe([0, 0, 1, 2], [5.0, 5.0, 1.0, 3.0], [1, 1, 0, 0])  # task 0 solved (2/2)
    q = s.update()
    raw = np.array([5.0, 1.0, 3.0])
    mirror = mirror_ascent_step(np.full(3, 1 / 3), raw / 5.01, eta=8.0, step_size=0.5, eps=0.05)
    rest = mirror[1:] * (1 - 0.05) / mirror[1:].sum()
    np.testing.assert_allclose(q, [0.05, *rest], rtol=0, atol=1e-15)
    assert np.all(q >= 0.05)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    s.observe([0, 0], [5.0, 5.0], [0, 0])  # the ring drops to 0/2: off the floor again
    q2 = s.update()
    assert not s.solved_now.any()
    assert q2[0] > 0.05


# -------------------------------------------------------------------------------------- SMT


def _smt() -> SmtSampler:
    return SmtSampler(
        5, thresholds=100.0, active_size=2, budget_episodes=3, unsolvable_return=50.0, eps=0.05
    )


def _q(active: list[int], k: int = 5, eps: float = 0.05) -> list[float]:
    q = np.full(k, eps)
    q[active] += (1 - k * eps) / len(active)
    return q.tolist()


def test_smt_defaults() -> None:
    st = SmtSampler(10).state_dict()
    assert (st["active_size"], st["budget_episodes"], st["unsolvable_return"]) == (3, 1000, 2000.0)
    assert st["eps"] == 1 / 40
    assert not {"eta", "step_size"} & set(st)
    np.testing.assert_array_equal(st["base_targets"], np.full(10, 5000.0))
    assert [SmtSampler(k).state_dict()["active_size"] for k in (1, 2, 5, 50)] == [1, 1, 2, 15]
    np.testing.assert_array_equal(SmtSampler(3, thresholds=[1.0, 2.0, 3.0]).targets, [1, 2, 3])


def test_smt_pool_transitions_step_by_step() -> None:
    s = _smt()
    assert s.pools.tolist() == [M] * 5
    np.testing.assert_array_equal(s.probs, np.full(5, 0.2))  # no active task: uniform
    # Window 1: task 4 unvisited counts as hardest, then task 0 (lowest mean).
    s.observe([0, 1, 2, 3], [10.0, 80.0, 30.0, 60.0], [0, 0, 0, 0])
    np.testing.assert_allclose(s.update(), _q([0, 4]), rtol=0, atol=1e-15)
    assert s.pools.tolist() == [A, M, M, M, A]
    np.testing.assert_allclose(s.gaps, [0.9, 0.2, 0.7, 0.4, 1.0])
    # Window 2: task 4 reaches its threshold -> solved; refill with the hardest main (task 2).
    s.observe([4, 0, 0, 1], [120.0, 20.0, 30.0, 90.0], [0, 0, 0, 0])  # main task 1: no budget
    np.testing.assert_allclose(s.update(), _q([0, 2]), rtol=0, atol=1e-15)
    assert s.pools.tolist() == [A, M, A, M, S]
    assert s.state_dict()["budget_used"].tolist() == [2, 0, 0, 0, 0]
    # Window 3: both budgets run out. Task 0 (mean 40 < 50) -> unsolvable; task 2 (70) ->
    # main. The refill skips task 2 (it just left) and takes task 3 (60) then task 1 (90).
    s.observe([0, 2, 2, 2], [40.0, 70.0, 70.0, 70.0], [0, 0, 0, 0])
    s.update()
    assert s.pools.tolist() == [U, A, M, A, S]
    assert s.state_dict()["budget_used"].tolist() == [0, 0, 0, 0, 0]
    np.testing.assert_array_equal(s.state_dict()["recent_means"], [40.0, 90.0, 70.0, 60.0, 120.0])
    # Window 4: task 3 reaches exactly its threshold -> solved; task 2 is the only main left.
    s.observe([3, 1], [100.0, 10.0], [0, 0])
    s.update()
    assert s.pools.tolist() == [U, A, A, S, S]
    # Window 5: task 1 spends its budget below 50 -> unsolvable; task 2 solved. The main pool
    # is empty, so the unsolvable tasks get a second chance: task 0 first (task 1 just left).
    s.observe([1, 1, 2], [10.0, 10.0, 100.0], [0, 0, 0])
    np.testing.assert_allclose(s.update(), _q([0, 1]), rtol=0, atol=1e-15)
    assert s.pools.tolist() == [A, A, S, S, S]


def test_smt_budget_only_counts_episodes_while_active_and_unvisited_keeps_its_place() -> None:
    s = SmtSampler(3, thresholds=5000.0, active_size=1, budget_episodes=2, eps=0.0)
    s.observe([1, 2], [5.0, 7.0], [0, 0])
    s.update()  # task 0 never measured: hardest
    assert s.pools.tolist() == [A, M, M]
    np.testing.assert_array_equal(s.probs, [1.0, 0.0, 0.0])
    s.observe([1, 1, 2], [1.0, 1.0, 1.0], [0, 0, 0])
    s.update()  # task 0 had no episode: not solved, budget untouched
    assert s.pools.tolist() == [A, M, M]
    assert s.state_dict()["budget_used"].tolist() == [0, 0, 0]
    s.observe([0], [3000.0], [0])  # one episode: budget 1 of 2
    s.update()
    assert s.pools.tolist() == [A, M, M]
    s.observe([0], [3000.0], [0])  # budget spent with mean 3000 >= 2000: back to main
    s.update()
    assert s.pools.tolist() == [M, A, M]  # hardest other main: tasks 1, 2 tie at 1, lowest id


def test_smt_everything_solved_is_uniform() -> None:
    s = SmtSampler(2, thresholds=[1.0, 2.0], active_size=2)
    s.observe([0, 1], [5.0, 1.0], [0, 0])
    s.update()  # main tasks are not judged: both become active
    assert s.pools.tolist() == [A, A]
    s.observe([0, 1], [1.0, 1.5], [0, 0])
    s.update()
    assert s.pools.tolist() == [S, A]
    np.testing.assert_allclose(s.probs, [0.125, 0.875])
    s.observe([1], [2.0], [0])
    np.testing.assert_array_equal(s.update(), [0.5, 0.5])
    assert s.pools.tolist() == [S, S]


def test_smt_pools_is_a_read_only_copy() -> None:
    s = _smt()
    pools = s.pools
    assert pools.dtype == np.int8
    pools[:] = A
    assert s.pools.tolist() == [M] * 5
    with pytest.raises(AttributeError):
        s.pools = pools  # type: ignore[misc]


# ------------------------------------------------------------------------------- checkpoints


def _played(cls: Any, seed: int) -> Any:
    s = cls(4, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        ids = s.sample(20)
        s.observe(ids, rng.normal(1000 * (ids + 1), 300), rng.random(20) < 0.7)
        s.update()
    s.sample(5)
    return s


@pytest.mark.parametrize("cls", CLASSES)
def test_state_round_trips_through_npz(cls: Any, tmp_path: Path) -> None:
    a = _played(cls, seed=1)
    np.savez(tmp_path / "s.npz", **a.state_dict())
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        state = {k: f[k] for k in f.files}
    b = cls(4, seed=99)
    b.load_state_dict(state)
    assert _same_state(a.state_dict(), b.state_dict())
    np.testing.assert_array_equal(a.sample(200), b.sample(200))
    for x in (a, b):
        x.observe([0, 1, 3, 3], [1.0, 2000.0, 3.0, 4.0], [1, 1, 0, 1])
    np.testing.assert_array_equal(a.update(), b.update())
    np.testing.assert_array_equal(a.sample(50), b.sample(50))
    assert _same_state(a.state_dict(), b.state_dict())


@pytest.mark.parametrize(
    ("cls", "key", "value"),
    [
        (HedgeSampler, "lr", 2.0),
        (HedgeSampler, "min_prob", 0.0),
        (HedgeSampler, "kind", "drats"),
        (LearningProgressSampler, "prev_means", np.array([np.nan, 0, 0, 0])),
        (LearningProgressSampler, "prev_means", np.zeros(3)),
        (LearningProgressSampler, "eta", 3.0),
        (SmtSampler, "pools", np.array([0, 1, 2, 7], dtype=np.int8)),
        (SmtSampler, "pools", np.array([1, 1, 0, 0], dtype=np.int8)),  # more than 1 active
        (SmtSampler, "pools", np.zeros(4)),
        (SmtSampler, "budget_used", np.array([-1, 0, 0, 0])),
        (SmtSampler, "budget_used", np.array([5, 5, 5, 5])),  # budget off the active pool
        (SmtSampler, "recent_means", np.array([np.nan, 1.0, 1.0, 1.0])),
        (SmtSampler, "recent_means", np.array([-np.inf, 1.0, 1.0, 1.0])),  # measured task
        (SmtSampler, "probs", np.full(4, 0.25)),
        (SmtSampler, "active_size", 2),
        (SmtSampler, "base_targets", np.full(4, 7.0)),
    ],
)
def test_load_rejects_bad_states_and_changes_nothing(cls: Any, key: str, value: Any) -> None:
    s = _played(cls, seed=2)
    if cls is SmtSampler:
        assert s.pools.tolist().count(A) == 1  # the default active_size for K = 4
        assert np.all(np.isfinite(s.state_dict()["recent_means"]))
    # A state from another run, so that a late rejection would show as a changed state.
    state = {**_played(cls, seed=3).state_dict(), key: value}
    before = s.state_dict()
    with pytest.raises(CheckpointError, match=key):
        s.load_state_dict(state)
    assert _same_state(before, s.state_dict())
    np.testing.assert_array_equal(s.sample(30), _played(cls, seed=2).sample(30))


@pytest.mark.parametrize(
    ("cls", "key"),
    [(LearningProgressSampler, "prev_means"), (SmtSampler, "pools"), (SmtSampler, "recent_means")],
)
def test_a_state_missing_an_own_key_is_rejected_after_the_base_keys_pass(
    cls: Any, key: str
) -> None:
    s = _played(cls, seed=2)
    other = _played(cls, seed=3).state_dict()
    del other[key]
    before = s.state_dict()
    with pytest.raises(CheckpointError, match=key):
        s.load_state_dict(other)
    assert _same_state(before, s.state_dict())
    twin = _played(cls, seed=2)
    np.testing.assert_array_equal(s.sample(40), twin.sample(40))  # the draw stream too


def test_states_do_not_cross_between_kinds() -> None:
    for a in CLASSES:
        for b in CLASSES:
            if a is not b:
                with pytest.raises(CheckpointError, match="kind"):
                    b(3).load_state_dict(a(3).state_dict())


# ---------------------------------------------------------------------------- bad settings


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (HedgeSampler, {"lr": -0.5}, "lr"),
        (HedgeSampler, {"lr": float("inf")}, "lr"),
        (HedgeSampler, {"smoothing": 1.5}, "smoothing"),
        (HedgeSampler, {"smoothing": -0.1}, "smoothing"),
        (HedgeSampler, {"min_prob": 0.3}, "min_prob"),  # 0.3 * 4 > 1
        (HedgeSampler, {"min_prob": -0.01}, "min_prob"),
        (HedgeSampler, {"target": 0.0}, "target"),
        (HedgeSampler, {"success_window": 0}, "success_window"),
        (HedgeSampler, {"num_tasks": 0}, "num_tasks"),
        (LearningProgressSampler, {"eps": 0.3}, "eps"),
        (LearningProgressSampler, {"eta": 0.0}, "eta"),
        (LearningProgressSampler, {"eta": 1.0, "step_size": 2.0}, "step_size"),
        (LearningProgressSampler, {"step_size": -1.0}, "step_size"),
        (LearningProgressSampler, {"solved_threshold": 1.0}, "solved_threshold"),
        (LearningProgressSampler, {"solved_threshold": -0.1}, "solved_threshold"),
        (LearningProgressSampler, {"success_window": 0}, "success_window"),
        (LearningProgressSampler, {"seed": 1.5}, "seed"),
        (SmtSampler, {"eps": 0.3}, "eps"),
        (SmtSampler, {"eps": -0.1}, "eps"),
        (SmtSampler, {"active_size": 5}, "active_size"),
        (SmtSampler, {"active_size": 0}, "active_size"),
        (SmtSampler, {"active_size": 2.0}, "active_size"),
        (SmtSampler, {"budget_episodes": 0}, "budget_episodes"),
        (SmtSampler, {"thresholds": [1.0, 2.0]}, "thresholds"),
        (SmtSampler, {"thresholds": -1.0}, "thresholds"),
        (SmtSampler, {"unsolvable_return": float("nan")}, "unsolvable_return"),
        (SmtSampler, {"num_tasks": 2.0}, "num_tasks"),
    ],
)
def test_bad_settings_raise_config_error_naming_them(
    cls: Any, kwargs: dict[str, Any], name: str
) -> None:
    args = {"num_tasks": 4, **kwargs}
    k = args.pop("num_tasks")
    with pytest.raises(ConfigError, match=name):
        cls(k, **args)
