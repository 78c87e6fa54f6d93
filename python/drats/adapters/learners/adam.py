"""Adam for the torch learners, without ``torch.optim``.

``torch.optim``'s optimizers import ``torch._dynamo`` the first time one is built or stepped
(over two seconds on a 2-core VM, more than importing torch itself), which a training run that
never compiles anything should not pay at start-up. This Adam has ``torch.optim.Adam``'s update
(its fused kernel where torch has one, the same arithmetic with foreach ops otherwise) and its
``state_dict`` layout, so checkpoints written with either load into the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

#: The flags of a ``torch.optim.Adam`` parameter group, as this optimiser honours them.
_FLAGS = {
    "weight_decay": 0,
    "amsgrad": False,
    "maximize": False,
    "foreach": None,
    "capturable": False,
    "differentiable": False,
    "fused": True,
    "decoupled_weight_decay": False,
}


class Adam:
    """Adam over parameter groups (each a dict with ``params`` and optionally ``lr``).

    Args:
        params: tensors, or parameter groups (dicts with ``params`` and per-group ``lr``).
        lr: learning rate of groups that do not set their own.
        betas: the moment decay rates.
        eps: the term added to the denominator.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        *,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        items = list(params)
        raw = items if items and isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = []
        for group in raw:
            assert isinstance(group, dict)
            settings = {"lr": lr, "betas": betas, "eps": eps, **_FLAGS}
            settings.update({k: v for k, v in group.items() if k != "params"})
            self.param_groups.append({**settings, "params": list(group["params"])})
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step of every parameter that has a gradient."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if p not in self.state:
                    self.state[p] = {
                        "step": torch.zeros((), dtype=torch.float32, device=p.device),
                        "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                        "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                    }
            states = [self.state[p] for p in params]
            _adam(
                params,
                [p.grad for p in params],
                [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [s["step"] for s in states],
                lr=float(group["lr"]),
                betas=group["betas"],
                eps=float(group["eps"]),
            )

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim.Adam``'s layout: per-parameter state by index, then the groups."""
        index: dict[torch.Tensor, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(p, len(index))
                ids.append(index[p])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[p]: dict(s) for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        """Take a :meth:`state_dict` (or ``torch.optim.Adam``'s) whose groups match these; the
        tensors are copied to each parameter's device and dtype."""
        params = [p for group in self.param_groups for p in group["params"]]
        for group, theirs in zip(self.param_groups, saved["param_groups"], strict=True):
            for key in ("lr", "betas", "eps"):
                group[key] = theirs[key]
        state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}
        for i, entry in saved["state"].items():
            p = params[int(i)]
            state[p] = {
                "step": torch.as_tensor(entry["step"], dtype=torch.float32, device=p.device)
                .reshape(())
                .clone(),
                "exp_avg": torch.as_tensor(entry["exp_avg"]).to(p.device, p.dtype).clone(),
                "exp_avg_sq": torch.as_tensor(entry["exp_avg_sq"]).to(p.device, p.dtype).clone(),
            }
        self.state = state


def _adam(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    steps: list[torch.Tensor],
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
) -> None:
    """The update of ``torch.optim.Adam`` (no weight decay, no amsgrad), in place."""
    beta1, beta2 = betas
    torch._foreach_add_(steps, 1)
    fused = getattr(torch, "_fused_adam_", None)
    if fused is not None:  # torch's own fused kernel (CPU and CUDA)
        fused(
            params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2,
            weight_decay=0.0, eps=eps, amsgrad=False, maximize=False,
        )  # fmt: skip
        return
    torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
    for p, m, v, s in zip(params, exp_avgs, exp_avg_sqs, steps, strict=True):
        step = float(s)
        bias1, bias2 = 1 - beta1**step, 1 - beta2**step
        denom = (v.sqrt() / bias2**0.5).add_(eps)
        p.addcdiv_(m, denom, value=-lr / bias1)


__all__ = ["Adam"]
