"""The learners' own Adam takes the very steps of ``torch.optim.Adam`` (fused and not), and
their state dicts load into each other."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from drats.adapters.learners.adam import Adam  # noqa: E402


def _params(seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = [(7, 5), (5,), (3, 7)]
    return [torch.randn(s, generator=gen).requires_grad_(True) for s in shapes]


def _steps(opt: object, params: list[torch.Tensor], n: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(n):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen) * 3.0
        opt.step()  # type: ignore[attr-defined]


@pytest.mark.parametrize("fused", [True, False])
def test_steps_match_torch_adam(fused: bool) -> None:
    ours, theirs = _params(0), _params(0)
    mine = Adam(ours, lr=3e-3, eps=1e-5)
    reference = torch.optim.Adam(theirs, lr=3e-3, eps=1e-5, fused=fused, foreach=not fused or None)
    _steps(mine, ours, 25, seed=1)
    _steps(reference, theirs, 25, seed=1)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_state_dicts_load_into_each_other() -> None:
    ours, theirs = _params(2), _params(2)
    mine = Adam(ours, lr=1e-2, eps=1e-5)
    reference = torch.optim.Adam(theirs, lr=1e-2, eps=1e-5)
    _steps(reference, theirs, 5, seed=3)
    with torch.no_grad():
        for a, b in zip(ours, theirs, strict=True):
            a.copy_(b)
    mine.load_state_dict(reference.state_dict())
    _steps(mine, ours, 5, seed=4)
    _steps(reference, theirs, 5, seed=4)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    back = torch.optim.Adam(_params(2), lr=1e-2, eps=1e-5)
    back.load_state_dict(mine.state_dict())
    assert int(back.state_dict()["state"][0]["step"]) == 10
