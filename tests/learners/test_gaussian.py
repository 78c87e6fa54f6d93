"""The C++ Gaussian draw (``drats._core.gaussian_draw``) against its numpy twin
(``gaussian_numpy``): the same draws from the same uniforms to float32 rounding, the same
clipping and log-densities, the mean when greedy, the right distribution, and bad input refused
with typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drats import _core
from drats.adapters.learners.numpy_forward import gaussian, gaussian_numpy
from drats.domain.errors import InvalidDtypeError, InvalidInputError
from drats.domain.rng import UniformStream


@given(st.integers(0, 2**31), st.integers(0, 20), st.integers(1, 9), st.booleans())
def test_the_draw_matches_its_numpy_twin(seed: int, n: int, a: int, greedy: bool) -> None:
    rng = np.random.default_rng(seed)
    scale = rng.choice([0.01, 1.0, 10.0])
    out = (rng.normal(size=(n, 2 * a)) * scale).astype(np.float32)
    cpp = gaussian(out, None if greedy else UniformStream(seed), -20.0, 2.0)
    ref = gaussian_numpy(out, None if greedy else UniformStream(seed), -20.0, 2.0)
    for got, want in zip(cpp, ref, strict=True):
        assert got.dtype == np.float32
        assert got.shape == want.shape
    # The same double arithmetic: the float32 draws agree bit for bit (0 of 400,000 differed
    # when this was written); the log-densities to rounding.
    np.testing.assert_array_equal(cpp[0], ref[0])
    np.testing.assert_array_equal(cpp[1], ref[1])
    np.testing.assert_allclose(cpp[2], ref[2], rtol=1e-6, atol=1e-6)
    assert np.all(np.abs(cpp[0]) <= 1.0)
    if greedy:
        np.testing.assert_array_equal(cpp[1], out[:, :a])


def test_draws_follow_the_distribution() -> None:
    out = np.tile(np.array([[0.5, -2.0, np.log(0.3), np.log(2.0)]], np.float32), (50_000, 1))
    _, raw, log_probs = gaussian(out, UniformStream(0), -20.0, 2.0)
    np.testing.assert_allclose(raw.mean(0), [0.5, -2.0], atol=0.02)
    np.testing.assert_allclose(raw.std(0), [0.3, 2.0], rtol=0.02)
    want = -0.5 * (((raw - [0.5, -2.0]) / [0.3, 2.0]) ** 2).sum(1) - np.log(0.6) - np.log(2 * np.pi)
    np.testing.assert_allclose(log_probs, want, rtol=1e-4, atol=1e-4)


def test_log_std_is_clipped_and_nan_kept() -> None:
    out = np.array([[0.0, 10.0], [np.nan, 0.0]], np.float32)
    cpp = gaussian(out, UniformStream(1), -5.0, 1.0)
    ref = gaussian_numpy(out, UniformStream(1), -5.0, 1.0)
    for got, want in zip(cpp, ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # NaN where numpy has NaN
    assert np.isfinite(cpp[2][0])
    assert np.isnan(cpp[1][1, 0])


def test_draws_beyond_float32_become_infinite_as_in_numpy() -> None:
    out = np.array([[3.4e38, 100.0], [-3.4e38, 90.0], [1.0, 0.0]], np.float32)
    u = UniformStream(2)
    cpp = gaussian(out, u, -20.0, 100.0)
    with np.errstate(over="ignore"):
        ref = gaussian_numpy(out, UniformStream(2), -20.0, 100.0)
    for got, want in zip(cpp, ref, strict=True):
        np.testing.assert_array_equal(got, want)
    assert np.isinf(cpp[1]).any()
    assert np.isfinite(cpp[1][2]).all()


def test_bounds_beyond_float32_clip_as_in_numpy() -> None:
    # numpy rounds the bounds to float32 (an infinity beyond its range); the core does too,
    # rather than an undefined cast.
    out = np.array([[0.1, 50.0], [0.2, -50.0]], np.float32)
    cpp = gaussian(out, UniformStream(3), -1e300, 1e300)
    with np.errstate(over="ignore"):
        ref = gaussian_numpy(out, UniformStream(3), -1e300, 1e300)
    for got, want in zip(cpp, ref, strict=True):
        np.testing.assert_array_equal(got, want)


def test_bad_input_is_refused_with_typed_errors() -> None:
    out = np.zeros((2, 4), np.float32)
    with pytest.raises(InvalidInputError, match=r"out must have shape \(n, 2a\)"):
        _core.gaussian_draw(np.zeros((2, 3), np.float32), None, -1.0, 1.0)
    with pytest.raises(InvalidInputError, match=r"u must have shape \(8,\)"):
        _core.gaussian_draw(out, np.full(4, 0.5), -1.0, 1.0)
    with pytest.raises(InvalidInputError, match=r"u must lie in \[0, 1\)"):
        _core.gaussian_draw(out, np.full(8, 1.0), -1.0, 1.0)
    with pytest.raises(InvalidInputError, match="log_std_min must be <= log_std_max"):
        _core.gaussian_draw(out, None, 1.0, -1.0)
    with pytest.raises(InvalidDtypeError, match="out"):
        _core.gaussian_draw(np.zeros((2, 4), np.int64), None, -1.0, 1.0)
