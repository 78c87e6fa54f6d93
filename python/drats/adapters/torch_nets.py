"""torch building blocks shared by the policy adapters: a multi-head MLP, device choice and the
conversion of torch state to the numpy state trees that checkpoints hold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from drats.domain.errors import ConfigError


def pick_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when available, else CPU; ``"cuda"`` without CUDA is a ConfigError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"device must be auto, cpu or cuda, got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no CUDA device")
    return torch.device(device)


class MultiHeadMLP(nn.Module):
    """A shared ReLU torso and one linear head per task, picked by the task id.

    All K heads are one ``[hidden, K * out]`` matrix: the forward pass computes every head and
    gathers the row's own, which is cheaper than indexing K weight matrices for small ``out``.
    With ``multi_head=False`` a single head serves every task. ``hidden=()`` makes it linear.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        num_tasks: int,
        *,
        hidden: Sequence[int] = (400, 400, 400),
        multi_head: bool = True,
        head_gain: float = 1.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            linear = nn.Linear(width, h)
            nn.init.orthogonal_(linear.weight, math.sqrt(2.0))
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.ReLU()]
            width = h
        self.torso = nn.Sequential(*layers)
        self.heads = num_tasks if multi_head else 1
        self.out_dim = out_dim
        self.head = nn.Linear(width, self.heads * out_dim)
        nn.init.orthogonal_(self.head.weight, head_gain)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.torso(x))
        if self.heads == 1:
            return out
        out = out.view(x.shape[0], self.heads, self.out_dim)
        index = task_ids.view(-1, 1, 1).expand(-1, 1, self.out_dim)
        picked: torch.Tensor = out.gather(1, index).squeeze(1)
        return picked


def to_numpy_tree(node: Any) -> Any:
    """A torch state (nested dicts/lists of tensors) with every tensor as a CPU numpy array."""
    if isinstance(node, torch.Tensor):
        return node.detach().cpu().numpy().copy()
    if isinstance(node, dict):
        return {k: to_numpy_tree(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(to_numpy_tree(v) for v in node)
    return node


def to_torch_tree(node: Any) -> Any:
    """Inverse of :func:`to_numpy_tree` (tensors on the CPU; ``load_state_dict`` moves them)."""
    if isinstance(node, np.ndarray):
        return torch.from_numpy(np.array(node))
    if isinstance(node, dict):
        return {k: to_torch_tree(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(to_torch_tree(v) for v in node)
    return node


def set_threads(threads: int) -> None:
    """Use at most ``threads`` CPU threads for torch's intra-op work (once per process)."""
    if torch.get_num_threads() != threads:
        torch.set_num_threads(int(threads))
