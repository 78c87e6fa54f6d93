"""Uniform task sampling in C++: the DRATS code of :class:`drats.DratsSampler` with step
size 0, so q stays 1/K exactly. Its numpy oracle is
:class:`~drats.adapters.samplers.numpy_uniform.NumpyUniformSampler` (a module of its own, which
imports without the C++ extension)."""

from __future__ import annotations

from collections.abc import Sequence

from drats.adapters.samplers.drats import DratsSampler


class UniformSampler(DratsSampler):
    """Uniform task sampling: the DRATS code with step size 0, so q stays 1/K exactly.

    Gaps are still computed at every ``update`` (useful for logging), as ``gap`` says.
    """

    kind = "uniform"

    def __init__(
        self,
        num_tasks: int,
        *,
        target: float | Sequence[float] = 5000.0,
        seed: int = 0,
        gap: str = "target",
    ) -> None:
        super().__init__(
            num_tasks, eta=1.0, step_size=0.0, eps=0.0, target=target, seed=seed, gap=gap
        )
