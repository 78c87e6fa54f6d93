"""Uniform task sampling in pure numpy: the oracle of the C++ :class:`drats.UniformSampler`,
the numpy DRATS code with step size 0. Kept apart from the C++ one so that it imports without
the extension ``drats._core``, as every numpy sampler does."""

from __future__ import annotations

from collections.abc import Sequence

from drats.adapters.samplers.numpy_drats import NumpyDratsSampler


class NumpyUniformSampler(NumpyDratsSampler):
    """Uniform task sampling in numpy: the DRATS code with step size 0 (q stays 1/K)."""

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
