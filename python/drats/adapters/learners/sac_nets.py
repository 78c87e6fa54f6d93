"""The networks and the sampling rule of the torch SAC learner: twin critics run as one batched
network, the tanh-squashed Gaussian sample with its log-probability, and the reduced-precision
matmul switch."""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


class TwinCritic(nn.Module):
    """Two multi-head MLP critics Q(s, a) held as ONE batched network.

    Layer ``i`` of both critics is a weight ``[2, in, out]`` and a bias ``[2, 1, out]``; the
    forward pass is one ``torch.baddbmm`` per layer for both critics (no Python loop over
    critics or tasks). Heads are the last layer's ``K`` (or 1) output columns, the row's own
    picked by its task id. Initialisation as :class:`MultiHeadMLP`: orthogonal (gain sqrt 2)
    hidden weights, orthogonal (gain 1) heads, zero biases.
    """

    def __init__(
        self,
        in_dim: int,
        num_tasks: int,
        *,
        hidden: Sequence[int],
        multi_head: bool,
        out_dim: int = 1,
    ) -> None:
        super().__init__()
        self.heads = num_tasks if multi_head else 1
        self.out_dim = out_dim
        widths = [in_dim, *hidden, self.heads * out_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
            weight = torch.empty(2, fan_in, fan_out)
            gain = 1.0 if i == len(widths) - 2 else math.sqrt(2.0)
            for twin in weight:
                nn.init.orthogonal_(twin, gain)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(torch.zeros(2, 1, fan_out)))

    def forward(
        self, x: torch.Tensor, task_ids: torch.Tensor, *, frozen: bool = False
    ) -> torch.Tensor:
        """Q-values ``[2, B]`` of ``x = [obs, action]`` rows ``[B, in]`` (``[2, B, out_dim]``
        of ``x = obs`` when ``out_dim > 1``: one value per discrete action); ``frozen`` uses
        detached weights, so gradients reach ``x`` but no critic parameter."""
        h = x.unsqueeze(0).expand(2, -1, -1)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if frozen:
                w, b = w.detach(), b.detach()
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.relu_(h)
        if self.heads > 1:
            out = self.out_dim
            h = h.view(2, h.shape[1], self.heads, out)
            h = h.gather(2, task_ids.view(1, -1, 1, 1).expand(2, -1, 1, out)).squeeze(2)
        return h.squeeze(-1) if self.out_dim == 1 else h


@contextlib.contextmanager
def fast_matmul(device: torch.device, enabled: bool = True) -> Iterator[None]:
    """Within the block, float32 matmuls on ``device`` may round their inputs (bfloat16 via
    oneDNN on the CPU, TF32 on CUDA; float32 accumulation and output). The setting is
    process-wide while the block runs and is restored after it."""
    if not enabled:
        yield
        return
    backends: Any = torch.backends
    backend = backends.mkldnn.matmul if device.type == "cpu" else backends.cuda.matmul
    before = backend.fp32_precision
    backend.fp32_precision = "bf16" if device.type == "cpu" else "tf32"
    try:
        yield
    finally:
        backend.fp32_precision = before


def squashed_sample(
    out: torch.Tensor, noise: torch.Tensor, log_std_min: float, log_std_max: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """tanh(mean + std * noise) and its log-probability (tanh correction included).

    ``out`` is the actor's ``[B, 2A]`` output (mean, then log-std clipped to
    ``[log_std_min, log_std_max]``); ``log(1 - tanh(u)^2)`` is computed as
    ``2 (log 2 - u - softplus(-2u))``, which stays finite for large ``|u|``.
    """
    mean, log_std = out.chunk(2, dim=-1)
    log_std = log_std.clamp(log_std_min, log_std_max)
    u = mean + noise * log_std.exp()
    gauss = -0.5 * noise * noise - log_std - _HALF_LOG_2PI
    correction = 2.0 * (_LOG_2 - u - nn.functional.softplus(-2.0 * u))
    return torch.tanh(u), (gauss - correction).sum(-1)
