"""Behaviour of the C++ replay that the shared contract checker does not cover:
sampled frequencies, the weight formula, stratification, GIL release, huge inputs."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

from drats import CppPerTaskReplay
from drats.domain.errors import InvalidDtypeError, InvalidInputError

OBS, ACT = 3, 2


def filled(num_tasks: int, cap: int, as_per_task: int, *, alpha: float, seed: int = 0):
    buf = CppPerTaskReplay(num_tasks, cap, OBS, ACT, alpha=alpha, seed=seed)
    ids = np.repeat(np.arange(num_tasks), as_per_task)
    n = len(ids)
    obs = np.arange(n * OBS, dtype=np.float32).reshape(n, OBS)
    buf.add(ids, obs, np.zeros((n, ACT)), np.arange(n), obs + 1, np.zeros(n))
    return buf


def chi_square(observed: np.ndarray, expected: np.ndarray) -> float:
    return float(((observed - expected) ** 2 / expected).sum())


def test_frequencies_within_a_task_follow_priority_to_alpha() -> None:
    # 20 slots with raw priorities 1..20; alpha 0.7. Chi-square with 19 degrees of freedom:
    # the 0.999 quantile is 43.8; with seed 0 a correct sampler stays well below it.
    alpha, n = 0.7, 20
    buf = filled(2, n, n, alpha=alpha)
    raw = np.arange(1, n + 1, dtype=np.float64)
    buf.update_priorities(np.arange(n), raw)  # task 0 holds indices 0..19
    draws = 200_000
    counts = np.zeros(n)
    for _ in range(draws // 1000):
        batch = buf.sample([1000, 0])
        counts += np.bincount(batch.indices, minlength=2 * n)[:n]
    p = raw**alpha / (raw**alpha).sum()
    assert chi_square(counts, p * draws) < 43.8


def test_weights_follow_the_formula() -> None:
    alpha, beta = 0.6, 0.4
    buf = filled(3, 50, 40, alpha=alpha, seed=3)
    rng = np.random.default_rng(1)
    idx = np.concatenate([np.arange(40), 50 + np.arange(40), 100 + np.arange(40)])
    buf.update_priorities(idx, rng.uniform(0.1, 5.0, size=idx.size))
    batch = buf.sample([7, 0, 13], beta=beta)
    leaves = buf.state_dict()["priorities"]
    task, slot = batch.indices // 50, batch.indices % 50
    prob = leaves[task, slot] / leaves.sum(axis=1)[task]
    w = (40 * prob) ** -beta
    np.testing.assert_allclose(batch.weights, w / w.max(), rtol=1e-6)
    assert batch.weights.max() == 1.0
    assert batch.task_ids.tolist() == [0] * 7 + [2] * 13


def test_stratified_draw_covers_every_slot_once_with_equal_priorities() -> None:
    buf = filled(2, 64, 64, alpha=0.6)
    batch = buf.sample([64, 64])
    assert sorted(batch.indices.tolist()) == list(range(128))


def test_sampled_rows_are_the_stored_rows() -> None:
    buf = filled(4, 30, 25, alpha=0.5, seed=7)
    batch = buf.sample([5, 6, 7, 8])
    task, slot = batch.indices // 30, batch.indices % 30
    row = task * 25 + slot  # rows were added task by task, 25 each
    expected_obs = (np.arange(100 * OBS, dtype=np.float32).reshape(100, OBS))[row]
    np.testing.assert_array_equal(batch.obs, expected_obs)
    np.testing.assert_array_equal(batch.next_obs, expected_obs + 1)
    np.testing.assert_array_equal(batch.rewards, row.astype(np.float32))


def test_sample_releases_the_gil() -> None:
    # While one thread is inside a long C++ sample, the main thread must keep running Python.
    # If the GIL were held for the call, the main thread could only run for about one switch
    # interval (1 ms here) of the >= 50 ms the call takes.
    buf = filled(1, 200_000, 200_000, alpha=0.6)
    window: list[float] = []

    def worker() -> None:
        buf.sample([1000])  # warm-up
        start = time.perf_counter()
        buf.sample([1_500_000])  # one long call
        window.extend([start, time.perf_counter()])

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-3)
    try:
        thread = threading.Thread(target=worker)
        ticks: list[float] = []
        thread.start()
        while thread.is_alive():
            ticks.append(time.perf_counter())
        thread.join()
    finally:
        sys.setswitchinterval(old)
    start, end = window
    assert end - start > 0.05, "the sample calls were too short for this test to mean anything"
    inside = np.asarray([t for t in ticks if start <= t <= end])
    # The main thread's longest pause inside the call is a small part of it.
    gaps = np.diff(np.concatenate([[start], inside, [end]]))
    assert gaps.max() < 0.5 * (end - start)


def test_bad_dtypes_and_shapes_name_the_argument() -> None:
    buf = CppPerTaskReplay(2, 10, (2, 3), 1)
    good = dict(
        task_ids=np.array([0]),
        obs=np.zeros((1, 2, 3)),
        actions=np.zeros((1, 1)),
        rewards=np.zeros(1),
        next_obs=np.zeros((1, 2, 3)),
        terminated=np.zeros(1),
    )
    with pytest.raises(InvalidInputError, match=r"obs must have shape \(1, 2, 3\)"):
        buf.add(**{**good, "obs": np.zeros((1, 6))})
    with pytest.raises(InvalidDtypeError, match="obs"):
        buf.add(**{**good, "obs": np.full((1, 2, 3), "x")})
    with pytest.raises(InvalidDtypeError, match="task_ids"):
        buf.add(**{**good, "task_ids": np.array([True])})
    with pytest.raises(InvalidInputError, match="terminated"):
        buf.add(**{**good, "terminated": np.array([0.5])})
    assert len(buf) == 0
    buf.add(**good)
    assert len(buf) == 1


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_new_transitions_enter_with_the_task_max_priority(alpha: float) -> None:
    buf = filled(2, 10, 3, alpha=alpha)
    buf.update_priorities([0, 1, 10], [5.0, 0.5, 2.0])  # task 0 max: 5, task 1 max: 2
    buf.update_priorities([0], [0.1])  # the max is the highest ever seen, not the current
    buf.add([0, 1], np.zeros((2, OBS)), np.zeros((2, ACT)), [0, 0], np.zeros((2, OBS)), [0, 0])
    leaves = buf.state_dict()["priorities"]

    def expected(p: float) -> float:
        return 1.0 if alpha == 0 else p**alpha

    assert leaves[0, 3] == pytest.approx(expected(5.0), rel=1e-14)
    assert leaves[1, 3] == pytest.approx(expected(2.0), rel=1e-14)
    assert leaves[0, 0] == pytest.approx(expected(0.1), rel=1e-14)
    np.testing.assert_array_equal(buf.state_dict()["max_priority"], [5.0, 2.0])


def test_concurrent_add_and_sample_stay_consistent() -> None:
    # The binding serialises calls on one buffer; two threads hammering it must neither crash
    # nor corrupt it. Bounded: 300 rounds each.
    buf = filled(4, 256, 8, alpha=0.6, seed=11)
    errors: list[BaseException] = []

    def adder() -> None:
        try:
            rng = np.random.default_rng(0)
            for _ in range(300):
                ids = rng.integers(0, 4, 16)
                obs = rng.normal(size=(16, OBS)).astype(np.float32)
                buf.add(ids, obs, np.zeros((16, ACT)), np.ones(16), obs + 1, np.zeros(16))
        except BaseException as err:  # reported below
            errors.append(err)

    def sampler() -> None:
        try:
            for _ in range(300):
                batch = buf.sample([32, 32, 32, 32])
                np.testing.assert_array_equal(batch.next_obs, batch.obs + 1)
                buf.update_priorities(batch.indices, np.abs(batch.obs[:, 0]) + 0.1)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=adder), threading.Thread(target=sampler)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert buf.sizes().tolist() == [256] * 4  # 4800 random-task rows filled every ring
    assert len(buf) == 1024
