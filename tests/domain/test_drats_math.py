"""Property tests of the DRATS math (numpy domain functions; the C++ twin is held to these
numbers by tests/test_oracle.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drats import ConfigError, InvalidInputError, hedge_step, mirror_ascent_step, project_floor
from drats.domain.drats_math import alias_draw, build_alias, return_gaps

sizes = st.integers(1, 16)


def vectors(lo: float, hi: float) -> st.SearchStrategy[np.ndarray]:
    return sizes.flatmap(lambda k: hnp.arrays(np.float64, k, elements=st.floats(lo, hi)))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


@given(z=vectors(0.0, 100.0), floor=st.floats(0.0, 1.0))
def test_project_floor_is_a_distribution_above_the_floor(z: np.ndarray, floor: float) -> None:
    eps = floor / z.size
    q = project_floor(z, eps)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(q >= eps - 1e-12)


@given(z=vectors(1e-3, 100.0), floor=st.floats(0.0, 0.99))
def test_project_floor_satisfies_the_kkt_conditions(z: np.ndarray, floor: float) -> None:
    # argmin KL(q || z) s.t. q >= eps, sum q = 1: q_i = max(eps, c * z_i) for one c > 0.
    eps = floor / z.size
    q = project_floor(z, eps)
    free = q > eps + 1e-12
    if free.any():
        c = q[free] / z[free]
        assert np.allclose(c, c[0], rtol=1e-9)
        assert np.all(c[0] * z[~free] <= eps * (1 + 1e-9))


@given(z=vectors(0.0, 10.0), floor=st.floats(0.0, 1.0), data=st.data())
def test_project_floor_is_permutation_equivariant(
    z: np.ndarray, floor: float, data: st.DataObject
) -> None:
    perm = np.asarray(data.draw(st.permutations(range(z.size))))
    eps = floor / z.size
    np.testing.assert_allclose(project_floor(z[perm], eps), project_floor(z, eps)[perm], atol=1e-12)


def test_project_floor_examples() -> None:
    np.testing.assert_allclose(project_floor([0.5, 0.3, 0.2, 0.0], 0.1), [0.45, 0.27, 0.18, 0.1])
    np.testing.assert_allclose(project_floor([2.0, 2.0], 0.0), [0.5, 0.5])
    np.testing.assert_allclose(project_floor([0.0, 0.0, 0.0], 0.1), [1 / 3] * 3)
    np.testing.assert_allclose(project_floor([1.0, 0, 0, 0, 0], 0.2), [0.2] * 5)


@given(
    gaps=vectors(-2.0, 2.0),
    eta=st.floats(0.5, 16.0),
    frac=st.floats(0.0, 1.0),
    floor=st.floats(0.0, 1.0),
)
def test_mirror_step_is_a_distribution_above_the_floor(
    gaps: np.ndarray, eta: float, frac: float, floor: float
) -> None:
    k = gaps.size
    q0 = np.random.default_rng(k).dirichlet(np.ones(k))
    eps = floor / k
    q = mirror_ascent_step(q0, gaps, eta=eta, step_size=frac * eta, eps=eps)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(q >= eps - 1e-12)


@given(gaps=vectors(-1.0, 1.0), eta=st.floats(1.0, 10.0), floor=st.floats(0.0, 0.5))
def test_repeated_steps_reach_the_projected_softmax(
    gaps: np.ndarray, eta: float, floor: float
) -> None:
    k = gaps.size
    eps = floor / k
    q = np.full(k, 1.0 / k)
    for _ in range(300):
        q = mirror_ascent_step(q, gaps, eta=eta, step_size=0.5 * eta, eps=eps)
    np.testing.assert_allclose(q, project_floor(softmax(eta * gaps), eps), atol=1e-9)


@given(gaps=vectors(-2.0, 2.0), data=st.data())
def test_mirror_step_is_permutation_equivariant(gaps: np.ndarray, data: st.DataObject) -> None:
    perm = np.asarray(data.draw(st.permutations(range(gaps.size))))
    q0 = np.random.default_rng(0).dirichlet(np.ones(gaps.size))
    eps = 0.5 / gaps.size
    a = mirror_ascent_step(q0[perm], gaps[perm], eta=8.0, step_size=0.5, eps=eps)
    b = mirror_ascent_step(q0, gaps, eta=8.0, step_size=0.5, eps=eps)[perm]
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_mirror_step_matches_its_formula() -> None:
    q = np.array([0.1, 0.2, 0.3, 0.4])
    g = np.array([1.0, -0.5, 0.25, 0.0])
    eta, step = 8.0, 0.5
    a = step / eta
    expected = softmax((1 - a) * np.log(q) + a * np.log(0.25) + step * g)
    np.testing.assert_allclose(
        mirror_ascent_step(q, g, eta=eta, step_size=step, eps=0.0), expected, atol=1e-15
    )
    # Zero step keeps q; the largest gap gains mass.
    np.testing.assert_allclose(mirror_ascent_step(q, g, eta=eta, step_size=0.0, eps=0.0), q)
    assert np.argmax(mirror_ascent_step(np.full(4, 0.25), g, eta=8, step_size=0.5, eps=0)) == 0


def test_mirror_step_handles_zero_probabilities() -> None:
    # A multiplicative step cannot revive a zero (hence the floor) unless alpha = 1, where the
    # log q term drops out entirely; neither case may produce NaN.
    q = np.array([1.0, 0.0])
    np.testing.assert_array_equal(
        mirror_ascent_step(q, [0.0, 1.0], eta=1.0, step_size=0.5, eps=0.0), [1.0, 0.0]
    )
    np.testing.assert_allclose(
        mirror_ascent_step(q, [0.0, 0.0], eta=1.0, step_size=1.0, eps=0.0), [0.5, 0.5]
    )
    assert mirror_ascent_step(q, [0.0, 1.0], eta=8.0, step_size=0.5, eps=0.1)[1] >= 0.1


@given(
    w=vectors(0.01, 10.0),
    lr=st.floats(0.0, 5.0),
    c=st.floats(0.0, 1.0),
    floor=st.floats(0.0, 1.0),
    data=st.data(),
)
def test_hedge_step_matches_its_formula(
    w: np.ndarray, lr: float, c: float, floor: float, data: st.DataObject
) -> None:
    k = w.size
    g = data.draw(hnp.arrays(np.float64, k, elements=st.floats(-2.0, 2.0)))
    min_prob = floor / k
    p = w * np.exp(lr * np.maximum(g, 0))
    p = p / p.sum()
    p = (1 - c) * p + c / k
    p = np.maximum(p, min_prob)
    expected = p / p.sum()
    got = hedge_step(w, g, lr=lr, smoothing=c, min_prob=min_prob)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: project_floor([0.5, 0.5], 0.6), ConfigError),
        (lambda: project_floor([0.5, -0.1], 0.0), InvalidInputError),
        (lambda: project_floor([], 0.0), InvalidInputError),
        (
            lambda: mirror_ascent_step([0.5, 0.5], [0, 0], eta=0.0, step_size=0.0, eps=0),
            ConfigError,
        ),
        (
            lambda: mirror_ascent_step([0.5, 0.5], [0, 0], eta=1.0, step_size=2.0, eps=0),
            ConfigError,
        ),
        (lambda: mirror_ascent_step([0.5, 0.5], [0, 0], eta=1.0, step_size=-1, eps=0), ConfigError),
        (
            lambda: mirror_ascent_step([0.5, 0.5], [0, 0], eta=8, step_size=0.5, eps=0.6),
            ConfigError,
        ),
        (
            lambda: mirror_ascent_step([0.5, 0.5], [0, np.nan], eta=8, step_size=0.5, eps=0),
            InvalidInputError,
        ),
        (
            lambda: mirror_ascent_step([0.5, 0.5], [0], eta=8, step_size=0.5, eps=0),
            InvalidInputError,
        ),
        (
            lambda: mirror_ascent_step([0.7, 0.5], [0, 0], eta=8, step_size=0.5, eps=0),
            InvalidInputError,
        ),
        (lambda: hedge_step([1.0, 1.0], [0, 0], lr=-1.0, smoothing=0.1, min_prob=0), ConfigError),
        (lambda: hedge_step([1.0, 1.0], [0, 0], lr=1.0, smoothing=1.5, min_prob=0), ConfigError),
        (
            lambda: hedge_step([0.0, 0.0], [0, 0], lr=1.0, smoothing=0.1, min_prob=0),
            InvalidInputError,
        ),
    ],
)
def test_bad_arguments_raise_typed_errors(call, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_return_gaps_treat_unvisited_tasks_as_maximal() -> None:
    gaps = return_gaps(
        np.array([100.0, 100.0, 50.0]), np.array([150.0, 0.0, 60.0]), np.array([3, 0, 1])
    )
    np.testing.assert_allclose(gaps, [0.5, 1.0, -0.2])


def test_alias_draws_follow_q() -> None:
    # Chi-square with 7 degrees of freedom; the 0.999 quantile is 24.3. Fixed seed.
    q = np.random.default_rng(3).dirichlet(np.ones(8))
    prob, alias = build_alias(q)
    n = 400_000
    u = np.random.default_rng(4).random(n)
    counts = np.bincount(alias_draw(prob, alias, u), minlength=8)
    assert (((counts - n * q) ** 2) / (n * q)).sum() < 24.3
    # Exactness: each column's kept share plus what aliases into it adds up to q * K.
    mass = prob.copy()
    np.add.at(mass, alias, 1.0 - prob)
    np.testing.assert_allclose(mass, q * 8, atol=1e-12)


# ------------------------------------------------------------- additional properties (numpy)


def kl(q: np.ndarray, z: np.ndarray) -> float:
    """KL(q || z) up to the constant log(sum z); terms with q_i = 0 contribute 0."""
    on = q > 0
    return float(np.sum(q[on] * np.log(q[on] / z[on])))


@given(
    z=st.integers(1, 7).flatmap(lambda k: hnp.arrays(np.float64, k, elements=st.floats(1e-3, 10))),
    floor=st.floats(0.0, 0.95),
)
def test_project_floor_is_the_best_of_all_active_sets(z: np.ndarray, floor: float) -> None:
    # Brute force: for every set C of clamped tasks, the best q on that face is eps on C and
    # the rest in proportion to z; the projection is the feasible candidate of least KL.
    k = z.size
    eps = floor / k
    best, best_kl = None, np.inf
    for mask in range(2**k):
        clamped = np.array([(mask >> i) & 1 == 1 for i in range(k)])
        if clamped.all():
            continue
        q = np.full(k, eps)
        q[~clamped] = (1 - eps * clamped.sum()) * z[~clamped] / z[~clamped].sum()
        if np.all(q >= eps - 1e-15) and kl(q, z) < best_kl:
            best, best_kl = q, kl(q, z)
    assert best is not None
    got = project_floor(z, eps)
    assert kl(got, z) <= best_kl + 1e-12
    np.testing.assert_allclose(got, best, atol=1e-9)


@given(
    gaps=st.integers(1, 12).flatmap(
        lambda k: hnp.arrays(np.float64, k, elements=st.floats(-0.5, 0.5))
    ),
    floor=st.floats(0.0, 1.0),
)
def test_2000_paper_steps_reach_the_projected_softmax(gaps: np.ndarray, floor: float) -> None:
    # The MuJoCo setting: eta 8, step 0.8 (alpha = 0.1), so the error shrinks like 0.9 ** n.
    k = gaps.size
    eps = floor / k
    q = np.full(k, 1.0 / k)
    for _ in range(2000):
        q = mirror_ascent_step(q, gaps, eta=8.0, step_size=0.8, eps=eps)
    np.testing.assert_allclose(q, project_floor(softmax(8.0 * gaps), eps), rtol=0, atol=1e-9)


@given(gaps=vectors(-3.0, 3.0), eta=st.floats(0.1, 20.0))
def test_a_zero_step_keeps_q(gaps: np.ndarray, eta: float) -> None:
    q = np.random.default_rng(gaps.size).dirichlet(np.ones(gaps.size))
    got = mirror_ascent_step(q, gaps, eta=eta, step_size=0.0, eps=0.0)
    np.testing.assert_allclose(got, q, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "q",
    [
        np.array([1.0]),
        np.array([0.0, 1.0, 0.0]),
        np.array([0.5, 0.0, 0.25, 0.25]),
        np.full(7, 1 / 7),
    ],
)
def test_alias_tables_never_draw_a_task_of_probability_zero(q: np.ndarray) -> None:
    prob, alias = build_alias(q)
    mass = prob.copy()
    np.add.at(mass, alias, 1.0 - prob)
    np.testing.assert_allclose(mass, q * q.size, atol=1e-12)
    u = np.concatenate([np.linspace(0.0, 1.0, 10_001)[:-1], [np.nextafter(1.0, 0.0)]])
    drawn = alias_draw(prob, alias, u)
    assert drawn.min() >= 0
    assert drawn.max() < q.size
    assert np.all(q[drawn] > 0)
