"""The C++ forward pass of a multi-head MLP (``drats._core.MlpForward``, behind
``MLPSnapshot``) against its numpy twin (``mlp_numpy``) and torch's ``MultiHeadMLP``: the same
outputs to float32 rounding for every shape (rows around the kernel's 5-row blocks and 95-row
chunks, outputs around its 16-column panels, linear and deep nets, one or many heads), on both
the SIMD kernel and the portable loop; each row's result independent of the rows beside it;
the snapshot a copy; and bad input refused with typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from drats import _core  # noqa: E402
from drats.adapters.learners.numpy_forward import (  # noqa: E402
    KERNEL_ROWS,
    MLPSnapshot,
    mlp_layers,
    mlp_numpy,
)
from drats.adapters.learners.torch_nets import MultiHeadMLP  # noqa: E402
from drats.domain.errors import (  # noqa: E402
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)

KERNELS = [True, False] if _core.MlpForward.cpu_has_simd() else [False]


def _net(seed: int, in_dim: int, hidden: tuple[int, ...], out: int, heads: int) -> MultiHeadMLP:
    torch.manual_seed(seed)
    net = MultiHeadMLP(in_dim, out, heads, hidden=hidden, multi_head=heads > 1)
    with torch.no_grad():  # non-zero biases, so a bias in the wrong column shows
        for p in net.parameters():
            if p.ndim == 1:
                p.uniform_(-0.5, 0.5)
    return net


def _inputs(seed: int, rows: int, in_dim: int, heads: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, in_dim)).astype(np.float32)
    return x, rng.integers(0, heads, rows)


def _torch(net: MultiHeadMLP, x: np.ndarray, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = net(torch.from_numpy(x), torch.from_numpy(ids)).numpy()
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    rows=st.sampled_from([0, 1, 4, 5, 6, 10, 11, 94, 95, 96, 201]),
    in_dim=st.integers(1, 40),
    hidden=st.sampled_from([(), (7,), (16,), (33, 17), (64, 64, 64)]),
    out=st.sampled_from([1, 3, 8, 16, 17]),
    heads=st.sampled_from([1, 3, 10]),
    simd=st.sampled_from(KERNELS),
)
def test_the_kernel_matches_numpy_and_torch(
    seed: int,
    rows: int,
    in_dim: int,
    hidden: tuple[int, ...],
    out: int,
    heads: int,
    simd: bool,
) -> None:
    net = _net(seed, in_dim, hidden, out, heads)
    x, ids = _inputs(seed, rows, in_dim, heads)
    layers = mlp_layers(net)
    kernel = _core.MlpForward(layers, heads, simd=simd)
    assert kernel.simd == simd
    assert (kernel.in_dim, kernel.heads, kernel.head_dim) == (in_dim, heads, out)
    assert kernel.num_layers == len(hidden) + 1
    got = kernel(x, ids)
    assert got.dtype == np.float32
    assert got.shape == (rows, out)
    np.testing.assert_allclose(got, mlp_numpy(layers, heads, x, ids), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, _torch(net, x, ids), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("simd", KERNELS)
def test_a_row_gives_the_same_bits_wherever_it_stands(simd: bool) -> None:
    net = _net(0, 49, (400, 400), 8, 10)
    kernel = _core.MlpForward(mlp_layers(net), 10, simd=simd)
    x, ids = _inputs(1, 203, 49, 10)
    together = kernel(x, ids)
    for i in (0, 4, 5, 94, 95, 202):
        np.testing.assert_array_equal(kernel(x[i : i + 1], ids[i : i + 1])[0], together[i])
    np.testing.assert_array_equal(kernel(x[7:17], ids[7:17]), together[7:17])


def test_the_simd_kernel_and_the_portable_loop_agree() -> None:
    if not _core.MlpForward.cpu_has_simd():
        pytest.skip("this CPU has no AVX + FMA: only the portable loop runs")
    net = _net(2, 49, (400, 400, 400), 8, 10)
    x, ids = _inputs(2, 10, 49, 10)
    fast = _core.MlpForward(mlp_layers(net), 10)(x, ids)
    plain = _core.MlpForward(mlp_layers(net), 10, simd=False)(x, ids)
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5)


def test_relu_and_nan_follow_numpy() -> None:
    net = _net(3, 5, (16,), 4, 1)
    layers = mlp_layers(net)
    x, ids = _inputs(3, 3, 5, 1)
    x[1, 2] = np.nan
    got = _core.MlpForward(layers, 1)(x, ids)
    ref = mlp_numpy(layers, 1, x, ids)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    assert np.isnan(got[1]).all()
    assert np.isfinite(got[[0, 2]]).all()


def test_the_snapshot_uses_the_kernel_for_few_rows_and_numpy_beyond() -> None:
    net = _net(4, 49, (64, 64), 8, 10)
    snap = MLPSnapshot(net)
    for rows in (10, KERNEL_ROWS, KERNEL_ROWS + 1, 1000):
        x, ids = _inputs(rows, rows, 49, 10)
        np.testing.assert_allclose(snap(x, ids), _torch(net, x, ids), rtol=1e-5, atol=1e-5)


def test_one_head_serves_every_task() -> None:
    net = _net(6, 9, (16,), 4, 1)  # multi_head=False: task ids pick nothing
    x, _ = _inputs(6, 7, 9, 1)
    ids = np.array([0, 3, 1, 2, 3, 0, 9])
    want = _torch(net, x, ids)
    np.testing.assert_allclose(MLPSnapshot(net)(x, ids), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mlp_numpy(mlp_layers(net), 1, x, ids), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(
        _core.MlpForward(mlp_layers(net), 1)(x), _core.MlpForward(mlp_layers(net), 1)(x, ids * 0)
    )
    with pytest.raises(InvalidInputError, match="task_ids are needed to pick among 3 heads"):
        _core.MlpForward(mlp_layers(_net(6, 9, (), 2, 3)), 3)(x)


def test_a_snapshot_without_the_kernel_is_numpy_on_views() -> None:
    net = _net(7, 6, (8,), 2, 3)
    x, ids = _inputs(7, 4, 6, 3)
    snap = MLPSnapshot(net, kernel=False)
    np.testing.assert_array_equal(snap(x, ids), mlp_numpy(mlp_layers(net), 3, x, ids))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(snap(x, ids), mlp_numpy(mlp_layers(net), 3, x, ids))


def test_the_snapshot_is_a_copy() -> None:
    net = _net(5, 6, (8,), 2, 3)
    x, ids = _inputs(5, 4, 6, 3)
    snap = MLPSnapshot(net)
    before = snap(x, ids)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(snap(x, ids), before)
    np.testing.assert_allclose(MLPSnapshot(net)(x, ids), _torch(net, x, ids), rtol=1e-5)


def test_bad_input_is_refused_with_typed_errors() -> None:
    w, b = np.ones((6, 4), np.float32), np.zeros(6, np.float32)
    kernel = _core.MlpForward([(w, b)], 3)
    x = np.ones((2, 4), np.float32)
    with pytest.raises(InvalidInputError, match=r"x must have shape \(n, 4\)"):
        kernel(np.ones((2, 5), np.float32), np.zeros(2, np.int64))
    with pytest.raises(InvalidInputError, match="task_ids must have shape"):
        kernel(x, np.zeros(3, np.int64))
    with pytest.raises(UnknownTaskError, match=r"task_ids\[1\] = 3 is outside \[0, 3\)"):
        kernel(x, np.array([0, 3]))
    with pytest.raises(UnknownTaskError, match="-1"):
        kernel(x, np.array([-1, 0]))
    with pytest.raises(InvalidDtypeError, match="task_ids"):
        kernel(x, np.array([0.5, 1.0]))
    with pytest.raises(InvalidDtypeError, match="x"):
        kernel(np.array([["a"] * 4] * 2), np.zeros(2, np.int64))
    with pytest.raises(ConfigError, match="at least one layer"):
        _core.MlpForward([], 1)
    with pytest.raises(ConfigError, match="heads must be >= 1"):
        _core.MlpForward([(w, b)], 0)
    with pytest.raises(ConfigError, match="do not split into 4 heads"):
        _core.MlpForward([(w, b)], 4)
    with pytest.raises(ConfigError, match="layer 1 takes 4 inputs but the layer before gives 6"):
        _core.MlpForward([(w, b), (w, b)], 1)
    with pytest.raises(ConfigError, match=r"layers\[0\] must be a \(weight, bias\) pair"):
        _core.MlpForward([w], 1)
    with pytest.raises(ConfigError, match=r"layers\[0\] must be a \(weight, bias\) pair"):
        _core.MlpForward([(w, b, b)], 1)
    with pytest.raises(ConfigError, match="layers must be a list of"):
        _core.MlpForward(w, 1)
    as_lists = _core.MlpForward(([w, b],), 3)  # any list or tuple of pairs
    np.testing.assert_array_equal(as_lists(x, np.array([0, 2])), kernel(x, np.array([0, 2])))
    with pytest.raises(ConfigError, match=r"layers\[0\].weight must have shape \(out, in\)"):
        _core.MlpForward([(b, b)], 1)
    with pytest.raises(InvalidInputError, match=r"layers\[0\].bias must have shape \(6,\)"):
        _core.MlpForward([(w, np.zeros(5, np.float32))], 1)
    with pytest.raises(ConfigError, match="positive sizes"):
        _core.MlpForward([(np.ones((0, 4), np.float32), np.zeros(0, np.float32))], 1)
    # Nothing was changed by the refused calls.
    np.testing.assert_array_equal(kernel(x, np.array([0, 2])), np.full((2, 2), 4, np.float32))
