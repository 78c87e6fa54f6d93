"""The C++ categorical draw (``drats._core.categorical_draw``) against its numpy twin
(``categorical_numpy``): the same actions from the same uniforms, log-probabilities to float32
rounding, masks honoured, greedy draws, and bad input refused with typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drats import _core
from drats.adapters.learners.numpy_forward import categorical, categorical_numpy
from drats.domain.errors import InvalidDtypeError, InvalidInputError
from drats.domain.rng import UniformStream


def _case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 20)), int(rng.integers(1, 12))
    scale = rng.choice([0.01, 1.0, 10.0, 100.0])
    logits = (rng.normal(size=(n, k)) * scale).astype(np.float32)
    valid = rng.random((n, k)) < 0.6
    valid[np.arange(n), rng.integers(0, k, n)] = True  # every row keeps an action
    return logits, valid


@given(st.integers(0, 2**31), st.booleans(), st.booleans())
def test_the_draw_matches_its_numpy_twin(seed: int, masked: bool, greedy: bool) -> None:
    logits, valid = _case(seed)
    mask = valid if masked else None
    cpp = categorical(logits, None if greedy else UniformStream(seed), mask)
    ref = categorical_numpy(logits, None if greedy else UniformStream(seed), mask)
    np.testing.assert_array_equal(cpp[0], ref[0])
    np.testing.assert_allclose(cpp[1], ref[1], rtol=1e-6, atol=1e-6)
    assert cpp[0].dtype == np.int64
    assert cpp[1].dtype == np.float32
    if masked:
        assert valid[np.arange(len(logits)), cpp[0]].all()


def test_draws_follow_the_distribution() -> None:
    logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4]] * 40_000, dtype=np.float32))
    actions, log_probs = categorical(logits, UniformStream(0))
    freq = np.bincount(actions, minlength=4) / len(actions)
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    np.testing.assert_allclose(log_probs, logits[0, actions], atol=1e-6)


def test_a_uniform_near_one_takes_the_last_valid_action() -> None:
    logits = np.zeros((2, 4), np.float32)
    valid = np.array([[True, True, False, False], [True, True, True, True]])
    actions, _ = _core.categorical_draw(logits, np.full(2, 1 - 2**-53), valid)
    np.testing.assert_array_equal(actions, [1, 3])


def test_non_finite_logits_still_give_an_action_in_range() -> None:
    logits = np.array([[np.nan, 1.0, 2.0], [np.inf, -np.inf, 0.0]], np.float32)
    actions, _ = _core.categorical_draw(logits, np.array([0.5, 0.5]))
    assert ((actions >= 0) & (actions < 3)).all()


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.zeros((2, 3), np.int64),), InvalidDtypeError, "logits has dtype int64"),
        ((np.zeros(3, np.float32),), InvalidInputError, "logits must have shape"),
        ((np.zeros((2, 0), np.float32),), InvalidInputError, "logits must have shape"),
        ((np.zeros((2, 3), np.float32), np.zeros(3)), InvalidInputError, "u must have shape"),
        ((np.zeros((2, 3), np.float32), np.array([0.5, 1.0])), InvalidInputError, r"\[0, 1\)"),
        ((np.zeros((2, 3), np.float32), np.array([np.nan, 0.1])), InvalidInputError, r"\[0, 1\)"),
        (
            (np.zeros((2, 3), np.float32), None, np.ones((2, 2), bool)),
            InvalidInputError,
            "valid must have shape",
        ),
        (
            (np.zeros((2, 3), np.float32), None, np.array([[1, 0, 0], [0, 0, 0]], bool)),
            InvalidInputError,
            "valid row 1 has no valid action",
        ),
        (
            (np.zeros((2, 3), np.float32), None, np.ones((2, 3), np.float32)),
            InvalidDtypeError,
            "valid has dtype float32",
        ),
    ],
)
def test_bad_input_is_refused(args: tuple, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _core.categorical_draw(*args)
