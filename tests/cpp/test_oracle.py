"""The C++ adapters against their numpy twins: same seeds and operations, same numbers.

Both use the same counter-based random stream, so sampled indices and task draws must match
exactly; float results match to 1e-12 (float32 weights to 1e-6, computed with powf in C++).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drats import (
    CppPerTaskReplay,
    DratsSampler,
    NumpyDratsSampler,
    NumpyPerTaskReplay,
    NumpyUniformSampler,
    UniformSampler,
    _core,
    mirror_ascent_step,
    project_floor,
)
from drats.domain.errors import DratsError, InvalidInputError

K_MAX = 12
gaps_st = st.integers(1, K_MAX).flatmap(
    lambda k: hnp.arrays(np.float64, k, elements=st.floats(-3.0, 3.0))
)


@given(gaps=gaps_st, floor=st.floats(0.0, 1.0), eta=st.floats(0.5, 20.0), frac=st.floats(0, 1))
def test_mirror_ascent_step_cpp_matches_numpy(
    gaps: np.ndarray, floor: float, eta: float, frac: float
) -> None:
    k = gaps.size
    eps = floor / k
    q = np.random.default_rng(k).dirichlet(np.ones(k))
    expected = mirror_ascent_step(q, gaps, eta=eta, step_size=frac * eta, eps=eps)
    got = _core.mirror_ascent_step(q, gaps, eta, frac * eta, eps)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@given(
    z=st.integers(1, K_MAX).flatmap(
        lambda k: hnp.arrays(np.float64, k, elements=st.floats(0.0, 10.0))
    ),
    floor=st.floats(0.0, 1.0),
)
def test_project_floor_cpp_matches_numpy(z: np.ndarray, floor: float) -> None:
    eps = floor / z.size
    np.testing.assert_allclose(_core.project_floor(z, eps), project_floor(z, eps), atol=1e-12)


def test_math_errors_have_the_same_types() -> None:
    for call_cpp, call_np, match in [
        (
            lambda: _core.project_floor([0.5, 0.5], 0.6),
            lambda: project_floor([0.5, 0.5], 0.6),
            "eps",
        ),
        (
            lambda: _core.mirror_ascent_step([0.5, 0.5], [1.0, np.nan], 8.0, 0.5, 0.0),
            lambda: mirror_ascent_step([0.5, 0.5], [1.0, np.nan], eta=8.0, step_size=0.5, eps=0),
            "gaps",
        ),
        (
            lambda: _core.mirror_ascent_step([0.5, 0.5], [1.0, 0.0], 1.0, 2.0, 0.0),
            lambda: mirror_ascent_step([0.5, 0.5], [1.0, 0.0], eta=1.0, step_size=2.0, eps=0),
            "step_size",
        ),
    ]:
        with pytest.raises(ValueError, match=match) as cpp_err:
            call_cpp()
        with pytest.raises(ValueError, match=match) as np_err:
            call_np()
        assert type(cpp_err.value) is type(np_err.value)


def run_sampler_script(make, seed: int) -> list[np.ndarray]:
    """Drive a sampler through windows of random episodes; record everything it shows."""
    rng = np.random.default_rng(seed)
    k = 6
    sampler = make(k, seed)
    seen: list[np.ndarray] = []
    for _ in range(12):
        n = int(rng.integers(0, 40))
        ids = sampler.sample(n)
        # Task-dependent returns, successes frequent for low ids so some tasks get solved.
        returns = rng.normal(1000.0 * (ids + 1), 300.0)
        successes = rng.random(n) < 1.0 / (ids + 1)
        sampler.observe(ids, returns, successes)
        seen += [ids, sampler.update(), sampler.gaps, sampler.targets]
    seen.append(sampler.sample(5000))
    return seen


@pytest.mark.parametrize(
    ("cpp", "ref"),
    [
        (
            lambda k, s: DratsSampler(k, seed=s, success_window=5, target=3000.0),
            lambda k, s: NumpyDratsSampler(k, seed=s, success_window=5, target=3000.0),
        ),
        (
            lambda k, s: DratsSampler(k, seed=s, eta=3.0, step_size=3.0, eps=0.0, target=2000.0),
            lambda k, s: NumpyDratsSampler(
                k, seed=s, eta=3.0, step_size=3.0, eps=0.0, target=2000.0
            ),
        ),
        (lambda k, s: UniformSampler(k, seed=s), lambda k, s: NumpyUniformSampler(k, seed=s)),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampler_cpp_matches_numpy(cpp, ref, seed: int) -> None:
    got, expected = run_sampler_script(cpp, seed), run_sampler_script(ref, seed)
    for a, b in zip(got, expected, strict=True):
        if a.dtype.kind == "i":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def run_range_script(make, seed: int, scale: float) -> list[np.ndarray]:
    """As :func:`run_sampler_script` with the range gap: returns of any sign and scale, some
    tasks with a single repeated return (no spread), some windows that skip tasks."""
    rng = np.random.default_rng(seed)
    k = 5
    sampler = make(k, seed)
    centre = scale * np.array([-3.0, -0.5, 0.0, 2.0, 5.0])
    seen: list[np.ndarray] = []
    for window in range(12):
        n = int(rng.integers(0, 30))
        ids = sampler.sample(n)
        returns = centre[ids] + scale * rng.normal(0.0, 1.0 + window / 4, n)
        returns[ids == 2] = -scale  # task 2 always gets the same return: no spread
        sampler.observe(ids, returns, rng.random(n) < 0.3)
        seen += [ids, sampler.update(), sampler.gaps, sampler.targets]
        state = sampler.state_dict()
        seen += [state["best_returns"], state["worst_returns"]]
    seen.append(sampler.sample(2000))
    return seen


@pytest.mark.parametrize("scale", [1e-7, 1.0, 300.0, 1e9])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("cpp", "ref"),
    [
        (
            lambda k, s: DratsSampler(k, seed=s, gap="range", step_size=2.0, success_window=4),
            lambda k, s: NumpyDratsSampler(k, seed=s, gap="range", step_size=2.0, success_window=4),
        ),
        (
            lambda k, s: UniformSampler(k, seed=s, gap="range"),
            lambda k, s: NumpyUniformSampler(k, seed=s, gap="range"),
        ),
    ],
)
def test_range_gap_sampler_cpp_matches_numpy(cpp, ref, seed: int, scale: float) -> None:
    got, expected = run_range_script(cpp, seed, scale), run_range_script(ref, seed, scale)
    for a, b in zip(got, expected, strict=True):
        if a.dtype.kind == "i":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    gaps = np.array(got[2::6])
    assert np.all((gaps >= 0.0) & (gaps <= 1.0))


@given(
    returns=hnp.arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.floats(-1e300, 1e300)
        | st.sampled_from([0.0, 1e-300, -5.0, 5.0, 1.7e308, -1.7e308, 1.7e308]),
    ),
    seed=st.integers(0, 3),
)
def test_range_gaps_and_refusals_match_numpy(returns: np.ndarray, seed: int) -> None:
    """Any finite returns, huge and tiny included: the same gaps, or the same refusal (a
    window sum that overflows) with nothing recorded."""
    ids = np.random.default_rng(seed).integers(0, 3, returns.size)
    outcomes = []
    for cls in (DratsSampler, NumpyDratsSampler):
        sampler = cls(3, gap="range", seed=seed)
        before = sampler.state_dict()
        try:
            sampler.observe(ids, returns, np.zeros(returns.size, bool))
        except DratsError as err:
            after = sampler.state_dict()
            for key in before:
                np.testing.assert_array_equal(np.asarray(after[key]), np.asarray(before[key]))
            outcomes.append((type(err), None))
        else:
            sampler.update()
            outcomes.append((None, sampler.gaps))
    (cpp_err, cpp_gaps), (ref_err, ref_gaps) = outcomes
    assert cpp_err is ref_err
    if cpp_gaps is not None:
        np.testing.assert_allclose(cpp_gaps, ref_gaps, rtol=0, atol=1e-12)
        assert np.all((cpp_gaps >= 0.0) & (cpp_gaps <= 1.0))


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ([1.7e308, 1.7e308], "refused"),  # the sum overflows; the spread alone would say 1
        ([-1.7e308, -1.7e308], "refused"),
        ([1.7e308, -1.7e308, 1.0], 0.0),  # the spread overflows to inf: a gap of 0
        ([3.0, 3.0], 1.0),  # no spread seen yet
        ([3.0, 1.0], 0.5),
    ],
)
def test_range_gap_edge_cases_match(returns: list[float], expected: object) -> None:
    """Both twins give the same gap, or refuse the same window (nothing recorded)."""
    for cls in (DratsSampler, NumpyDratsSampler):
        sampler = cls(1, gap="range")
        ids, ok = np.zeros(len(returns), np.int64), np.zeros(len(returns), bool)
        if expected == "refused":
            with pytest.raises(InvalidInputError, match="would give a gap that is not finite"):
                sampler.observe(ids, returns, ok)
            assert sampler.state_dict()["episodes"].tolist() == [0]
        else:
            sampler.observe(ids, returns, ok)
            sampler.update()
            assert sampler.gaps.tolist() == [expected]


@pytest.mark.parametrize("gap", ["target", "range"])
def test_sampler_state_loads_across_implementations_with_either_gap(gap: str) -> None:
    cpp = DratsSampler(4, seed=3, success_window=4, gap=gap)
    cpp.observe([0, 0, 1, 2, 3, 0], [-10.0, 20, 30, -40, 50, 60], [1, 1, 0, 1, 1, 1])
    cpp.update()
    cpp.observe([1, 1], [-5.0, 7.0], [0, 0])
    ref = NumpyDratsSampler(4, seed=99, success_window=4, gap=gap)
    ref.load_state_dict(cpp.state_dict())
    assert list(ref.state_dict()) == list(cpp.state_dict())
    np.testing.assert_allclose(ref.update(), cpp.update(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ref.gaps, cpp.gaps)
    back = DratsSampler(4, seed=7, success_window=4, gap=gap)
    back.load_state_dict(ref.state_dict())
    np.testing.assert_array_equal(back.sample(1000), ref.sample(1000))


def test_sampler_state_loads_across_implementations() -> None:
    cpp = DratsSampler(5, seed=3, success_window=4)
    cpp.observe([0, 0, 1, 2, 0, 0], [10.0, 20, 30, 40, 50, 60], [1, 1, 0, 1, 1, 1])
    cpp.update()
    cpp.sample(17)
    ref = NumpyDratsSampler(5, seed=99, success_window=4)
    ref.load_state_dict(cpp.state_dict())
    np.testing.assert_array_equal(ref.sample(1000), cpp.sample(1000))
    back = DratsSampler(5, seed=7, success_window=4)
    back.load_state_dict(ref.state_dict())
    np.testing.assert_array_equal(back.sample(1000), ref.sample(1000))


def test_task_draws_follow_q() -> None:
    # Chi-square, 9 degrees of freedom: the 0.999 quantile is 27.9; seed fixed.
    sampler = DratsSampler(10, seed=0, eps=0.01)
    sampler.observe(np.arange(10), np.linspace(0, 4500, 10), np.zeros(10, bool))
    q = sampler.update()
    assert q.max() / q.min() > 1.5  # the update really moved q
    draws = 500_000
    counts = np.bincount(sampler.sample(draws), minlength=10)
    chi2 = (((counts - q * draws) ** 2) / (q * draws)).sum()
    assert chi2 < 27.9


def run_replay_script(make, seed: int) -> tuple[list, dict]:
    rng = np.random.default_rng(seed)
    k, cap, obs_dim = 4, 37, 3
    buf = make(k, cap, obs_dim, 2, seed)
    out: list = []
    for _ in range(25):
        n = int(rng.integers(1, 30))
        ids = rng.integers(0, k, n)
        obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
        buf.add(ids, obs, rng.normal(size=(n, 2)), rng.normal(size=n), obs * 2, rng.random(n) < 0.1)
        sizes = buf.sizes()
        counts = np.where(sizes > 0, rng.integers(0, 20, k), 0)
        batch = buf.sample(counts, beta=float(rng.uniform(0, 1)))
        out.append(batch)
        if len(batch):
            buf.update_priorities(batch.indices, rng.exponential(size=len(batch)) + 1e-3)
            # Also in any order, tasks interleaved and some indices repeated (the last wins):
            # the C++ core sorts these by task itself, where sampled ones come grouped.
            mixed = rng.permutation(np.concatenate([batch.indices, batch.indices[::3]]))
            buf.update_priorities(mixed, rng.exponential(size=len(mixed)) + 1e-3)
    return out, buf.state_dict()


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_cpp_matches_numpy(alpha: float, seed: int) -> None:
    def cpp(k, cap, od, ad, s):
        return CppPerTaskReplay(k, cap, od, ad, alpha=alpha, seed=s)

    def ref(k, cap, od, ad, s):
        return NumpyPerTaskReplay(k, cap, od, ad, alpha=alpha, seed=s)

    (got, got_state), (expected, expected_state) = (
        run_replay_script(cpp, seed),
        run_replay_script(ref, seed),
    )
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.task_ids, b.task_ids)
        for field in ("obs", "actions", "rewards", "next_obs", "terminated"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        np.testing.assert_allclose(a.weights, b.weights, rtol=1e-6)
    assert got_state.keys() == expected_state.keys()
    for key in got_state:
        np.testing.assert_allclose(
            np.asarray(got_state[key]), np.asarray(expected_state[key]), rtol=1e-12, err_msg=key
        )


def test_replay_state_loads_across_implementations() -> None:
    _, state = run_replay_script(
        lambda k, cap, od, ad, s: CppPerTaskReplay(k, cap, od, ad, alpha=0.6, seed=s), 5
    )
    ref = NumpyPerTaskReplay(4, 37, 3, 2, alpha=0.6, seed=0)
    ref.load_state_dict(state)
    cpp = CppPerTaskReplay(4, 37, 3, 2, alpha=0.6, seed=0)
    cpp.load_state_dict(ref.state_dict())
    counts = np.minimum(cpp.sizes(), 9)
    a, b = cpp.sample(counts), ref.sample(counts)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.obs, b.obs)


_I64 = np.iinfo(np.int64)


@pytest.mark.parametrize(
    "indices",
    [
        [9, 10, 3],  # tasks 1, 1, 0: not grouped
        [9, 2, 10, 2],  # task 1 again after task 0, and a repeated index
        [0, 1, 17, 18, 17],  # grouped with a repeat
        [int(_I64.min)],
        [int(_I64.max)],
        [-1],
        [0, 1, 24],  # a valid run, then one past the end
        [0, 1, 13],  # a valid run, then an empty slot of the next task
        [9, 10, 5],  # an empty slot, in a lower task than the run before it
        [16, 2, -(2**40)],  # out of range after the runs changed direction
    ],
)
def test_update_priorities_index_runs_match_numpy(indices: list[int]) -> None:
    """The C++ core reads the task of a run of indices once; any order of indices, and a bad
    one at any point of a run, ends as in the numpy twin: the same state, or the same error
    with nothing applied."""

    def filled(cls):
        buf = cls(3, 8, 2, 1, alpha=0.6, seed=0)
        ids = np.repeat(np.arange(3), 5)  # slots 0..4 of each task filled, 5..7 empty
        n = ids.size
        buf.add(ids, np.ones((n, 2)), np.ones((n, 1)), np.ones(n), np.ones((n, 2)), np.zeros(n))
        return buf

    priorities = np.linspace(0.5, 4.0, len(indices))
    results = []
    for cls in (CppPerTaskReplay, NumpyPerTaskReplay):
        buf = filled(cls)
        before = buf.state_dict()
        try:
            buf.update_priorities(np.array(indices, dtype=np.int64), priorities)
        except DratsError as err:  # the type is compared below
            after = buf.state_dict()
            for key in before:
                np.testing.assert_array_equal(np.asarray(after[key]), np.asarray(before[key]))
            results.append((type(err), None))
        else:
            results.append((None, buf.state_dict()))
    (cpp_err, cpp_state), (ref_err, ref_state) = results
    assert cpp_err is ref_err
    if cpp_state is not None:
        for key in ("priorities", "max_priority"):
            np.testing.assert_allclose(
                np.asarray(cpp_state[key]), np.asarray(ref_state[key]), rtol=1e-12, err_msg=key
            )
